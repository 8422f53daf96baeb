"""The report of a tagging run: report.md + report.html in the run dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any


from framework.reporting import plots
from framework.reporting.document import Document
from framework.reporting.run_sections import add_environment_and_config

EXAMPLES = 8


def _history_series(history: list[dict]) -> dict[str, list[float]]:
    """Per-epoch curves for the plot: training loss and every dev/* headline metric."""
    keys = [k for k in (history[0] if history else {}) if k == "loss" or (k.startswith("dev/") and "/" not in k[4:])]
    keep = [k for k in keys if k in ("loss", "dev/accuracy", "dev/f1", "dev/precision", "dev/recall")]
    return {key: [float(h.get(key, float("nan"))) for h in history] for key in keep}


def _pick_examples(examples: list[tuple], count: int) -> list[tuple]:
    """Sentences with mistakes first (the informative ones), then correct ones, in corpus order."""
    wrong = [e for e in examples if list(e[1]) != list(e[2])]
    right = [e for e in examples if list(e[1]) == list(e[2])]
    return (wrong[: count - 2] + right[:2])[:count] if wrong else right[:count]


def _summary(metrics: dict[str, Any], task: str) -> dict[str, Any]:
    headline = "accuracy" if task == "pos" else "f1"
    rows = {}
    for split in ("dev", "test"):
        if f"{split}/{headline}" in metrics:
            low, high = metrics.get(f"{split}/{headline}_ci_low"), metrics.get(f"{split}/{headline}_ci_high")
            ci = f" (95% CI {low:.4f}–{high:.4f})" if low is not None else ""
            rows[f"{split} {headline}"] = f"{metrics[f'{split}/{headline}']:.4f}{ci}"
            for key in ("accuracy", "precision", "recall", "macro_f1"):
                if key != headline and f"{split}/{key}" in metrics:
                    rows[f"{split} {key}"] = metrics[f"{split}/{key}"]
    return rows


def _timing(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("epochs", "best_epoch", "train/seconds", "train/wall_seconds", "train/words_per_second",
            "train/padding_fraction", "test/words_per_second")  # fmt: skip
    return {key: metrics[key] for key in keys if key in metrics}


def write_tagger_report(
    run_dir: Path, cfg: Any, metrics: dict[str, Any], details: dict[str, tuple], history: list[dict],
    environment: dict[str, str],
) -> list[Path]:  # fmt: skip
    """Metrics, per-label table, confusion heatmap, learning curves, examples, timing, environment."""
    task = cfg.data.task
    doc = Document(f"{cfg.experiment_name}: {cfg.model.name} on {cfg.data.name}")
    doc.paragraph(f"Task: {task}. Metrics are fractions (1.0 = 100%); spans are counted as conlleval counts them.")
    doc.heading("Metrics").key_values(_summary(metrics, task))
    split = "test" if "test" in details else "dev"
    if split in details:
        scores, examples = details[split]
        doc.heading(f"Per label ({split})")
        columns = ["label", "precision", "recall", "f1", "support", "predicted"]
        doc.table(columns, [[row[c] for c in columns] for row in scores.per_label])
        doc.image(f"{split}_f1_per_label", plots.bar_chart(
            [r["label"] for r in scores.per_label], [r["f1"] for r in scores.per_label],
            f"F1 per label ({split})", "F1"), alt=f"F1 per label on {split}")  # fmt: skip
        doc.heading(f"Confusion matrix ({split}, tokens)")
        doc.image(f"{split}_confusion", plots.confusion_heatmap(scores.confusion_labels, scores.confusion),
                  alt="token confusion matrix")  # fmt: skip
        doc.heading(f"Example sentences ({split}: gold vs predicted)")
        doc.tagged_examples(_pick_examples(examples, EXAMPLES))
    if history:
        doc.heading("Learning curves")
        doc.image("learning_curves", plots.learning_curves(_history_series(history)), alt="learning curves")
    doc.heading("Run time and speed").key_values(_timing(metrics))
    add_environment_and_config(doc, environment, cfg)
    return doc.save(run_dir, stem="report")
