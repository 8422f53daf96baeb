"""Reading a sweep dir's trials, ranking them, and the best trial's command line."""

from __future__ import annotations

import pytest
from sweep_helpers import fake_sweep, make_trial, ok

from framework.errors import DataError
from framework.sweeps.objective import sort_key, task_direction, worst_value
from framework.sweeps.trials import OVERRIDES, fixed_overrides, rank_trials, read_trials, swept_params


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


@pytest.mark.parametrize("text,expected", [
    ("- model.rnn.units=16\n- 'data.name=a b\n", r"overrides\.yaml:3: not valid YAML: found unexpected end of stream"),
    ("model.rnn.units: 16\n", r"overrides\.yaml: expected a YAML list of overrides such as '- model\.rnn\.units=64'"),
])  # fmt: skip
def test_bad_overrides_of_a_finished_trial_is_a_one_line_data_error(tmp_path, text, expected):
    run = make_trial(tmp_path, "0", ["model.rnn.units=16"], ok(0.5))
    (run / OVERRIDES).write_text(text)
    with pytest.raises(DataError, match=expected) as err:
        read_trials(tmp_path)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(run / OVERRIDES))


def test_bad_overrides_of_an_unfinished_trial_lists_it_as_incomplete(tmp_path):
    """Hydra writes overrides.yaml in place when it launches a trial: a live sweep's report must not fail on it."""
    make_trial(tmp_path, "0", ["model.rnn.units=16", "trainer.epochs=1"], ok(0.5))
    make_trial(tmp_path, "1", ["model.rnn.units=32", "trainer.epochs=1"], ok(0.6))
    launching = make_trial(tmp_path, "2", [], None)
    (launching / OVERRIDES).write_text("- model.rnn.units=64\n- 'trainer.ep")  # cut short
    trials = read_trials(tmp_path)
    assert [(t.name, t.status) for t in trials] == [("0", "ok"), ("1", "ok"), ("2", "incomplete")]
    assert trials[2].overrides == [] and trials[2].error.startswith(f"DataError: {launching / OVERRIDES}:2: not valid")
    assert swept_params(trials) == ["model.rnn.units"]  # its overrides are unknown, not absent
    assert fixed_overrides(trials) == {"trainer.epochs": "1"}
