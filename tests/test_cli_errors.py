"""A user's mistake gives one ``error: ...`` line on stderr and a non-zero exit, never a traceback.

The recipes run as subprocesses, as a user runs them (``HYDRA_FULL_ERROR`` unset). Data errors
must name the file and, where there is one, the line. Hydra's own compose errors (unknown key,
wrong type, bad choice) keep Hydra's message, which names the key. Every run is tiny: the tiny
model, one epoch of at most three steps; each subprocess that gets past its checks still pays the
TensorFlow import (a bad local data file or model setting is refused before it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cli_helpers import assert_user_error, run_as_user

SMOKE = ("model=tiny", "trainer.epochs=1", "trainer.max_steps_per_epoch=3", "callbacks.tensorboard=false")


def _train(tmp_path: Path, experiment: str, *overrides: str) -> subprocess.CompletedProcess:
    return run_as_user("train", f"experiment={experiment}", *SMOKE, *overrides, f"hydra.run.dir={tmp_path / 'run'}")


def _train_config(experiment: str, *overrides: str):
    """The train recipe's config for ``experiment`` with ``overrides``, composed in this process."""
    from hydra import compose, initialize_config_dir

    from framework.config import register_configs

    register_configs()
    root = Path(__file__).resolve().parents[1]
    with initialize_config_dir(config_dir=str(root / "conf"), version_base="1.3"):
        return compose("train", overrides=[f"paths.root_dir={root}", f"experiment={experiment}", *overrides])


def _assert_hydra_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Hydra's compose error: non-zero exit, its message naming the key, and no traceback."""
    shown = f"exit {result.returncode}\n--- stderr\n{result.stderr}"
    assert result.returncode != 0, shown
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, shown
    for fragment in fragments:
        assert fragment in result.stderr, shown


# --- data files ---------------------------------------------------------------------------------

NER_OK = "Peter\tB-PER\nlives\tO\n\nAnna\tB-PER\n"

# id: (experiment, split, file bytes, fragments of the message after "<file>")
DATA_CASES = {
    "wrong_column_count": ("ner_sample", "train", b"Peter\tB-PER\tx\nlives\tO\n", (":2:", "expected 3 columns")),
    "not_utf8": ("ner_sample", "dev", b"Peter\tB-PER\nBer\xfflin\tB-LOC\n", (":2:", "UTF-8", "0xff")),
    "empty_file": ("ner_sample", "test", b"", (": file is empty",)),
    "tag_outside_scheme": (
        "ner_sample", "train", NER_OK.encode() + b"M\xc3\xbcller\tX-PER\n", (":5:", "X-PER", "IOB2")
    ),
    "conllu_columns": ("pos_sample", "train", b"1\tHello\t_\tINTJ\n", (":1:", "10 tab-separated columns")),
}


def test_missing_data_file(tmp_path):
    result = _train(tmp_path, "pos_sample", "data.train=/nonexistent.conll")
    assert_user_error(result, "error: /nonexistent.conll:", "file not found", "data.train")


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_file(tmp_path, case):
    experiment, split, content, fragments = DATA_CASES[case]
    path = tmp_path / f"{case}.txt"
    path.write_bytes(content)
    result = _train(tmp_path, experiment, f"data.{split}={path}")
    line = assert_user_error(result, f"error: {path}{fragments[0]}", *fragments[1:])
    assert not (tmp_path / "run" / "model.keras").exists(), line  # refused before training


@pytest.mark.parametrize(("experiment", "key", "bad_file"), [
    ("pos_sample", "train", b"1\tHello\t_\tINTJ\n"),  # a tagger's CoNLL-U file with 4 of its 10 columns
    ("poetry_sample", "train", b"fine\nnot \xe9 UTF-8\n"),  # a language model's text
    ("spam_sample", "train", b"ham\tfine\nspam\n"),  # a classifier's row without its text
    ("mt_sample", "train_src", b"fine\nnot \xe9 UTF-8\n"),  # a translator's source side
])  # fmt: skip
def test_a_bad_data_file_is_refused_before_the_backend_is_imported(tmp_path, monkeypatch, experiment, key, bad_file):
    """Every task reads its local data files before the TensorFlow import (seconds)."""
    from framework import cli
    from framework.errors import DataError

    path = tmp_path / "train.txt"
    path.write_bytes(bad_file)
    cfg = _train_config(experiment, f"data.{key}={path}")

    def imported():
        raise AssertionError("the backend was imported before the data were read")

    monkeypatch.setattr(cli, "import_backend_quietly", imported)
    with pytest.raises(DataError, match=str(path)):
        cli._train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# --- config values that only the framework can judge ----------------------------------------------


def test_cudnn_breaking_setting(tmp_path):
    result = _train(tmp_path, "ner_sample", "model.rnn.recurrent_dropout=0.2")
    assert_user_error(result, "error: model.rnn:", "cuDNN", "recurrent_dropout=0.2", "model.rnn.allow_non_cudnn=true")
    assert not (tmp_path / "run" / "config.yaml").exists()  # refused before anything was written


