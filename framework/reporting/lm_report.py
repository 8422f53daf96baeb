"""The report of a language-model run: report.md + report.html in the run dir.

Perplexity first (the number runs are compared on), then its curve over epochs, then samples at
several temperatures (read them: perplexity alone does not show whether the verse is any good),
then the corpus and vocabulary, run time and the environment. Generated text is data and goes
through Document's escaping like everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


from framework.inference.generation import Generation
from framework.reporting import plots
from framework.reporting.document import Document
from framework.reporting.run_sections import add_environment_and_config

CURVE_KEYS = ("loss", "dev/loss", "dev/perplexity")


def _history_series(history: list[dict]) -> dict[str, list[float]]:
    """Per-epoch training loss, dev loss and dev perplexity (the other history keys are timings)."""
    return {key: [float(h.get(key, float("nan"))) for h in history] for key in CURVE_KEYS
            if any(key in h for h in history)}  # fmt: skip


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("dev/perplexity", "dev/loss", "dev/bits_per_token", "test/perplexity", "test/loss", "best_epoch",
            "epochs")  # fmt: skip
    return {key: metrics[key] for key in keys if key in metrics}


def _corpus_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for split in ("train", "dev", "test"):
        if f"{split}/lines" in metrics:
            rows.append([split, metrics[f"{split}/lines"], metrics[f"{split}/tokens"], metrics[f"{split}/unk_rate"]])
    return rows


def _timing(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("train/seconds", "train/wall_seconds", "train/tokens_per_second", "train/tokens_per_epoch",
            "dev/tokens_per_second", "test/tokens_per_second")  # fmt: skip
    return {key: metrics[key] for key in keys if key in metrics}


def _add_samples(doc: Document, samples: Sequence[Generation]) -> None:
    prompt = samples[0].prompt if samples else ""
    doc.heading("Samples")
    doc.paragraph(f"Prompt: {prompt!r} ({'from the start of a line' if not prompt else 'continued'}). "
                  "The same seeds at every temperature; lower temperatures are safer and more repetitive.")  # fmt: skip
    for sample in samples:
        doc.heading(f"temperature {sample.temperature:g}, seed {sample.seed}", level=3)
        doc.code(sample.text or "(empty)")


def write_lm_report(
    run_dir: Path, cfg: Any, metrics: dict[str, Any], history: list[dict], samples: Sequence[Generation],
    environment: dict[str, str],
) -> list[Path]:  # fmt: skip
    """Perplexity, learning curves, samples, corpus/vocabulary stats, timing, environment, config."""
    doc = Document(f"{cfg.experiment_name}: {cfg.model.name} on {cfg.data.name}")
    doc.paragraph(f"Task: language model (one-to-many text generation). Perplexity is per "
                  f"{metrics.get('vocab/tokenizer', cfg.data.tokenizer)} token, end-of-line tokens included; "
                  "lower is better. Runs with different tokenisers are not comparable by perplexity.")  # fmt: skip
    doc.heading("Metrics").key_values(_summary(metrics))
    if history:
        doc.heading("Learning curves")
        doc.image("learning_curves", plots.learning_curves(_history_series(history)),
                  alt="training loss, dev loss and dev perplexity per epoch")  # fmt: skip
    _add_samples(doc, samples)
    doc.heading("Corpus and vocabulary")
    doc.key_values({"tokenizer": metrics.get("vocab/tokenizer"), "vocabulary size": metrics.get("vocab/size"),
                    "dev text": metrics.get("dev/source", "")})  # fmt: skip
    doc.table(["split", "lines", "tokens", "unknown rate"], _corpus_rows(metrics), caption="tokens per split")
    doc.heading("Run time and speed").key_values(_timing(metrics))
    add_environment_and_config(doc, environment, cfg)
    return doc.save(run_dir, stem="report")
