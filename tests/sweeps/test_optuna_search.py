"""The Optuna sweeper: search-space syntax, pruning hook, and a 4-trial study on the sample data."""

from __future__ import annotations

import json
import sqlite3

import optuna
import pytest
from cli_helpers import run_as_user, shown
from sweep_helpers import TINY

from framework.errors import ConfigError
from framework.sweeps import pruning
from framework.sweeps.optuna_search import format_param, split_overrides
from framework.training import checkpointing


def test_search_space_from_config_and_command_line():
    space, fixed = split_overrides(
        {"model.rnn.cell": "choice(lstm, gru)", "optimizer.learning_rate": "tag(log, interval(0.0003, 0.01))",
         "model.rnn.units": "choice(16, 32)"},
        ["trainer.epochs=1", "model.rnn.layers=range(1, 4)", "model.rnn.units=64",
         "model.embedding.dim=tag(int, interval(8, 32))"],
    )  # fmt: skip
    assert fixed == ["trainer.epochs=1", "model.rnn.units=64"]  # a plain value pins a searched key
    assert space["model.rnn.cell"] == optuna.distributions.CategoricalDistribution(["lstm", "gru"])
    assert space["optimizer.learning_rate"] == optuna.distributions.FloatDistribution(0.0003, 0.01, log=True)
    assert space["model.rnn.layers"] == optuna.distributions.IntDistribution(1, 3)
    assert space["model.embedding.dim"] == optuna.distributions.IntDistribution(8, 32)
    assert "model.rnn.units" not in space


def test_empty_search_space_is_a_config_error():
    with pytest.raises(ConfigError, match="no search space"):
        split_overrides({}, ["trainer.epochs=1"])


@pytest.mark.parametrize(("override", "message"), [
    ("hydra.sweeper.direction=max", "error: hydra.sweeper.direction: 'max' is not maximize or minimize"),
    ("hydra.sweeper.sampler=grid", "error: hydra.sweeper.sampler: unknown sampler 'grid' (tpe or random)"),
])  # fmt: skip
def test_a_bad_sweeper_setting_is_one_error_line(tmp_path, override, message):
    result = run_as_user("train", "-m", "hparams_search=pos_sample_optuna", override, f"hydra.sweep.dir={tmp_path}")
    assert result.returncode == 2, shown(result)
    assert result.stderr.strip().splitlines() == [message], shown(result)


def test_format_param_round_trips_floats():
    assert format_param("optimizer.learning_rate", 0.1 + 0.2) == "optimizer.learning_rate=0.30000000000000004"
    assert format_param("model.rnn.cell", "gru") == "model.rnn.cell=gru"


def test_pruning_hook_reports_epochs_and_prunes():
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    pruning.report_epoch(1, "dev/accuracy", 0.1)  # no active trial: nothing happens
    with pruning.active(trial):
        assert checkpointing.EPOCH_HOOKS == [pruning.report_epoch]
        pruning.report_epoch(1, "dev/accuracy", 0.9)
        with pytest.raises(optuna.TrialPruned, match="epoch 2"):
            pruning.report_epoch(2, "dev/accuracy", 0.2)
    assert checkpointing.EPOCH_HOOKS == []
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {1: 0.9, 2: 0.2}


def test_optuna_sweep_of_two_trials_resumes_from_its_storage(tmp_path):
    """One random start-up trial, then one drawn by TPE; a rerun adds the third."""
    sweep = tmp_path / "optuna"
    args = ["-m", "hparams_search=pos_sample_optuna", *TINY[1:], "trainer.max_steps_per_epoch=1",
            "model.embedding.dropout=0.1",  # a plain value pins a parameter the config searches
            f"hydra.sweep.dir={sweep}", "hydra.sweeper.n_startup_trials=1",
            "hydra.sweeper.params={model.rnn.units:'choice(8,16)',"
            "optimizer.learning_rate:'tag(log,interval(0.001,0.1))'}"]  # fmt: skip
    result = run_as_user("train", *args, "hydra.sweeper.n_trials=2")
    assert result.returncode == 0, shown(result)
    summary = json.loads((sweep / "optuna.json").read_text())
    assert summary["direction"] == "maximize" and len(summary["trials"]) == 2
    assert all(t["state"] == "COMPLETE" for t in summary["trials"])
    assert summary["best"]["value"] == max(t["value"] for t in summary["trials"])
    searched = {p for t in summary["trials"] for p in t["params"]}
    assert searched == {"model.rnn.cell", "model.rnn.units", "optimizer.learning_rate"}
    assert {t["params"]["model.rnn.units"] for t in summary["trials"]} <= {8, 16}
    for trial in summary["trials"]:  # each trial's run dir recorded the objective Optuna was told
        metrics = json.loads((sweep / str(trial["number"]) / "metrics.json").read_text())
        assert metrics["objective"] == pytest.approx(trial["value"])
    report = (sweep / "sweep_report.md").read_text()
    assert "## Optuna study" in report and (sweep / "plots" / "optuna_history.png").is_file()
    resumed = run_as_user("train", *args, "hydra.sweeper.n_trials=3")  # the study owes one more trial
    assert resumed.returncode == 0, shown(resumed)
    with sqlite3.connect(sweep / "optuna.db") as db:
        assert db.execute("select count(*) from trials").fetchone()[0] == 3
    assert (sweep / "2" / "metrics.json").is_file()


