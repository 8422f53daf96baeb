"""Classification metrics in numpy: accuracy, per-class P/R/F1, macro F1, ROC AUC, bootstrap.

Labels are integer ids ``0..num_labels-1`` (the classifier's output order). Macro F1 is the
headline because spam filtering, like most text classification, is imbalanced: a model that
always says "ham" has 87% accuracy on SMS spam but a macro F1 of 0.46. ROC AUC is computed
from ranks (the Mann-Whitney U statistic), with tied scores sharing their average rank, so
it needs no threshold and no sklearn.
"""

from __future__ import annotations

import numpy as np


def _check(gold: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gold, pred = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    if gold.shape != pred.shape or gold.ndim != 1:
        raise ValueError(f"gold {gold.shape} and predictions {pred.shape} must be equal-length vectors")
    return gold, pred


def confusion_counts(gold: np.ndarray, pred: np.ndarray, num_labels: int) -> np.ndarray:
    """[labels, labels] int64 counts; rows are gold, columns predicted."""
    gold, pred = _check(gold, pred)
    flat = np.bincount(gold * num_labels + pred, minlength=num_labels * num_labels)
    return flat.reshape(num_labels, num_labels)


def scores_from_confusion(confusion: np.ndarray) -> dict[str, np.ndarray | float]:
    """Accuracy, per-class precision/recall/F1 and macro F1 from a confusion matrix.

    Works on one matrix [L, L] or a stack [..., L, L] (bootstrap resamples). Precision of a
    class never predicted, and recall of a class absent from gold, are 0; macro F1 averages
    F1 over all ``L`` classes, so a class the model never predicts drags it down.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    support, predicted = confusion.sum(axis=-1), confusion.sum(axis=-2)
    total = support.sum(axis=-1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0)
    accuracy = np.divide(hits.sum(axis=-1), total, out=np.zeros_like(total), where=total > 0)
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1,
            "macro_f1": f1.mean(axis=-1), "support": support, "predicted": predicted}  # fmt: skip


def accuracy(gold: np.ndarray, pred: np.ndarray) -> float:
    """Fraction of examples predicted correctly (0 for none)."""
    gold, pred = _check(gold, pred)
    return float(np.mean(gold == pred)) if gold.size else 0.0


def macro_f1(gold: np.ndarray, pred: np.ndarray, num_labels: int) -> float:
    """Unweighted mean of the per-class F1 over all ``num_labels`` classes."""
    return float(scores_from_confusion(confusion_counts(gold, pred, num_labels))["macro_f1"])


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # mean of starts+1 .. ends
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative.

    ``(sum of positive ranks - P (P + 1) / 2) / (P * N)``, ties counting one half. NaN when
    either class is absent (the area is undefined).

    Args:
        positive: booleans (or 0/1), True for the positive class.
        scores: the positive class's score (e.g. probability), same length.
    """
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if positive.shape != scores.shape:
        raise ValueError(f"{positive.shape} labels but {scores.shape} scores")
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum = average_ranks(scores)[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct score threshold, from (0, 0) to (1, 1).

    Returns:
        (fpr, tpr, thresholds): predicting positive for ``score >= thresholds[i]`` gives
        ``(fpr[i], tpr[i])``; the first threshold is +inf (nothing positive). The trapezoid
        area under (fpr, tpr) equals :func:`roc_auc`.
    """
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], positive[order]
    last_of_run = np.r_[ordered[1:] != ordered[:-1], True]
    tp = np.cumsum(hits)[last_of_run]
    fp = np.cumsum(~hits)[last_of_run]
    n_pos, n_neg = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    fpr = np.r_[0.0, fp / n_neg]
    tpr = np.r_[0.0, tp / n_pos]
    return fpr, tpr, np.r_[np.inf, ordered[last_of_run]]


def bootstrap_intervals(
    gold: np.ndarray, pred: np.ndarray, num_labels: int, n: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of accuracy and macro F1, resampling examples.

    Each resample's confusion matrix is counted at once from (gold, predicted) pair ids, so
    1,000 resamples of a test set take milliseconds; both metrics use the same resamples.

    Returns:
        ``{"accuracy": (low, high), "macro_f1": (low, high)}`` at the 1 - alpha level.
    """
    gold, pred = _check(gold, pred)
    if gold.size == 0:
        raise ValueError("cannot bootstrap an empty set")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, gold.size, size=(n, gold.size))
    pairs = (gold * num_labels + pred)[samples] + (np.arange(n) * num_labels * num_labels)[:, None]
    confusion = np.bincount(pairs.ravel(), minlength=n * num_labels * num_labels).reshape(n, num_labels, num_labels)
    scores = scores_from_confusion(confusion)
    return {name: tuple(float(q) for q in np.quantile(scores[name], [alpha / 2, 1 - alpha / 2]))
            for name in ("accuracy", "macro_f1")}  # fmt: skip
