"""The measuring scripts refuse what would make them print stale or no figures (fast: no training)."""

import pytest

from cli_helpers import run_command_as_user


@pytest.mark.parametrize("script", ["measure_tagger_speed.sh", "benchmark_taggers.sh"])
def test_tagger_speed_scripts_refuse_an_existing_run_dir(tmp_path, script):
    """Training into an existing run dir resumes it: the script would print that run's old speed."""
    (tmp_path / "pos_ud_ewt").mkdir()
    done = run_command_as_user(["bash", f"scripts/{script}", str(tmp_path / "data"), str(tmp_path)], timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path}/pos_ud_ewt exists; give another out_dir for a fresh measurement"


def test_translation_speed_script_says_when_evaluate_fails(tmp_path):
    run_dir = tmp_path / "not_a_run"
    run_dir.mkdir()
    done = run_command_as_user(["bash", "scripts/measure_translation_speed.sh", str(run_dir)], timeout=300)
    assert done.returncode == 1
    assert f"error: {run_dir}: evaluate.py failed (decode.strategy=greedy); see {run_dir}/evaluate.log" in done.stderr


@pytest.mark.parametrize(("override", "message"), [
    ("unitz=8", "--set unitz=8: Key 'unitz' not in 'BenchmarkShapes' (keys: batch_size, seq_len, units, "),
    ("units=abc", "--set units=abc: Value 'abc' of type 'str' could not be converted to Integer"),
    ("units", "--set units: expected key=value"),
    ("cell=rnn", "--set cell=rnn: Invalid value 'rnn', expected one of [lstm, gru]"),
])  # fmt: skip
def test_a_bad_shape_override_is_a_config_error_naming_it(override, message):
    from framework.config import BenchmarkShapes
    from framework.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        BenchmarkShapes.with_overrides(["units=8", override])
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_pytest_timeline_records_each_test_and_sums_each_file(tmp_path, monkeypatch):
    """scripts/pytest_timeline.py: the plugin's hooks write a worker's timeline, the summary reads them back."""
    import importlib.util
    import json
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("pytest_timeline", "scripts/pytest_timeline.py")
    timeline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timeline)
    monkeypatch.setenv("RNNSEQ_TIMELINE_DIR", str(tmp_path))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    timeline.pytest_runtest_logstart("tests/a.py::test_one", None)
    timeline.pytest_runtest_logfinish("tests/a.py::test_one", None)
    assert [sorted(json.loads(line)) for line in (tmp_path / "gw0.jsonl").read_text().splitlines()] == [
        ["start", "test"], ["end", "test"]]
    timeline.pytest_configure(SimpleNamespace(option=SimpleNamespace(dist="loadfile")))  # xdist's controller
    timeline.pytest_runtest_logstart("tests/a.py::test_two", None)
    assert len((tmp_path / "gw0.jsonl").read_text().splitlines()) == 2
    (tmp_path / "gw0.jsonl").write_text("".join(json.dumps(event) + "\n" for event in [
        {"test": "tests/a.py::t1", "start": 100.0}, {"test": "tests/a.py::t1", "end": 103.0},
        {"test": "tests/b.py::t2", "start": 103.0}, {"test": "tests/b.py::t2", "end": 104.5}]))
    (tmp_path / "gw1.jsonl").write_text("".join(json.dumps(event) + "\n" for event in [
        {"test": "tests/a.py::t3", "start": 100.5}, {"test": "tests/a.py::t3", "end": 102.5}]))
    assert timeline.summary(tmp_path).splitlines() == [
        "gw0: tests from 0.0 s to 4.5 s", "gw1: tests from 0.5 s to 2.5 s",
        "     5.0 s  tests/a.py", "     1.5 s  tests/b.py"]
    with pytest.raises(SystemExit, match="no <worker>.jsonl timelines"):
        timeline.summary(tmp_path / "empty")