@pytest.mark.parametrize("status,value,told", [
    ("COMPLETED", 0.5, "COMPLETE"),
    ("COMPLETED", float("-inf"), "FAIL"),  # what a failed trial returns in a multirun
    ("FAILED", optuna.TrialPruned("epoch 2"), "PRUNED"),
    ("FAILED", RuntimeError("boom"), "FAIL"),
])  # fmt: skip
def test_tell_maps_job_returns_to_trial_states(status, value, told):
    from hydra.core.utils import JobReturn, JobStatus

    from framework.sweeps.optuna_search import tell

    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    job = JobReturn(status=getattr(JobStatus, status), _return_value=value)
    assert tell(study, trial, job) == told
    assert study.trials[0].state.name == told


def test_a_trial_in_another_runs_dir_stops_the_study():
    """As Hydra's grid sweeper does: the clash is told as a failed trial, then raised."""
    from hydra.core.utils import JobReturn, JobStatus

    from framework.errors import RunDirTaken
    from framework.sweeps.optuna_search import tell

    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    with pytest.raises(RunDirTaken):
        tell(study, trial, JobReturn(status=JobStatus.FAILED, _return_value=RunDirTaken("sweep/0: another run")))
    assert study.trials[0].state.name == "FAIL"


@pytest.mark.parametrize(("line", "values"), [
    ("range(0.1, 0.45, step=0.1)", [0.1, 0.2, 0.3, 0.4]),
    ("range(0.0, 1.0, step=0.3)", [0.0, 0.3, 0.6, 0.9]),
    ("range(0.0, 0.3, step=0.1)", [0.0, 0.1, 0.2]),
])  # fmt: skip
def test_a_float_range_searches_the_values_hydra_sweeps(line, values):
    """Hydra's range excludes stop; Optuna's float step distribution includes its high end."""
    space, _ = split_overrides({"optimizer.learning_rate": line}, [])
    found = space["optimizer.learning_rate"]
    assert found.low == pytest.approx(values[0]) and found.high == pytest.approx(values[-1])
    assert found.step == pytest.approx(0.1 if "0.1" in line.split("step=")[1] else 0.3)


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_resumed_study_does_not_draw_the_first_start_again(sampler):
    """Seeded alike, a resumed study's sampler would repeat the first start's draws trial for trial."""
    from types import SimpleNamespace

    from framework.sweeps.optuna_search import make_sampler

    settings = SimpleNamespace(sampler=sampler, seed=7, n_startup_trials=10)
    space = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)}

    def first_draw(trials_so_far):
        study = optuna.create_study(sampler=make_sampler(settings, trials_so_far))
        return study.ask(space).params["lr"]

    assert first_draw(0) == first_draw(0)  # still repeatable
    assert first_draw(1) != first_draw(0)


MULTIRUN_UNDER_A_FILE_SIZE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from omegaconf import OmegaConf
from framework.sweeps import optuna_search
from hydra_plugins.rnnseq_optuna_sweeper.optuna_sweeper import OptunaSweeper

optuna_search.run_study = lambda *args: "study ran"
sweeper = OptunaSweeper()
sweeper.config = OmegaConf.create({"hydra": {"sweep": {"dir": sys.argv[1]}}, "task": "tagging", "big": "x" * 4000})
sweeper.launcher = object()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    sweeper.sweep([])
except OSError as err:
    print("write failed:", err)
print("after the failed write:", repr((Path(sys.argv[1]) / "multirun.yaml").read_text()))
resource.setrlimit(resource.RLIMIT_FSIZE, (2000000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sweeper.config.big = "y"
print(sweeper.sweep([]))
"""


def test_multirun_yaml_is_replaced_atomically(tmp_path):
    """A write that fails (disk full) leaves the earlier multirun.yaml whole; a good one replaces it."""
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "multirun.yaml").write_text("earlier: sweep\n")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", MULTIRUN_UNDER_A_FILE_SIZE_LIMIT, str(tmp_path)], cwd=root,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "write failed:" in result.stdout and result.stdout.rstrip().endswith("study ran")
    assert "after the failed write: 'earlier: sweep\\n'" in result.stdout  # not truncated, not half-written
    assert [p.name for p in tmp_path.iterdir()] == ["multirun.yaml"]  # no temp file left behind
    assert (tmp_path / "multirun.yaml").read_text() == "hydra:\n  sweep:\n    dir: " + str(tmp_path) + \
        "\ntask: tagging\nbig: 'y'\n"
