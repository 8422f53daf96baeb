"""Reading a sweep dir's trials, ranking them, and the best trial's command line."""

from __future__ import annotations

import pytest
from sweep_helpers import fake_sweep, make_trial, ok

from framework.errors import DataError
from framework.sweeps.objective import sort_key, task_direction, worst_value
from framework.sweeps.trials import fixed_overrides, rank_trials, read_trials, swept_params


def test_read_trials_in_job_order_with_status(tmp_path):
    trials = read_trials(fake_sweep(tmp_path))
    assert [t.name for t in trials] == ["0", "1", "2", "10"]
    assert [t.status for t in trials] == ["ok", "failed", "incomplete", "ok"]
    assert trials[1].error.startswith("ConfigError")
    assert swept_params(trials) == ["model.rnn.units"]
    assert fixed_overrides(trials) == {"trainer.epochs": "1"}


@pytest.mark.parametrize("direction,best", [("maximize", "10"), ("minimize", "0")])
def test_rank_puts_best_first_and_failures_last(tmp_path, direction, best):
    ranked = rank_trials(read_trials(fake_sweep(tmp_path, direction)))
    assert ranked[0].name == best
    assert [t.status for t in ranked[2:]] == ["failed", "incomplete"]


def test_best_command_reruns_one_training(tmp_path):
    run = make_trial(tmp_path, "0", ["hparams_search=pos_sample_optuna", "hydra/launcher=joblib",
                                     "model.rnn.cell=gru", "data.name=a b"], ok(0.5))  # fmt: skip
    (trial,) = read_trials(tmp_path)
    assert trial.path == run
    assert trial.command() == ("python recipes/train.py hparams_search=pos_sample_optuna model.rnn.cell=gru "
                               "'data.name=a b' hydra.mode=RUN")  # fmt: skip


def test_not_a_sweep_dir_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no trials found"):
        read_trials(tmp_path)
    with pytest.raises(DataError, match="not found"):
        read_trials(tmp_path / "missing")


def test_objective_helpers():
    assert task_direction("language_model") == "minimize" and task_direction("tagging") == "maximize"
    assert worst_value("maximize") == float("-inf") and worst_value("minimize") == float("inf")
    assert sort_key(0.9, "maximize", False) < sort_key(0.1, "maximize", False) < sort_key(None, "maximize", True)
    assert sort_key(0.1, "minimize", False) < sort_key(0.9, "minimize", False)
