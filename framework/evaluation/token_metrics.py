"""Token-level metrics (POS tagging, error analysis) and sentence bootstrap intervals.

Span F1 (:mod:`framework.evaluation.conlleval`) is the headline number for chunking and
NER, but POS taggers are judged per token, and per-label scores and a confusion matrix show
*which* tags a model confuses. Bootstrap intervals say whether a difference between two
runs is larger than the test set's sampling noise; they resample whole sentences because
tokens within a sentence are not independent.

All inputs are tag sequences per sentence (``Sequence[Sequence[str]]``), aligned between
gold and predictions; all scores are fractions in 0..1.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np

from framework.evaluation.conlleval import check_aligned, sentence_span_counts

Tags = Sequence[Sequence[str]]
Metric = Callable[[Tags, Tags], float]


def _flat_pairs(gold: Tags, pred: Tags) -> list[tuple[str, str]]:
    """All (gold, predicted) token pairs, after checking the inputs are aligned."""
    check_aligned(gold, pred)
    return [pair for gold_sent, pred_sent in zip(gold, pred) for pair in zip(gold_sent, pred_sent)]


def token_accuracy(gold: Tags, pred: Tags) -> float:
    """Fraction of tokens whose predicted tag equals the gold tag (0 for no tokens).

    Raises:
        ValueError: the number of sentences, or of tags in a sentence, differs.
    """
    pairs = _flat_pairs(gold, pred)
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def per_label_scores(gold: Tags, pred: Tags) -> dict[str, dict[str, float]]:
    """Token-level precision, recall and F1 for every label seen in gold or predictions.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.

    Returns:
        ``{label: {"precision", "recall", "f1", "support", "predicted"}}`` sorted by
        label; ``support`` and ``predicted`` are token counts (ints). Precision is 0 for
        a label never predicted and recall 0 for a label absent from gold, as in conlleval.

    Raises:
        ValueError: the number of sentences, or of tags in a sentence, differs.
    """
    pairs = _flat_pairs(gold, pred)
    support = Counter(g for g, _ in pairs)
    predicted = Counter(p for _, p in pairs)
    correct = Counter(g for g, p in pairs if g == p)
    scores = {}
    for label in sorted(set(support) | set(predicted)):
        hits, n_gold, n_pred = correct[label], support[label], predicted[label]
        precision = hits / n_pred if n_pred else 0.0
        recall = hits / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": n_gold,
            "predicted": n_pred,
        }
    return scores


def confusion_matrix(
    gold: Tags, pred: Tags, labels: Sequence[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """Count (gold, predicted) label pairs; rows are gold labels, columns predicted ones.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.
        labels: the rows/columns to report, in order. By default every label seen,
            most frequent in gold first (ties and predicted-only labels by name), so the
            top-left corner holds the labels that matter most.

    Returns:
        (labels, matrix) with ``matrix[i, j]`` the number of tokens with gold
        ``labels[i]`` predicted as ``labels[j]`` (int64). Tokens whose gold or predicted
        label is not in an explicit ``labels`` are left out.

    Raises:
        ValueError: the inputs are not aligned, or ``labels`` repeats a label.
    """
    pairs = _flat_pairs(gold, pred)
    if labels is None:
        gold_counts = Counter(g for g, _ in pairs)
        seen = set(gold_counts) | {p for _, p in pairs}
        labels = sorted(seen, key=lambda label: (-gold_counts[label], label))
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError("confusion_matrix: labels must be distinct")
    size = len(labels)
    flat = [index[g] * size + index[p] for g, p in pairs if g in index and p in index]
    counts = np.bincount(np.asarray(flat, dtype=np.int64), minlength=size * size)
    return labels, counts.reshape(size, size).astype(np.int64)


def _resample_indices(num_sentences: int, n: int, seed: int) -> np.ndarray:
    """Sentence indices for ``n`` bootstrap samples, shape (n, num_sentences).

    Every bootstrap function draws from here, so with the same seed they score the
    same resamples and their intervals are directly comparable.
    """
    if num_sentences == 0:
        raise ValueError("cannot bootstrap an empty corpus")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    return rng.integers(0, num_sentences, size=(n, num_sentences))


def _interval(stats: np.ndarray, alpha: float) -> tuple[float, float]:
    """Percentile interval holding 1 - alpha of the bootstrap statistics."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _resampled_sums(rows: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Column sums of ``rows`` (sentences x counts) over each bootstrap sample, (n, counts).

    Summing precomputed per-sentence counts is what makes a 1,000-sample interval on a
    full test set take well under a second instead of re-scoring 1,000 corpora.
    """
    indices = _resample_indices(rows.shape[0], n, seed)
    num_sentences = rows.shape[0]
    offsets = (np.arange(n, dtype=np.int64) * num_sentences)[:, None]
    weights = np.bincount((indices + offsets).ravel(), minlength=n * num_sentences)
    return weights.reshape(n, num_sentences) @ rows


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def bootstrap_interval(
    gold: Tags,
    pred: Tags,
    metric: Metric,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap interval of any corpus metric, resampling sentences.

    This re-runs ``metric`` on every resample, which is general but slow for large ``n``;
    :func:`span_f1_bootstrap` and :func:`accuracy_bootstrap` give the same intervals (same
    seed, same resamples) from precomputed counts.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.
        metric: ``metric(gold, pred) -> float`` on lists of sentences.
        n: number of bootstrap samples.
        seed: seed of the resampling, for reproducible intervals.
        alpha: 1 - confidence level (0.05 gives a 95% interval).

    Returns:
        (low, high) quantiles alpha/2 and 1 - alpha/2 of the resampled metric.

    Raises:
        ValueError: inputs not aligned, no sentences, n < 1 or alpha outside (0, 1).
    """
    check_aligned(gold, pred)
    indices = _resample_indices(len(gold), n, seed)
    stats = np.array(
        [metric([gold[i] for i in sample], [pred[i] for i in sample]) for sample in indices],
        dtype=np.float64,
    )
    return _interval(stats, alpha)


