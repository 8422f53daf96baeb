"""Small, readable report plots returned as PNG bytes, ready for ``Document.image``.

Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg canvas
directly, never through pyplot: no global figure state, no display needed, and plots can
be made from several threads or workers without interfering. Labels from data (tags such
as ``$`` or ``''``) are drawn literally, with mathtext parsing switched off, so a label
cannot crash the plot or render as a formula.
"""

from __future__ import annotations

import io
import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 100
MAX_HEATMAP_LABELS = 30  # beyond this, cells are too small to read
MAX_ANNOTATED_LABELS = 20  # beyond this, annotated counts overlap
MAX_TICK_CHARS = 24  # longer labels are shortened so they do not squeeze the plot


def _png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes; no Software metadata, so equal plots give equal bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def _short(label: str, limit: int = MAX_TICK_CHARS) -> str:
    """Shorten a label for a tick, keeping its start, which is what readers scan."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _placeholder(title: str, message: str) -> bytes:
    """A small plot saying why there is nothing to draw, so a report still has its figure."""
    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, parse_math=False)
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#666", parse_math=False)
    return _png(fig)


def _most_frequent(counts: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` labels with the most gold tokens, in their original order.

    Ties are broken by how often a label is predicted, so a label the model over-predicts
    is kept over one that nobody uses. Keeping the caller's order (often alphabetical or
    by frequency already) makes the kept labels easy to find.
    """
    if len(counts) <= limit:
        return np.arange(len(counts))
    order = np.lexsort((-counts.sum(axis=0), -counts.sum(axis=1)))
    return np.sort(order[:limit])


def _annotate_cells(ax, counts: np.ndarray, shade: np.ndarray) -> None:
    """Write each non-zero count in its cell, white on dark cells so it stays legible."""
    size = 9 if len(counts) <= 10 else 7
    for row, col in zip(*np.nonzero(counts)):
        value = counts[row, col]
        text = str(int(value)) if float(value).is_integer() else format(value, ".3g")
        colour = "white" if shade[row, col] > 0.5 else "black"
        ax.text(col, row, text, ha="center", va="center", fontsize=size, color=colour)


def confusion_heatmap(
    labels: Sequence[str],
    matrix: np.ndarray,
    title: str = "Confusion matrix (rows: gold, columns: predicted)",
    normalize: bool = True,
) -> bytes:
    """Plot a confusion matrix as a heatmap.

    Colours are row-normalised by default, so a rare label's errors are as visible as a
    frequent one's; each row is divided by its full gold total, so a row that does not
    reach 1 shows how much went to labels left off the plot. With more than 30 labels
    only the 30 most frequent (by gold count) are shown; counts are written in the cells
    when at most 20 labels are shown.

    Args:
        labels: Label names, in the order of the matrix rows and columns.
        matrix: Square array of counts, rows gold and columns predicted.
        title: Plot title.
        normalize: Colour by row fraction (True) or by raw count (False).

    Raises:
        ValueError: If the matrix is not square, does not match ``labels``, or holds
            negative or non-finite values.
    """
    names = [str(label) for label in labels]
    counts = np.asarray(matrix, dtype=float)
    if counts.shape != (len(names), len(names)):
        raise ValueError(f"matrix shape {counts.shape} does not match {len(names)} labels")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("confusion counts must be finite and non-negative")
    if not names:
        return _placeholder(title, "No labels to show")
    totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    keep = _most_frequent(counts, MAX_HEATMAP_LABELS)
    counts, fractions = counts[np.ix_(keep, keep)], fractions[np.ix_(keep, keep)]
    if len(keep) < len(names):
        title = f"{title}\n({len(keep)} most frequent of {len(names)} labels)"
    colours = fractions if normalize else counts
    peak = 1.0 if normalize else max(float(counts.max()), 1.0)
    side = min(max(4.5, 0.32 * len(keep) + 2.5), 14.0)
    fig = Figure(figsize=(side + 1.0, side))
    ax = fig.add_subplot()
    image = ax.imshow(colours, cmap="Blues", vmin=0.0, vmax=peak, interpolation="nearest")
    colourbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colourbar.set_label("fraction of gold row" if normalize else "count")
    shown = [_short(names[i]) for i in keep]
    ax.set_xticks(range(len(keep)), labels=shown, rotation=90, parse_math=False)
    ax.set_yticks(range(len(keep)), labels=shown, parse_math=False)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, parse_math=False)
    if len(keep) <= MAX_ANNOTATED_LABELS:
        _annotate_cells(ax, counts, colours / peak)
    return _png(fig)