@pytest.mark.parametrize(("experiment", "overrides", "fragment"), [
    ("ner_sample", ["model.rnn.recurrent_dropout=0.2"], "take the RNN off the cuDNN kernel"),
    ("spam_sample", ["model.rnn.cell=gru", "model.rnn.reset_after=false"], "reset_after=false"),
    ("poetry_sample", ["model.rnn.unroll=true"], "unroll=true"),
    ("poetry_sample", ["model.rnn.bidirectional=true"], "a language model reads left to right"),
    ("mt_sample", ["model.attention=dot"], "model.attention=dot needs encoder outputs"),
    ("mt_sample", ["model.input_feeding=true", "model.attention=general"], "model.rnn.allow_non_cudnn=true"),
    ("pos_sample", ["optimizer.learning_rate=nan"], "optimizer.learning_rate=nan: expected a positive number"),
])  # fmt: skip
def test_model_config_mistakes_are_refused_before_the_data_and_the_backend(tmp_path, monkeypatch, experiment,
                                                                          overrides, fragment):  # fmt: skip
    """Every task's model checks (the cuDNN guard, a translator's sizes and input feeding) and the
    optimizer's rate run at start-up: no data read, no TensorFlow import, nothing in the run dir."""
    from framework import cli, tasks
    from framework.errors import ConfigError

    cfg = _train_config(experiment, *overrides)
    task_function = tasks.task_function

    def too_late(*_):
        raise AssertionError("the data were read or the backend imported before the config was checked")

    def only_the_model_check(task, kind):
        return task_function(task, kind) if kind == "check_model" else too_late()

    monkeypatch.setattr(cli, "import_backend_quietly", too_late)
    monkeypatch.setattr(tasks, "task_function", only_the_model_check)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        cli._train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("override", "expected"), [
    ("trainer.epochs=0", "trainer.epochs=0: expected an integer >= 1"),
    ("model.rnn.dropout=1.5", "model.rnn.dropout=1.5: expected a number in [0, 1)"),
    ("trainer.batch_size=-1", "trainer.batch_size=-1: expected an integer >= 1"),
    ("data.dev_fraction=1.0", "data.dev_fraction=1.0: expected a number in [0, 1)"),
])
def test_out_of_range_values_fail_at_start_up(tmp_path, override, expected):
    result = _train(tmp_path, "pos_sample", override)
    assert_user_error(result, f"error: {expected}")
    assert not (tmp_path / "run" / "config.yaml").exists()  # refused before anything was written


@pytest.mark.parametrize(("override", "expected"), [
    ("benchmark.units=0", "benchmark.units=0: expected an integer >= 1"),
    ("benchmark.rounds=0", "benchmark.rounds=0: expected an integer >= 1"),
    ("benchmark.vocab_size=3", "benchmark.vocab_size=3: expected an integer >= 4"),
    ("model=lstm_classifier", "model=lstm_classifier: the benchmark measures taggers and translators; expected a"),
])
def test_benchmark_settings_it_would_not_measure(tmp_path, override, expected):
    result = run_as_user("benchmark", override, f"hydra.run.dir={tmp_path / 'run'}")
    assert_user_error(result, f"error: {expected}")
    assert not (tmp_path / "run" / "benchmark.json").exists()


# --- Hydra's compose errors (no TensorFlow import: fast) ------------------------------------------


@pytest.mark.parametrize(
    ("recipe", "overrides", "fragments"),
    [
        ("train", ["model.rnn.unitz=3"], ["model.rnn.unitz"]),
        ("train", ["trainer.epochs=abc"], ["trainer.epochs", "abc"]),
        ("train", ["model.rnn.cell=rnn"], ["model.rnn.cell", "lstm", "gru"]),
        ("train", ["data.scheme=bio"], ["data.scheme", "bio", "iob2"]),
        ("train", ["model=nope"], ["model/nope"]),
        ("evaluate", ["run_dir=runs/x", "split=valid"], ["split", "valid"]),
    ],
    ids=["unknown_key", "wrong_type", "bad_cell", "bad_scheme", "unknown_option", "bad_split"],
)
def test_hydra_compose_errors(tmp_path, recipe, overrides, fragments):
    result = run_as_user(recipe, *overrides, f"hydra.run.dir={tmp_path / 'run'}")
    _assert_hydra_error(result, *fragments)
    assert not (tmp_path / "run").exists()


# --- evaluate and predict -----------------------------------------------------------------------


def test_evaluate_and_predict_with_a_missing_run_dir(tmp_path):
    missing = tmp_path / "no_such_run"
    assert_user_error(run_as_user("evaluate", f"run_dir={missing}"), f"error: {missing}: run dir not found")
    result = run_as_user("predict", f"run_dir={missing}", f"input={tmp_path / 'in.txt'}",
                         f"output={tmp_path / 'out.conll'}")  # fmt: skip
    assert_user_error(result, f"error: {missing}: run dir not found")
    assert not missing.exists()  # nothing written for a mistyped run dir


def test_evaluate_without_run_dir_or_with_a_dir_that_is_no_run(tmp_path):
    assert_user_error(run_as_user("evaluate"), "error: run_dir:")
    not_a_run = tmp_path / "not_a_run"
    not_a_run.mkdir()
    assert_user_error(run_as_user("evaluate", f"run_dir={not_a_run}"), f"error: {not_a_run / 'config.yaml'}:")


def test_export_of_a_missing_run_or_of_a_task_it_cannot_export(tmp_path):
    """Both refused before the backend's import, with nothing written."""
    missing = tmp_path / "no_such_run"
    assert_user_error(run_as_user("export", f"run_dir={missing}"), f"error: {missing}: run dir not found")
    translator = tmp_path / "translator_run"
    translator.mkdir()
    (translator / "config.yaml").write_text("task: translation\n", encoding="utf-8")
    expected = "error: export: a translation run has none yet (supported for: classification, tagging)"
    assert_user_error(run_as_user("export", f"run_dir={translator}"), expected)
    assert not missing.exists() and [p.name for p in translator.iterdir()] == ["config.yaml"]


@pytest.mark.parametrize(("recipe", "key"), [("report", "sweep_dir"), ("compare", "run_dirs")])
def test_report_and_compare_without_their_mandatory_argument(tmp_path, recipe, key):
    assert_user_error(run_as_user(recipe, f"hydra.run.dir={tmp_path / 'run'}"), f"error: {key}: no value given")