def span_f1_bootstrap(
    gold: Tags, pred: Tags, n: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Bootstrap interval of conlleval's micro span F1, from per-sentence chunk counts.

    Equals ``bootstrap_interval(gold, pred, lambda g, p: evaluate(g, p).f1, n, seed,
    alpha)`` but scores the corpus once: each sentence's (gold, predicted, correct) chunk
    counts are summed per resample.

    Raises:
        ValueError: inputs not aligned, no sentences, n < 1 or alpha outside (0, 1).
    """
    rows = sentence_span_counts(gold, pred)[:, 2:5]
    sums = _resampled_sums(rows, n, seed)
    n_gold, n_pred, n_correct = sums[:, 0], sums[:, 1], sums[:, 2]
    precision = _ratio(n_correct, n_pred)
    recall = _ratio(n_correct, n_gold)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return _interval(f1, alpha)


def accuracy_bootstrap(
    gold: Tags, pred: Tags, n: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Bootstrap interval of :func:`token_accuracy`, from per-sentence token counts.

    Equals ``bootstrap_interval(gold, pred, token_accuracy, n, seed, alpha)``, computed
    from each sentence's (tokens, correct tokens) instead of re-scoring every resample.

    Raises:
        ValueError: inputs not aligned, no sentences, n < 1 or alpha outside (0, 1).
    """
    check_aligned(gold, pred)
    rows = np.array(
        [[len(g), sum(a == b for a, b in zip(g, p))] for g, p in zip(gold, pred)],
        dtype=np.int64,
    ).reshape(-1, 2)
    sums = _resampled_sums(rows, n, seed)
    return _interval(_ratio(sums[:, 1], sums[:, 0]), alpha)