def _wants_log_scale(group: Mapping[str, np.ndarray]) -> bool:
    """Log-scale a loss panel when it spans over two decades, so late epochs stay visible."""
    values = np.concatenate(list(group.values()))
    values = values[np.isfinite(values)]
    return values.size > 0 and values.min() > 0 and values.max() / values.min() > 100


def _draw_panel(ax, title: str, group: Mapping[str, np.ndarray], log_ok: bool) -> None:
    """Draw one panel of learning curves, one line per history key."""
    for key, values in group.items():
        epochs = np.arange(1, len(values) + 1)
        marker = "o" if len(values) <= 30 else None  # a one-epoch run still shows a point
        ax.plot(epochs, values, marker=marker, markersize=3, label=key)
    if log_ok and _wants_log_scale(group):
        ax.set_yscale("log")
    ax.set_title(title, parse_math=False)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    legend = ax.legend(fontsize=8)
    for text in legend.get_texts():
        text.set_parse_math(False)


def learning_curves(history: Mapping[str, Sequence[float]]) -> bytes:
    """Plot a Keras-style history: losses in one panel, every other metric in another.

    Losses and metrics live on different scales, so sharing one axis would flatten one
    of them. Epochs are 1-based, as Keras prints them. A series may be shorter than the
    others (e.g. validation run every few epochs) and is drawn over its own length; an
    empty group gets no panel, and an empty history a placeholder.

    Args:
        history: Metric name to per-epoch values, e.g. ``model.fit(...).history``.

    Raises:
        ValueError: If a series holds values that are not numbers.
    """
    series = {}
    for key, values in history.items():
        array = np.asarray(list(values), dtype=float)
        if array.size:
            series[str(key)] = array
    losses = {k: v for k, v in series.items() if "loss" in k}
    metrics = {k: v for k, v in series.items() if "loss" not in k}
    panels = [(t, g) for t, g in (("Loss", losses), ("Metrics", metrics)) if g]
    if not panels:
        return _placeholder("Learning curves", "No history recorded")
    fig = Figure(figsize=(5.5 * len(panels), 4))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, group) in zip(axes, panels):
        _draw_panel(ax, title, group, log_ok=title == "Loss")
    return _png(fig)


def bar_chart(
    labels: Sequence[str], values: Sequence[float], title: str, xlabel: str
) -> bytes:
    """Plot one horizontal bar per label, value written at the bar's end.

    Horizontal bars keep long label names readable. The first label is at the top, so
    the caller's order (e.g. sorted by frequency) reads top to bottom. When every value
    lies in [0, 1], as for F1 or accuracy, the axis is fixed to that range so charts from
    different runs compare at a glance. A NaN (e.g. F1 of a label never predicted nor
    seen) is drawn as an empty bar labelled ``nan``.

    Raises:
        ValueError: If ``labels`` and ``values`` differ in length.
    """
    names = [str(label) for label in labels]
    numbers = [float(value) for value in values]
    if len(names) != len(numbers):
        raise ValueError(f"{len(names)} labels but {len(numbers)} values")
    if not names:
        return _placeholder(title, "No values to show")
    drawn = [value if math.isfinite(value) else 0.0 for value in numbers]
    fig = Figure(figsize=(6.5, min(max(2.5, 0.26 * len(names) + 1.2), 30.0)))
    ax = fig.add_subplot()
    positions = np.arange(len(names))
    ax.barh(positions, drawn, color="#4c72b0")
    ax.set_yticks(positions, labels=[_short(n) for n in names], parse_math=False)
    ax.invert_yaxis()
    finite = [value for value in numbers if math.isfinite(value)]
    if finite and min(finite) >= 0 and max(finite) <= 1:
        ax.set_xlim(0, 1.12)
    else:
        ax.margins(x=0.15)
    for position, value, bar_end in zip(positions, numbers, drawn):
        text = format(value, ".3g") if math.isfinite(value) else "nan"
        left = bar_end >= 0  # label outside the bar's end, on whichever side it points
        label = f" {text}" if left else f"{text} "
        ax.text(bar_end, position, label, va="center", ha="left" if left else "right", fontsize=8)
    ax.set_xlabel(xlabel, parse_math=False)
    ax.set_title(title, parse_math=False)
    ax.grid(True, axis="x", alpha=0.3)
    return _png(fig)


