"""The report of a text-classification run: report.md + report.html in the run dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from framework.reporting import plots
from framework.reporting.document import Document
from framework.reporting.run_sections import add_environment_and_config

MISTAKES = 10
MAX_TEXT_CHARS = 300  # a long message is cut in the table; the predictions file has it whole


def _with_ci(metrics: dict[str, Any], key: str) -> str:
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    ci = f" (95% CI {low:.4f}–{high:.4f})" if low is not None and high is not None else ""
    return f"{metrics[key]:.4f}{ci}"


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """Headline metrics per split: macro F1 and accuracy with bootstrap intervals, ROC AUC."""
    rows: dict[str, Any] = {"selected on": f"{metrics.get('objective_name')} (best epoch {metrics.get('best_epoch')})"}
    for split in ("dev", "test"):
        for key in ("macro_f1", "accuracy"):
            if f"{split}/{key}" in metrics:
                rows[f"{split} {key}"] = _with_ci(metrics, f"{split}/{key}")
        if metrics.get(f"{split}/roc_auc") is not None:
            rows[f"{split} roc_auc ({metrics.get('positive_label')} vs rest)"] = metrics[f"{split}/roc_auc"]
        if f"{split}/examples" in metrics:
            rows[f"{split} examples"] = metrics[f"{split}/examples"]
    return rows


def _split_table(record: dict) -> tuple[list[str], list[list[Any]]]:
    """Examples per class per split, so a reader can check the stratification."""
    counts = record.get("counts", {})
    labels = sorted({label for split in counts.values() for label in split})
    rows = [[split, *(counts.get(split, {}).get(label, 0) for label in labels), sum(counts.get(split, {}).values())]
            for split in ("train", "dev", "test")]  # fmt: skip
    return ["split", *labels, "total"], rows


def confident_mistakes(scores, examples, count: int = MISTAKES) -> list[list[Any]]:
    """The wrong predictions the model was surest of: label noise or the model's blind spots."""
    labels = scores.labels
    wrong = [i for i, example in enumerate(examples) if labels[scores.predicted[i]] != example.label]
    wrong.sort(key=lambda i: (-scores.confidence[i], i))
    rows = []
    for i in wrong[:count]:
        text = examples[i].text
        text = text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"
        rows.append([examples[i].line, examples[i].label, labels[scores.predicted[i]],
                     round(float(scores.confidence[i]), 4), text])  # fmt: skip
    return rows


def _history_series(history: list[dict], class_weighted: bool = False) -> dict[str, list[float]]:
    """The curves to plot; training accuracy is Keras' weighted metric, so under ``class_weight``
    it is class-weighted and says so (dev accuracy is not)."""
    keep = ("loss", "accuracy", "dev/accuracy", "dev/macro_f1")
    names = {"accuracy": "train accuracy (class-weighted)" if class_weighted else "train accuracy"}
    return {names.get(key, key): [float(h.get(key, float("nan"))) for h in history]
            for key in keep if history and key in history[0]}  # fmt: skip


def _timing(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("epochs", "best_epoch", "train/seconds", "train/wall_seconds", "train/examples_per_second",
            "train/padding_fraction", "test/examples_per_second")  # fmt: skip
    return {key: metrics[key] for key in keys if key in metrics}


def _add_split_details(doc: Document, split: str, scores, examples) -> None:
    """Per-class table, confusion heatmap, ROC curve (binary) and confident mistakes of one split."""
    doc.heading(f"Per class ({split})")
    columns = ["label", "precision", "recall", "f1", "support", "predicted"]
    doc.table(columns, [[row[c] for c in columns] for row in scores.per_class])
    doc.heading(f"Confusion matrix ({split})")
    doc.image(f"{split}_confusion", plots.confusion_heatmap(scores.labels, np.asarray(scores.confusion)),
              alt=f"confusion matrix on {split} (rows gold, columns predicted)")  # fmt: skip
    auc = scores.metrics.get(f"{split}/roc_auc")
    if scores.roc is not None and auc is not None:
        doc.heading(f"ROC curve ({split})")
        doc.image(f"{split}_roc", plots.roc_curve(scores.roc[0], scores.roc[1], auc), alt=f"ROC curve on {split}")
    doc.heading(f"Most confident mistakes ({split})")
    rows = confident_mistakes(scores, examples)
    if rows:
        doc.table(["line", "gold", "predicted", "probability", "text"], rows,
                  caption="line = line number in the corpus file; probability = of the predicted label")  # fmt: skip
    else:
        doc.paragraph("No mistakes.")


def write_classifier_report(
    run_dir: Path, cfg: Any, metrics: dict[str, Any], details: dict[str, tuple], history: list[dict],
    environment: dict[str, str], split_record: dict,
) -> list[Path]:  # fmt: skip
    """Metrics with CIs, split sizes, per-class table, confusion, ROC, mistakes, curves, timing, environment."""
    doc = Document(f"{cfg.experiment_name}: {cfg.model.name} on {cfg.data.name}")
    doc.paragraph(f"Task: text classification ({cfg.model.pooling} pooling, {cfg.model.output} output). "
                  "Metrics are fractions (1.0 = 100%); intervals are 95% bootstrap intervals "
                  "over examples.")  # fmt: skip
    doc.heading("Metrics").key_values(_summary(metrics))
    columns, rows = _split_table(split_record)
    how = (f"stratified split of one file, seed {split_record.get('seed')}" if split_record.get("mode") == "stratified"
           else "one file per split")  # fmt: skip
    doc.heading("Data").table(columns, rows, caption=f"examples per class ({how}; see split.json)")
    split = "test" if "test" in details else "dev"
    if split in details:
        _add_split_details(doc, split, *details[split])
    if history:
        doc.heading("Learning curves")
        series = _history_series(history, class_weighted=cfg.data.get("class_weight") == "balanced")
        doc.image("learning_curves", plots.learning_curves(series), alt="learning curves")
    doc.heading("Run time and speed").key_values(_timing(metrics))
    add_environment_and_config(doc, environment, cfg)
    return doc.save(run_dir, stem="report")
