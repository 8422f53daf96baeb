"""Hydra multiruns of recipes/train.py: grids, failing trials, and the report written at the end."""

from __future__ import annotations

import csv
import json
import math

import pytest

from cli_helpers import run_as_user, shown
from sweep_helpers import TINY


def _rows(sweep_dir):
    with open(sweep_dir / "trials.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_grid_sweep_runs_every_combination_and_reports(tmp_path):
    sweep = tmp_path / "grid"
    result = run_as_user("train", "-m", *TINY, "model.rnn.units=16,32", "model.rnn.cell=lstm,gru",
                         f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert result.returncode == 0, shown(result)
    statuses = [json.loads((sweep / str(n) / "metrics.json").read_text())["status"] for n in range(4)]
    assert statuses == ["ok"] * 4
    rows = _rows(sweep)
    assert {(r["model.rnn.units"], r["model.rnn.cell"]) for r in rows} == {
        ("16", "lstm"), ("16", "gru"), ("32", "lstm"), ("32", "gru")}
    objectives = [float(r["objective"]) for r in rows]
    assert objectives == sorted(objectives, reverse=True)  # dev accuracy, best first
    report = (sweep / "sweep_report.md").read_text()
    assert "python recipes/train.py" in report and "model.rnn.cell=" in report
    assert (sweep / "sweep_report.html").is_file()
    assert len(list((sweep / "plots").glob("objective_vs_param_*.png"))) == 2


def test_failing_single_run_still_exits_non_zero(tmp_path):
    result = run_as_user("train", *TINY, "optimizer.learning_rate=nan", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0, shown(result)
    assert "learning_rate" in result.stderr


def test_trial_failure_returns_the_worst_objective(tmp_path, monkeypatch):
    """A trial that diverges returns -inf (maximize) and records the error, without raising."""
    from omegaconf import OmegaConf

    from framework import cli

    def diverge(cfg, run_dir):
        raise FloatingPointError("training diverged: loss is nan")

    monkeypatch.setattr(cli, "in_multirun", lambda: True)
    monkeypatch.setattr(cli, "hydra_run_dir", lambda: tmp_path)
    monkeypatch.setattr(cli, "_train", diverge)
    assert cli.run_training(OmegaConf.create({"task": "tagging"})) == -math.inf
    assert cli.run_training(OmegaConf.create({"task": "language_model"})) == math.inf
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "diverged" in metrics["error"]
    assert metrics["objective_direction"] == "minimize"


def test_a_trial_in_another_runs_dir_stops_the_sweep_and_keeps_that_runs_record(tmp_path, monkeypatch):
    """Rerunning a sweep with other values into the same sweep dir: the earlier trial's metrics.json
    stays as it was (recording the clash there as a failed trial would replace its results)."""
    from omegaconf import OmegaConf

    from framework import cli
    from framework.errors import RunDirTaken

    earlier = '{"status": "ok", "objective": 0.91}'
    (tmp_path / "metrics.json").write_text(earlier)

    def clash(cfg, run_dir):
        raise RunDirTaken(f"{run_dir}: holds a run trained with another config")

    monkeypatch.setattr(cli, "in_multirun", lambda: True)
    monkeypatch.setattr(cli, "hydra_run_dir", lambda: tmp_path)
    monkeypatch.setattr(cli, "_train", clash)
    with pytest.raises(RunDirTaken):
        cli.run_training(OmegaConf.create({"task": "tagging"}))
    assert (tmp_path / "metrics.json").read_text() == earlier


def test_parallel_trials_with_joblib_and_a_failing_trial(tmp_path):
    """hydra/launcher=local_parallel: two worker processes. A failing trial (NaN learning rate) does
    not stop the sweep: it records why and its objective's direction, and the report ranks it last.
    (The sequential launcher runs the same trial function: one sweep covers both, saving a process.)"""
    sweep = tmp_path / "parallel"
    result = run_as_user("train", "-m", *TINY, "hydra/launcher=local_parallel", "optimizer.learning_rate=nan,0.001",
                         f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert result.returncode == 0, shown(result)
    assert "Joblib" in result.stdout + result.stderr
    failed = json.loads((sweep / "0" / "metrics.json").read_text())
    assert failed["status"] == "failed"
    assert "learning_rate" in failed["error"] and failed["objective_direction"] == "maximize"
    assert json.loads((sweep / "1" / "metrics.json").read_text())["status"] == "ok"
    rows = _rows(sweep)
    assert [r["status"] for r in rows] == ["ok", "failed"]  # failed trials sort last
    assert "learning_rate" in rows[1]["error"]
