"""Per-epoch pruning of Optuna trials that run in this process.

The Optuna sweeper makes its current trial active around an in-process launch; the training
loop's dev-selection callback calls :func:`report_epoch` after every epoch (through
``checkpointing.EPOCH_HOOKS``), which reports the dev metric and raises ``optuna.TrialPruned``
when the pruner says this trial cannot catch up. Nothing happens when no trial is active, so
single runs and grid sweeps never pay for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_active: Any = None


@contextlib.contextmanager
def active(trial: Any) -> Iterator[None]:
    """Make ``trial`` (an ``optuna.Trial``, or None for no pruning) the one epochs report to."""
    global _active
    if trial is None:
        yield
        return
    from framework.training import checkpointing

    previous, _active = _active, trial
    checkpointing.EPOCH_HOOKS.append(report_epoch)
    try:
        yield
    finally:
        checkpointing.EPOCH_HOOKS.remove(report_epoch)
        _active = previous


def report_epoch(epoch: int, monitor: str, value: float) -> None:
    """Report a finished epoch's dev metric; raise ``optuna.TrialPruned`` to stop the trial."""
    if _active is None:
        return
    import optuna

    _active.report(float(value), step=epoch)
    if _active.should_prune():
        raise optuna.TrialPruned(f"pruned after epoch {epoch}: {monitor}={value:.4f}")
