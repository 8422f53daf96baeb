"""The objective a sweep optimises: its direction per task and the value a failed trial reports.

Trials return ``metrics["objective"]`` to the sweeper. A trial that fails must still return
something, so the sweep goes on: the worst value for the objective's direction, which no
successful trial can lose to. Sweepers that can mark a trial as failed (our Optuna sweeper)
recognise it because it is not finite.
"""

from __future__ import annotations

import math

MAXIMIZE, MINIMIZE = "maximize", "minimize"

# Tasks whose dev metric is better when lower (perplexity); every other task maximises
# (accuracy, span F1, macro F1, BLEU).
_MINIMIZING_TASKS = frozenset({"language_model"})


def task_direction(task: str | None) -> str:
    """``maximize`` or ``minimize`` for a task's objective, known before any training starts."""
    return MINIMIZE if task in _MINIMIZING_TASKS else MAXIMIZE


def worst_value(direction: str) -> float:
    """The value a failed trial reports: -inf when maximising, +inf when minimising."""
    if direction not in (MAXIMIZE, MINIMIZE):
        raise ValueError(f"direction must be {MAXIMIZE!r} or {MINIMIZE!r}, got {direction!r}")
    return -math.inf if direction == MAXIMIZE else math.inf


def is_failure_value(value: object) -> bool:
    """Whether a trial's return value means it failed (None, NaN or infinite)."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def sort_key(value: float | None, direction: str, failed: bool) -> tuple[int, float]:
    """Sort key that puts the best objective first and failed trials (or no value) last."""
    if failed or is_failure_value(value):
        return (1, 0.0)
    return (0, -float(value) if direction == MAXIMIZE else float(value))
