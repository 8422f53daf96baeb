"""Plots of a sweep: objective against each parameter, curves of the best trials, Optuna history.

Built like :mod:`framework.reporting.plots`: a ``Figure`` rendered by Agg, never pyplot, and
data text drawn literally (``parse_math=False``), so parameter values such as ``$x`` cannot
crash a plot or render as formulas.
"""

from __future__ import annotations

import io
import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 100
MAX_CATEGORIES = 25  # beyond this a categorical axis is unreadable; such params are skipped


def _png(fig: Figure) -> bytes:
    """PNG bytes without Software metadata, so equal plots give equal bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def _as_numbers(values: Sequence[str]) -> list[float] | None:
    """The values as floats when every one parses (log-spaced rates, unit counts), else None."""
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return numbers if all(math.isfinite(n) for n in numbers) else None


def objective_vs_param(param: str, values: Sequence[str], objectives: Sequence[float], objective: str) -> bytes:
    """Scatter the objective of every finished trial against one swept parameter.

    Numeric values get a numeric axis (log-scaled when they span over two decades, as learning
    rates do); anything else is one column per distinct value in first-seen order. Each trial
    is one point, so repeated configurations show their spread.
    """
    fig = Figure(figsize=(5, 3.6))
    ax = fig.add_subplot()
    numbers = _as_numbers(values)
    if numbers is not None:
        ax.scatter(numbers, objectives, color="#4c72b0", zorder=3)
        positive = [n for n in numbers if n > 0]
        if len(positive) == len(numbers) and max(positive) / min(positive) > 100:
            ax.set_xscale("log")
    else:
        categories = list(dict.fromkeys(str(v) for v in values))
        positions = [categories.index(str(v)) for v in values]
        ax.scatter(positions, objectives, color="#4c72b0", zorder=3)
        ax.set_xticks(range(len(categories)), labels=categories, parse_math=False)
        ax.set_xlim(-0.5, len(categories) - 0.5)
    ax.set_xlabel(param, parse_math=False)
    ax.set_ylabel(objective, parse_math=False)
    ax.set_title(f"{objective} by {param}", parse_math=False)
    ax.grid(True, alpha=0.3)
    return _png(fig)


def is_plottable(values: Sequence[str]) -> bool:
    """Whether a parameter can be drawn: numeric, or a handful of categories."""
    return _as_numbers(values) is not None or len(set(values)) <= MAX_CATEGORIES


def trial_curves(curves: Mapping[str, Sequence[float]], metric: str) -> bytes:
    """One line per trial of a dev metric over epochs, to compare how the best trials learn."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    for label, values in curves.items():
        array = np.asarray(list(values), dtype=float)
        ax.plot(np.arange(1, len(array) + 1), array, marker="o" if len(array) <= 30 else None, markersize=3,
                label=label)  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric, parse_math=False)
    ax.set_title(f"{metric} per epoch, best trials", parse_math=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if curves:
        for text in ax.legend(fontsize=8).get_texts():
            text.set_parse_math(False)
    return _png(fig)


def optimization_history(numbers: Sequence[int], values: Sequence[float], direction: str, objective: str) -> bytes:
    """Optuna's optimisation history: each completed trial's value and the best so far."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    ax.scatter(numbers, values, color="#4c72b0", label="trial", zorder=3)
    best = np.maximum.accumulate(values) if direction == "maximize" else np.minimum.accumulate(values)
    ax.step(numbers, best, where="post", color="#c44e52", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective, parse_math=False)
    ax.set_title("Optimization history", parse_math=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)
