"""Helpers for sweep tests: run ``recipes/train.py -m`` as a user does, with a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

TINY = ("experiment=pos_sample", "model=tiny", "trainer.epochs=1", "trainer.max_steps_per_epoch=2",
        "callbacks.tensorboard=false")  # fmt: skip


def make_trial(sweep: Path, name: str, overrides: list[str], metrics: dict | None, history: list | None = None):
    """A trial dir as Hydra and the training recipes leave it."""
    run_dir = sweep / name
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if metrics is not None:
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
    if history is not None:
        (run_dir / "history.json").write_text(json.dumps(history))
    return run_dir


def ok(value: float, direction: str = "maximize") -> dict:
    return {"status": "ok", "objective": value, "objective_name": "dev/accuracy", "objective_direction": direction,
            "dev/accuracy": value, "test/accuracy": value - 0.01, "dev/f1/NOUN": 0.5}  # fmt: skip


def fake_sweep(sweep: Path, direction: str = "maximize") -> Path:
    make_trial(sweep, "0", ["model.rnn.units=16", "trainer.epochs=1"], ok(0.5, direction),
               [{"epoch": 1, "loss": 2.0, "dev/accuracy": 0.5}])  # fmt: skip
    make_trial(sweep, "1", ["model.rnn.units=32", "trainer.epochs=1"],
               {"status": "failed", "error": "ConfigError: bad <b>rate</b> | pipe", "objective_direction": direction})
    make_trial(sweep, "2", ["model.rnn.units=64", "trainer.epochs=1"], None)  # still running
    make_trial(sweep, "10", ["model.rnn.units=128", "trainer.epochs=1"], ok(0.7, direction),
               [{"epoch": 1, "loss": 1.5, "dev/accuracy": 0.6}, {"epoch": 2, "loss": 1.0, "dev/accuracy": 0.7}])
    return sweep
