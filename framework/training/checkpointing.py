"""Model selection on the dev metric, early stopping, and resumable per-epoch backups.

Everything is written atomically: a backup is ``backup/epoch-N.weights.h5`` plus
``train_state.json`` naming it, and the state file is written last, so an interruption at any
moment leaves the previous complete backup in force. Re-running into the same run dir reads the
state, restores weights and optimizer, and continues with the next epoch.

A new best model is saved beside the backup first (``backup/best-epoch-N.keras``), the state
naming it is written, and only then is it renamed to ``model.keras``: ``model.keras`` always
holds the epoch the state calls best, and a run interrupted between the last two steps finishes
the rename when it is resumed (:func:`settle_backups`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import keras

from framework.data.text_files import read_json_object
from framework.io import atomic_save, atomic_write_json

log = logging.getLogger(__name__)

STATE_FILE = "train_state.json"
BEST_MODEL = "model.keras"
BACKUP_DIR = "backup"
STAGED_PREFIX = "best-epoch-"  # backup/best-epoch-N.keras: a best model until its state is written
# Called as hook(epoch, monitor, value) after every epoch's selection and backup; a hook may
# raise to stop training (the Optuna sweeper's pruning: framework.sweeps.pruning.report_epoch).
EPOCH_HOOKS: list[Callable[[int, str, float], None]] = []


def staged_best(epoch: int) -> str:
    """The name in ``backup/`` of epoch ``epoch``'s best model until it is renamed to model.keras."""
    return f"{STAGED_PREFIX}{epoch}.keras"


def read_state(run_dir: Path) -> dict | None:
    """The saved training state of an interrupted run, or None for a fresh run dir."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    return read_json_object(path, "training state")


def build_optimizer(model: keras.Model) -> None:
    """Create the optimizer's variables before the first training step. Created inside it, they
    make TensorFlow trace the whole training step twice (seconds per run for small models)."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def restore_best(model: keras.Model, run_dir: Path) -> None:
    """Load the weights saved as the best model into the trained model itself: its compiled predict
    function stays traced (a model reloaded from the file would trace it again)."""
    model.load_weights(Path(run_dir) / BEST_MODEL)


def restore_backup(model: keras.Model, run_dir: Path, state: dict) -> int:
    """Load the backed-up weights and optimizer state; returns the epoch to continue from."""
    build_optimizer(model)
    model.load_weights(Path(run_dir) / BACKUP_DIR / state["backup"])
    set_seed_states(model, state.get("seed_states"))
    log.info("Resuming after epoch %d (best %s = %s at epoch %s)", state["epoch"], state["monitor"],
             state["best"], state["best_epoch"])  # fmt: skip
    return int(state["epoch"])


