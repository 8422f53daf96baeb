"""The fit loop every task shares: restore a backup, select on dev, stop early, detect divergence."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from framework.training import checkpointing


def stopped_early(state: dict | None, cfg: Any) -> bool:
    """Whether an interrupted run had already stopped: early stopping, or its epochs' training time
    has reached ``trainer.time_limit_minutes`` (the current one: a run may be resumed with more)."""
    if not state:
        return False
    patience, limit = cfg.trainer.early_stopping_patience, cfg.trainer.time_limit_minutes
    trained = sum(record.get("train_seconds", 0.0) for record in state.get("history", []))
    return bool((patience and state["wait"] >= patience) or (limit and trained >= limit * 60))


def verbosity(value: str) -> int:
    """Keras fit verbosity: a progress bar on a terminal, one line per epoch in a log file."""
    if value == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(value)


def fit_with_selection(
    model: keras.Model,
    dataset: Any,
    cfg: Any,
    run_dir: Path,
    evaluate_dev: Callable[[keras.Model], dict[str, float]],
    monitor: str,
    mode: str = "max",
) -> tuple[checkpointing.DevSelection, float]:
    """Fit ``model`` (built and compiled) with dev selection, resume, early stopping and a time limit.

    Returns the DevSelection callback (its ``state`` and ``history``) and the wall-clock seconds of
    training, those of the processes before a resume included (up to their last backup).
    Raises FloatingPointError when the loss became NaN or infinite.
    """
    state = checkpointing.read_state(run_dir)
    checkpointing.settle_backups(run_dir, state)
    initial_epoch = checkpointing.restore_backup(model, run_dir, state) if state else 0
    if initial_epoch:
        from framework.data.pipeline import skip_epochs

        skip_epochs(dataset, initial_epoch)  # the next epoch sees the batches an uninterrupted run would
    limit = cfg.trainer.time_limit_minutes
    selection = checkpointing.DevSelection(
        run_dir, evaluate_dev, monitor, patience=cfg.trainer.early_stopping_patience, state=state,
        backup=cfg.callbacks.backup_every_epoch, time_limit_seconds=limit * 60 if limit else None, mode=mode,
    )  # fmt: skip
    callbacks = [selection, keras.callbacks.TerminateOnNaN()]
    if cfg.callbacks.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))
    checkpointing.build_optimizer(model)
    if initial_epoch < cfg.trainer.epochs and not stopped_early(state, cfg):
        model.fit(dataset, epochs=cfg.trainer.epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                  verbose=verbosity(cfg.trainer.verbose), shuffle=False)  # fmt: skip
    wall = selection.wall_seconds
    last_loss = selection.history[-1].get("loss", 0.0) if selection.history else 0.0
    if model.stop_training and not np.isfinite(last_loss):
        raise FloatingPointError(f"training diverged: loss is {last_loss}")
    if selection.state["best"] is None:
        raise FloatingPointError("training finished no epoch with a finite dev metric")
    return selection, wall
