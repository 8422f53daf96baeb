"""Apply a trained classifier to texts and score it: flat metrics plus the report's tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from framework.data.text_classification import TextEncoder, pad_right
from framework.evaluation import classification_metrics as cm
from framework.io import atomic_write_text
from framework.models.classifier import probabilities


def predict_probabilities(model, encoder: TextEncoder, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """Class probabilities [N, labels] in input order; batches are length-sorted to cut padding."""
    encoded = [encoder.encode(text) for text in texts]
    output = model.get_config().get("output", "softmax")
    result = np.zeros((len(texts), len(encoder.labels)), dtype=np.float64)
    order = np.argsort([len(ids) for ids in encoded], kind="stable")
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        logits = np.asarray(model.predict_on_batch(pad_right([encoded[i] for i in indices], multiple=8)))
        result[indices] = probabilities(logits, output)
    return result


@dataclass(frozen=True)
class ClassificationScores:
    """Flat ``<split>/...`` metrics plus the per-class rows, confusion and ROC the report draws."""

    metrics: dict[str, float | int | None]
    per_class: list[dict]  # label, precision, recall, f1, support, predicted
    labels: list[str]
    confusion: np.ndarray
    roc: tuple[np.ndarray, np.ndarray] | None = None  # (fpr, tpr) for binary tasks
    predicted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))


def score_classification(
    gold: np.ndarray, probs: np.ndarray, encoder: TextEncoder, split: str, bootstrap: int = 1000
) -> ClassificationScores:
    """Accuracy, macro F1, per-class P/R/F1, ROC AUC (binary) and bootstrap 95% intervals.

    Args:
        gold: gold label ids [N].
        probs: predicted probabilities [N, labels]; the prediction is the argmax.
        encoder: gives the label names and the positive label.
        split: the key prefix, e.g. "test".
        bootstrap: resamples for the intervals; 0 skips them (per-epoch dev scoring).
    """
    gold = np.asarray(gold, dtype=np.int64)
    labels = list(encoder.labels.tokens)
    predicted = probs.argmax(axis=1)
    confusion = cm.confusion_counts(gold, predicted, len(labels))
    scores = cm.scores_from_confusion(confusion)
    metrics: dict[str, float | int | None] = {
        f"{split}/accuracy": float(scores["accuracy"]),
        f"{split}/macro_f1": float(scores["macro_f1"]),
        f"{split}/examples": int(gold.size),
    }
    rows = []
    for i, label in enumerate(labels):
        for name in ("precision", "recall", "f1"):
            metrics[f"{split}/{name}/{label}"] = float(scores[name][i])
        rows.append({"label": label, "precision": float(scores["precision"][i]), "recall": float(scores["recall"][i]),
                     "f1": float(scores["f1"][i]), "support": int(scores["support"][i]),
                     "predicted": int(scores["predicted"][i])})  # fmt: skip
    roc = None
    if len(labels) == 2 and encoder.positive_label is not None:
        column = encoder.labels.id(encoder.positive_label)
        auc = cm.roc_auc(gold == column, probs[:, column])
        metrics[f"{split}/roc_auc"] = auc if np.isfinite(auc) else None
        fpr, tpr, _ = cm.roc_curve(gold == column, probs[:, column])
        roc = (fpr, tpr)
    if bootstrap and gold.size:
        for name, (low, high) in cm.bootstrap_intervals(gold, predicted, len(labels), n=bootstrap).items():
            metrics[f"{split}/{name}_ci_low"], metrics[f"{split}/{name}_ci_high"] = low, high
    return ClassificationScores(metrics, rows, labels, confusion, roc, predicted, probs.max(axis=1))


def _cell(text: str) -> str:
    """One TSV field: tabs and line breaks become spaces, so every example stays one line."""
    return " ".join(text.replace("\t", " ").splitlines())


def write_predictions(path: Path, gold: Sequence[str] | None, predicted: Sequence[str], confidence: np.ndarray,
                      texts: Sequence[str]) -> None:  # fmt: skip
    """Scored splits: ``gold<TAB>predicted<TAB>probability<TAB>text`` under a header line.
    Without ``gold`` (new texts): ``label<TAB>probability<TAB>text`` lines, no header, one per
    input text, a blank line for a blank text. The probability is that of the predicted label."""
    lines = [] if gold is None else ["gold\tpredicted\tprobability\ttext"]
    for i, text in enumerate(texts):
        if gold is None and not text.strip():
            lines.append("")
            continue
        fields = [predicted[i], f"{confidence[i]:.6f}", _cell(text)]
        lines.append("\t".join(fields if gold is None else [gold[i], *fields]))
    atomic_write_text(path, "\n".join(lines) + "\n")