def roc_curve(fpr: Sequence[float], tpr: Sequence[float], auc: float) -> bytes:
    """Plot a ROC curve (false- vs true-positive rate) with the chance diagonal and its AUC.

    Points are joined by straight lines, which is exact for a finite test set: between two
    thresholds the curve moves only right or up, or diagonally across tied scores. The dashed
    diagonal is a classifier that guesses, so the gap to it is the skill.

    Args:
        fpr: False-positive rates, ascending from 0 to 1.
        tpr: True-positive rates at the same thresholds.
        auc: The area under the curve, shown in the legend.

    Raises:
        ValueError: If ``fpr`` and ``tpr`` differ in length or leave [0, 1].
    """
    x, y = np.asarray(list(fpr), dtype=float), np.asarray(list(tpr), dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{x.size} false-positive rates but {y.size} true-positive rates")
    if x.size == 0:
        return _placeholder("ROC curve", "No scores to show")
    rates = np.concatenate([x, y])
    if not np.all(np.isfinite(rates)) or rates.min() < 0 or rates.max() > 1:
        raise ValueError("ROC rates must be finite fractions in [0, 1]")
    fig = Figure(figsize=(4.8, 4.5))
    ax = fig.add_subplot()
    label = f"AUC = {auc:.4f}" if math.isfinite(float(auc)) else "AUC undefined"
    ax.plot(x, y, color="#4c72b0", linewidth=1.8, label=label)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999", linewidth=1, label="chance")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve", parse_math=False)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    return _png(fig)


MAX_ATTENTION_TOKENS = 60  # beyond this, tick labels overlap; longer sentences are cut


def attention_heatmap(source_tokens: Sequence[str], target_tokens: Sequence[str], weights: np.ndarray) -> bytes:
    """Plot a translator's attention: one row per output token, one column per source token.

    Each row is a distribution over the source (sums to 1), so colours share the fixed scale
    [0, 1] and plots of different sentences compare directly; a clean diagonal band means the
    model reads the source roughly in order. Tokens (subword pieces such as ``▁Haus``) are drawn
    literally. Sentences longer than 60 tokens are cut to their first 60, and the title says so.

    Args:
        source_tokens: the S source tokens (columns).
        target_tokens: the T output tokens (rows).
        weights: attention weights [T, S].

    Raises:
        ValueError: if ``weights`` is not [T, S] or holds values outside [0, 1].
    """
    source, target = [str(t) for t in source_tokens], [str(t) for t in target_tokens]
    matrix = np.asarray(weights, dtype=float)
    if matrix.shape != (len(target), len(source)):
        raise ValueError(f"weights shape {matrix.shape} does not match {len(target)} x {len(source)} tokens")
    if matrix.size == 0:
        return _placeholder("Attention", "No tokens to show")
    if not np.all(np.isfinite(matrix)) or matrix.min() < 0 or matrix.max() > 1 + 1e-6:
        raise ValueError("attention weights must be finite and in [0, 1]")
    title = "Attention (rows: output, columns: source)"
    if len(source) > MAX_ATTENTION_TOKENS or len(target) > MAX_ATTENTION_TOKENS:
        title += f"\n(first {MAX_ATTENTION_TOKENS} tokens of each side)"
    source, target = source[:MAX_ATTENTION_TOKENS], target[:MAX_ATTENTION_TOKENS]
    matrix = matrix[: len(target), : len(source)]
    fig = Figure(figsize=(min(max(4.0, 0.3 * len(source) + 2.0), 20.0), min(max(3.0, 0.3 * len(target) + 1.5), 20.0)))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).set_label("attention weight")
    ax.set_xticks(range(len(source)), labels=[_short(t, 16) for t in source], rotation=90, parse_math=False)
    ax.set_yticks(range(len(target)), labels=[_short(t, 16) for t in target], parse_math=False)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title, parse_math=False)
    return _png(fig)
