"""Tests for report plots: valid PNGs for small and large inputs, data labels drawn safely."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from framework.reporting import plots
from framework.reporting.document import PNG_SIGNATURE


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first in a valid PNG."""
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def confusion(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 20, size=(n, n)) + np.diag(rng.integers(50, 500, size=n))


def test_confusion_heatmap_small_with_tricky_labels():
    # PTB tags like '$' and "''" must not be parsed as mathtext.
    labels = ["NN", "$", "''", "$x^", "<script>", "a|b"]
    width, height = png_size(plots.confusion_heatmap(labels, confusion(len(labels))))
    assert 200 < width < 1500 and 200 < height < 1500


def test_confusion_heatmap_caps_large_label_sets():
    labels = [f"TAG{i}" for i in range(45)]
    data = plots.confusion_heatmap(labels, confusion(45), normalize=False)
    width, height = png_size(data)
    assert width < 1600 and height < 1600
    # 30 labels and 45 labels must draw the same grid size, or the cap did nothing.
    capped = png_size(plots.confusion_heatmap(labels[:30], confusion(30)))
    assert abs(capped[1] - height) < 60


def test_most_frequent_keeps_the_largest_gold_rows_in_order():
    counts = np.diag([5.0, 50.0, 1.0, 30.0])
    assert plots._most_frequent(counts, 2).tolist() == [1, 3]
    assert plots._most_frequent(counts, 10).tolist() == [0, 1, 2, 3]


def test_confusion_heatmap_handles_empty_rows_and_no_labels():
    matrix = np.array([[0, 0], [3, 4]])
    png_size(plots.confusion_heatmap(["A", "B"], matrix))
    png_size(plots.confusion_heatmap([], np.zeros((0, 0))))


@pytest.mark.parametrize(
    "matrix", [np.zeros((2, 3)), np.array([[1, -1], [0, 1]]), np.array([[1, np.nan], [0, 1]])]
)
def test_confusion_heatmap_rejects_bad_matrices(matrix):
    with pytest.raises(ValueError):
        plots.confusion_heatmap(["A", "B"], matrix)


def test_learning_curves_split_losses_from_metrics():
    both = plots.learning_curves(
        {"loss": [2.0, 1.0, 0.01], "val_loss": [2.1, 1.5], "accuracy": [0.5, 0.7, 0.9]}
    )
    losses_only = plots.learning_curves({"loss": [1.0, 0.5]})
    # Two panels are drawn side by side, so the figure is about twice as wide.
    assert png_size(both)[0] > 1.6 * png_size(losses_only)[0]


def test_learning_curves_placeholder_for_empty_history():
    png_size(plots.learning_curves({}))
    png_size(plots.learning_curves({"loss": []}))


def test_bar_chart_small_large_and_nan():
    small = plots.bar_chart(["NN", "$", "VB"], [0.9, float("nan"), 0.4], "Per-label F1", "F1")
    large = plots.bar_chart([f"T{i}" for i in range(60)], np.linspace(0, 1, 60), "F1", "F1")
    assert png_size(large)[1] > 2 * png_size(small)[1]
    png_size(plots.bar_chart(["gain", "loss"], [3.0, -2.0], "Deltas", "change"))


def test_bar_chart_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 labels but 1 values"):
        plots.bar_chart(["a", "b"], [1.0], "t", "x")


def test_plots_are_deterministic():
    # Equal inputs give equal bytes, so re-running a report does not churn its plots.
    history = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8]}
    assert plots.learning_curves(history) == plots.learning_curves(history)
