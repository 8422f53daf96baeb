"""Tag sentences with a trained tagger and score them as CoNLL does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from framework.data import tagschemes
from framework.data.batching import encode, pad_batch, sorted_batches
from framework.data.vocab import TaggerVocabs
from framework.evaluation import conlleval, token_metrics


def predict_tags(
    model, vocabs: TaggerVocabs, sentences: Sequence[Sequence[str]], batch_size: int,
    features: Sequence[Sequence[Sequence[str]]] | None = None,
) -> list[list[str]]:  # fmt: skip
    """Decoded tags (training scheme) for each sentence; batches are length-sorted, order is kept.

    ``features`` holds each sentence's feature columns (``Sentence.features``) for a tagger
    trained with ``data.feature_columns``.
    """
    features = features if features is not None else [()] * len(sentences)
    encoded = [encode(words, vocabs, features=columns) for words, columns in zip(sentences, features)]
    predicted: list[list[str]] = [[] for _ in sentences]
    for indices in sorted_batches([len(s) for s in sentences], batch_size):
        inputs, _ = pad_batch([encoded[i] for i in indices], multiple=8)
        ids = np.asarray(model.predict_on_batch(inputs))
        for row, i in enumerate(indices):
            predicted[i] = vocabs.tags.decode(ids[row, : len(sentences[i])])
    return predicted


@dataclass(frozen=True)
class TaggingScores:
    """Flat metrics for metrics.json plus the detail tables the report needs."""

    metrics: dict[str, float]
    per_label: list[dict]  # rows: label, precision, recall, f1, support, predicted
    confusion_labels: list[str]
    confusion: np.ndarray


def to_input_scheme(tags: Sequence[Sequence[str]], train_scheme: str, scheme: str) -> list[list[str]]:
    """Tags converted back to the scheme of the input files (what conlleval and users see)."""
    if train_scheme == scheme or "none" in (train_scheme, scheme):
        return [list(t) for t in tags]
    return [tagschemes.convert(t, train_scheme, scheme) for t in tags]


def conlleval_ready(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], scheme: str
) -> tuple[list[list[str]], list[list[str]]]:
    """Tags conlleval can score: IOBES rewritten as the same chunks in IOB2, anything else as is.

    conlleval has no rule for ``S-`` nor for ``B-`` after ``E-``, so scored as IOBES, ``S-PER S-PER``
    is one chunk and predicting ``B-PER E-PER`` for it would count as correct.
    """
    if scheme != "iobes":
        return [list(t) for t in gold], [list(t) for t in pred]
    return ([tagschemes.convert(t, "iobes", "iob2") for t in gold],
            [tagschemes.convert(t, "iobes", "iob2") for t in pred])  # fmt: skip


def score_tagging(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], task: str, split: str, bootstrap: int = 1000,
    *, scheme: str,
) -> TaggingScores:  # fmt: skip
    """Token accuracy for every task; conlleval span P/R/F1 (micro, macro, per type) for ner/chunk.

    Both sequences must be in the input files' ``scheme`` (spans of IOBES are scored through
    :func:`conlleval_ready`). The headline metric gets a 95% bootstrap confidence interval over sentences.
    """
    metrics = {f"{split}/accuracy": token_metrics.token_accuracy(gold, pred), f"{split}/sentences": len(gold)}
    metrics[f"{split}/tokens"] = sum(len(s) for s in gold)
    if task == "pos":
        per_label = token_metrics.per_label_scores(gold, pred)
        rows = [{"label": label, **values} for label, values in per_label.items()]
        if bootstrap:
            low, high = token_metrics.accuracy_bootstrap(gold, pred, n=bootstrap, seed=0)
            metrics.update({f"{split}/accuracy_ci_low": low, f"{split}/accuracy_ci_high": high})
    else:
        span_gold, span_pred = conlleval_ready(gold, pred, scheme)
        spans = conlleval.evaluate(span_gold, span_pred)
        metrics.update(
            {
                f"{split}/precision": spans.precision,
                f"{split}/recall": spans.recall,
                f"{split}/f1": spans.f1,
                f"{split}/macro_f1": spans.macro_f1,
            }
        )
        rows = []
        for kind, values in sorted(spans.per_type.items()):
            metrics[f"{split}/f1/{kind}"] = values.f1
            rows.append(
                {"label": kind, "precision": values.precision, "recall": values.recall, "f1": values.f1,
                 "support": values.gold, "predicted": values.predicted}
            )  # fmt: skip
        if bootstrap:
            low, high = token_metrics.span_f1_bootstrap(span_gold, span_pred, n=bootstrap, seed=0)
            metrics.update({f"{split}/f1_ci_low": low, f"{split}/f1_ci_high": high})
    labels, matrix = token_metrics.confusion_matrix(gold, pred)
    rows.sort(key=lambda row: -row["support"])
    return TaggingScores(metrics, rows, list(labels), matrix)


def headline_metric(task: str) -> str:
    """The dev metric used for model selection: accuracy for POS, span F1 otherwise."""
    return "accuracy" if task == "pos" else "f1"