def _seed_variables(model: keras.Model) -> list:
    """The states of the model's random seed generators (dropout), which weight files leave out."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


def seed_states(model: keras.Model) -> list[list[int]]:
    """Where each dropout layer's random stream stands: saved with a backup, so a resumed run
    draws the masks an uninterrupted one would."""
    return [keras.ops.convert_to_numpy(v.value).tolist() for v in _seed_variables(model)]


def set_seed_states(model: keras.Model, states: list[list[int]] | None) -> None:
    """Restore :func:`seed_states` (a backup from before they were saved has none: left as they are)."""
    variables = _seed_variables(model)
    if states is not None and len(states) == len(variables):
        for variable, value in zip(variables, states):
            variable.assign(value)


def settle_backups(run_dir: Path, state: dict | None) -> None:
    """Make the backup dir what ``state`` says: the best epoch's model, if it was not yet renamed to
    model.keras, is renamed now, and files it does not name (the previous backup, or an interrupted
    epoch's weights and best model saved before its state was written) are removed."""
    backup_dir = Path(run_dir) / BACKUP_DIR
    best_epoch = (state or {}).get("best_epoch")
    staged = backup_dir / staged_best(best_epoch) if best_epoch else None
    if staged is not None and staged.is_file():
        try:
            os.replace(staged, Path(run_dir) / BEST_MODEL)
        except FileNotFoundError:  # another process writing this run dir renamed it first
            pass
    kept = (state or {}).get("backup")
    for path in (*backup_dir.glob(f"{STAGED_PREFIX}*.keras"), *backup_dir.glob("epoch-*.weights.h5")):
        if path.name != kept:
            path.unlink(missing_ok=True)


def save_model_atomically(model: keras.Model, path: Path) -> None:
    """``model.save`` to a temp ``.keras`` file beside ``path``, then rename over it."""
    atomic_save(path, model.save, suffix=".keras")


class DevSelection(keras.callbacks.Callback):
    """After each epoch: score dev, save the best model, stop early, back up for resume.

    Args:
        run_dir: the run directory.
        evaluate_dev: returns flat dev metrics (e.g. ``{"dev/f1": 0.9}``) for the current weights.
        monitor: the metric to maximise, e.g. "dev/f1".
        patience: epochs without improvement before stopping; 0 disables early stopping.
        state: the state read from an interrupted run, or None.
        backup: whether to back up every epoch (needed for resume).
        time_limit_seconds: stop after the epoch at which the summed training time crosses this.
        mode: "max" (accuracy, F1) or "min" (perplexity, loss).
    """

    def __init__(
        self,
        run_dir: Path,
        evaluate_dev: Callable[[keras.Model], dict[str, float]],
        monitor: str,
        patience: int = 0,
        state: dict | None = None,
        backup: bool = True,
        time_limit_seconds: float | None = None,
        mode: str = "max",
    ):
        super().__init__()
        self.run_dir, self.evaluate_dev, self.monitor = Path(run_dir), evaluate_dev, monitor
        self.patience, self.backup, self.time_limit_seconds = patience, backup, time_limit_seconds
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.sign = 1.0 if mode == "max" else -1.0
        self.state = state or {"epoch": 0, "monitor": monitor, "best": None, "best_epoch": None,
                               "wait": 0, "history": [], "backup": None}  # fmt: skip
        self._epoch_start = 0.0
        self._started, self._wall_before = time.perf_counter(), self.state.get("wall_seconds", 0.0)

    @property
    def history(self) -> list[dict]:
        return self.state["history"]

    @property
    def wall_seconds(self) -> float:
        """Wall-clock seconds of training (dev scoring and saving included): this process's so far,
        plus those of the processes before a resume, up to their last backup."""
        return self._wall_before + time.perf_counter() - self._started

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        train_seconds = time.perf_counter() - self._epoch_start
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            # Diverged (TerminateOnNaN stops fit, which still ends the epoch): these weights are
            # neither scored, nor saved as the best, nor backed up, so a re-run resumes from the
            # last good epoch. fit_with_selection raises on this record.
            self.history.append({"epoch": epoch + 1, "train_seconds": train_seconds, "loss": float(loss)})
            self.model.stop_training = True
            return
        start = time.perf_counter()
        dev = self.evaluate_dev(self.model)
        record = {"epoch": epoch + 1, "train_seconds": train_seconds, "dev_seconds": time.perf_counter() - start}
        record.update({key: float(value) for key, value in (logs or {}).items()})
        record.update(dev)
        value = dev[self.monitor]
        improved = self.state["best"] is None or self.sign * value > self.sign * self.state["best"]
        if improved and math.isfinite(value):
            self.state.update(best=value, best_epoch=epoch + 1, wait=0)
            if self.backup:  # renamed to model.keras once the state naming it as best is written
                save_model_atomically(self.model, self.run_dir / BACKUP_DIR / staged_best(epoch + 1))
            else:
                save_model_atomically(self.model, self.run_dir / BEST_MODEL)
        else:
            self.state["wait"] += 1
        self.history.append(record)
        self.state["epoch"] = epoch + 1
        best = "none finite yet" if self.state["best"] is None else \
            f"{self.state['best']:.4f} at epoch {self.state['best_epoch']}"  # fmt: skip
        log.info("epoch %d: %s=%.4f (best %s)", epoch + 1, self.monitor, value, best)
        if self.backup:
            self._save_backup(epoch + 1)
        if self.patience and self.state["wait"] >= self.patience:
            log.info("early stopping: no %s improvement for %d epochs", self.monitor, self.patience)
            self.model.stop_training = True
        trained = sum(h["train_seconds"] for h in self.history)
        if self.time_limit_seconds and trained >= self.time_limit_seconds:
            log.info("time limit: %.1f minutes of training reached", trained / 60)
            self.model.stop_training = True
        for hook in EPOCH_HOOKS:
            hook(epoch + 1, self.monitor, value)

    def _save_backup(self, epoch: int) -> None:
        backup_dir = self.run_dir / BACKUP_DIR
        backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch}.weights.h5"
        atomic_save(backup_dir / name, self.model.save_weights, suffix=".weights.h5")
        self.state["backup"] = name
        self.state["seed_states"] = seed_states(self.model)
        self.state["wall_seconds"] = self.wall_seconds
        atomic_write_json(self.run_dir / STATE_FILE, self.state)
        settle_backups(self.run_dir, self.state)
