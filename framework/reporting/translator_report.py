"""The report of a translation run: report.md + report.html in the run dir.

BLEU first with its sacrebleu signature (a BLEU number without one is not comparable), then
chrF and TER, sample translations to read (the scores alone do not show what goes wrong),
attention heatmaps, length statistics (a too-short output costs BLEU through the brevity
penalty), learning curves, run time and decoding speed, and the environment with each RNN
layer's kernel. All text from the data goes through Document's escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framework.reporting import plots
from framework.reporting.document import Document
from framework.reporting.run_sections import add_environment_and_config

SAMPLES = 12
HEATMAPS = 3
MAX_HEATMAP_PIECES = 30  # pick short sentences for heatmaps, so the plot stays readable
LENGTH_BUCKETS = ((1, 10), (11, 20), (21, 30), (31, None))
CURVE_KEYS = ("loss", "dev/bleu", "dev/chrf")


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {
        "selected on": f"{metrics.get('objective_name')} ({metrics.get('dev/decode')}, first "
                       f"{metrics.get('dev/sentences')} dev pairs; best epoch {metrics.get('best_epoch')})",
    }  # fmt: skip
    for key in ("dev/bleu", "dev/chrf"):
        if key in metrics:
            rows[key] = metrics[key]
    if "test/bleu" in metrics:
        rows["test/bleu"] = f"{metrics['test/bleu']:.2f} (95% CI {metrics['test/bleu_ci_low']:.2f}–" \
                            f"{metrics['test/bleu_ci_high']:.2f})"
        for key in ("test/chrf", "test/ter", "test/bleu_brevity_penalty", "test/length_ratio", "test/decode",
                    "test/sentences"):  # fmt: skip
            rows[key] = metrics[key]
    return rows


def _signatures(metrics: dict[str, Any]) -> list[list[str]]:
    return [[name, metrics[f"test/{name}_signature"]] for name in ("bleu", "chrf", "ter")
            if f"test/{name}_signature" in metrics]  # fmt: skip


def length_rows(sources: Sequence[str], references: Sequence[str], hypotheses: Sequence[str]) -> list[list[Any]]:
    """Mean lengths in words (whitespace), the output/reference ratio, and BLEU per source-length bucket."""
    from framework.evaluation.translation_metrics import corpus_scores

    src = np.asarray([len(s.split()) for s in sources])
    ref = np.asarray([len(s.split()) for s in references])
    hyp = np.asarray([len(s.split()) for s in hypotheses])
    rows = []
    for low, high in ((0, None), *LENGTH_BUCKETS):
        keep = (src >= low) & (src <= high) if high is not None else src >= low
        if not keep.any():
            continue
        label = "all" if low == 0 else (f"{low}–{high}" if high else f"{low}+")
        index = np.flatnonzero(keep)
        bleu = corpus_scores([hypotheses[i] for i in index], [references[i] for i in index], "x")["x/bleu"]
        rows.append([label, int(keep.sum()), float(src[keep].mean()), float(ref[keep].mean()),
                     float(hyp[keep].mean()), float(hyp[keep].sum() / max(ref[keep].sum(), 1)), bleu])  # fmt: skip
    return rows


def _add_heatmaps(doc: Document, model, subwords, test, translations) -> None:
    """Attention of the first few short test sentences (skipped for models without attention)."""
    from framework.inference.translation import attention_matrix

    shown = 0
    for index, (sentence, nbest) in enumerate(zip(test.sources, translations)):
        if shown == HEATMAPS:
            break
        if len(subwords.source.encode([sentence])[0]) > MAX_HEATMAP_PIECES:
            continue
        result = attention_matrix(model, subwords, sentence, nbest[0])
        if result is None:
            doc.paragraph("The model has no attention (pure state hand-over), so there is nothing to plot.")
            return
        if shown == 0:
            doc.heading("Attention")
            doc.paragraph("Teacher-forced attention while producing the model's own output; rows sum to 1.")
        doc.image(f"attention_{index + 1}", plots.attention_heatmap(*result),
                  alt=f"attention weights for test sentence {index + 1}")  # fmt: skip
        shown += 1


def _timing(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("epochs", "best_epoch", "train/seconds", "train/wall_seconds", "train/tokens_per_second",
            "train/source_tokens_per_second", "train/padding_fraction", "test/decode_seconds",
            "test/sentences_per_second", "test/words_per_second")  # fmt: skip
    return {key: metrics[key] for key in keys if key in metrics}


def _data(metrics: dict[str, Any], cfg: Any) -> dict[str, Any]:
    vocabulary = "joint" if metrics.get("vocab/joint") else "separate"
    return {"languages": f"{cfg.data.src_lang} -> {cfg.data.tgt_lang}", "training pairs": metrics.get("train/pairs"),
            f"training pairs over {cfg.data.max_length} pieces (left out)": metrics.get("train/pairs_too_long"),
            "subwords": f"sentencepiece {cfg.data.subword_model}, {vocabulary}",
            "source / target pieces": f"{metrics.get('vocab/source_size')} / {metrics.get('vocab/target_size')}",
            }  # fmt: skip


def write_translator_report(run_dir: Path, cfg: Any, metrics: dict[str, Any], history: list[dict],
                            environment: dict[str, str], model=None, subwords=None, test=None,
                            translations=None) -> list[Path]:  # fmt: skip
    """Metrics with signatures, samples, attention, lengths, curves, timing, data, environment, config."""
    doc = Document(f"{cfg.experiment_name}: {cfg.model.name} on {cfg.data.name}")
    doc.paragraph(f"Task: translation {cfg.data.src_lang} -> {cfg.data.tgt_lang}. BLEU, chrF and TER are sacrebleu "
                  "corpus scores (0-100; TER lower is better) of the detokenised, cased output against the raw "
                  "references. Re-score: sacrebleu test.ref.txt -i test.hyp.txt -m bleu chrf ter (files in the "
                  "run dir).")  # fmt: skip
    doc.heading("Metrics").key_values(_summary(metrics))
    if _signatures(metrics):
        doc.table(["metric", "sacrebleu signature"], _signatures(metrics), caption="test scores")
    if test is not None and translations:
        hypotheses = [nbest[0].text for nbest in translations]
        doc.heading("Sample translations (test)")
        rows = [[i + 1, test.sources[i], test.targets[i], hypotheses[i]] for i in range(min(SAMPLES, len(test)))]
        doc.table(["line", "source", "reference", "output"], rows, caption="the first test pairs, in file order")
        if model is not None and subwords is not None:
            _add_heatmaps(doc, model, subwords, test, translations)
        doc.heading("Lengths (test)")
        doc.table(["source words", "sentences", "mean source words", "mean reference words", "mean output words",
                   "output / reference words", "BLEU"], length_rows(test.sources, test.targets, hypotheses),
                  caption="words = whitespace-separated; BLEU per bucket of source length")  # fmt: skip
    if history:
        series = {key: [float(h.get(key, float("nan"))) for h in history] for key in CURVE_KEYS
                  if any(key in h for h in history)}  # fmt: skip
        doc.heading("Learning curves")
        doc.image("learning_curves", plots.learning_curves(series), alt="training loss and dev BLEU/chrF per epoch")
    doc.heading("Run time and speed").key_values(_timing(metrics))
    doc.heading("Data and subwords").key_values(_data(metrics, cfg))
    add_environment_and_config(doc, environment, cfg)
    return doc.save(run_dir, stem="report")
