"""The sweep report: every trial in trials.csv and both documents, plots, escaping, Optuna section."""

from __future__ import annotations

import csv
import json

import pytest
from sweep_helpers import fake_sweep, make_trial, ok

from framework.reporting import sweep_plots
from framework.reporting.sweep_report import write_sweep_report


def test_report_lists_every_trial_best_first(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    paths = write_sweep_report(sweep)
    assert [p.name for p in paths[:3]] == ["trials.csv", "sweep_report.md", "sweep_report.html"]
    with open(sweep / "trials.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["trial"] for r in rows] == ["10", "0", "1", "2"]
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "incomplete"]
    assert rows[0]["model.rnn.units"] == "128" and rows[0]["dev/accuracy"] == "0.7"
    markdown = (sweep / "sweep_report.md").read_text()
    assert "python recipes/train.py model.rnn.units=128 trainer.epochs=1" in markdown
    assert "bad &lt;b&gt;rate&lt;/b&gt; \\| pipe" in markdown  # error text escaped, table intact
    page = (sweep / "sweep_report.html").read_text()
    assert "<b>rate" not in page and "&lt;b&gt;rate" in page
    assert (sweep / "plots" / "objective_vs_param_0.png").is_file()
    assert (sweep / "plots" / "best_trial_curves.png").is_file()


def test_report_with_optuna_summary(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    (sweep / "optuna.json").write_text(json.dumps({
        "study_name": "s", "storage": None, "direction": "maximize", "sampler": "tpe", "pruner": "none",
        "trials": [{"number": 0, "state": "COMPLETE", "value": 0.5, "params": {"u": 16}},
                   {"number": 1, "state": "FAIL", "value": None, "params": {"u": 32}},
                   {"number": 2, "state": "COMPLETE", "value": 0.7, "params": {"u": 128}}],
        "importances": {"model.rnn.units": 1.0}, "importance_note": ""}))  # fmt: skip
    write_sweep_report(sweep)
    markdown = (sweep / "sweep_report.md").read_text()
    assert "## Optuna study" in markdown
    assert (sweep / "plots" / "optuna_history.png").is_file()
    assert (sweep / "plots" / "optuna_importances.png").is_file()


def test_report_when_every_trial_failed(tmp_path):
    make_trial(tmp_path, "0", ["a=1"], {"status": "failed", "error": "boom"})
    make_trial(tmp_path, "1", ["a=2"], {"status": "failed", "error": "boom"})
    write_sweep_report(tmp_path)
    assert "No trial finished successfully." in (tmp_path / "sweep_report.md").read_text()


def test_report_recipe(tmp_path):
    from cli_helpers import run_as_user, shown

    sweep = fake_sweep(tmp_path / "sweep")
    result = run_as_user("report", f"sweep_dir={sweep}")
    assert result.returncode == 0, shown(result)
    assert (sweep / "sweep_report.html").is_file() and (sweep / "trials.csv").is_file()
    missing = run_as_user("report", f"sweep_dir={tmp_path / 'nope'}")
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "not found" in missing.stderr


def test_a_report_that_fails_to_build_leaves_the_csv_and_report_of_the_last_one(tmp_path, monkeypatch):
    sweep = fake_sweep(tmp_path / "sweep")
    write_sweep_report(sweep)
    before = {name: (sweep / name).read_bytes() for name in ("trials.csv", "sweep_report.md", "sweep_report.html")}
    make_trial(sweep, "11", ["model.rnn.units=256", "trainer.epochs=1"], ok(0.9))

    def broken_plot(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(sweep_plots, "objective_vs_param", broken_plot)
    with pytest.raises(RuntimeError, match="plotting failed"):
        write_sweep_report(sweep)
    assert {name: (sweep / name).read_bytes() for name in before} == before  # no new CSV beside a stale report
    assert not [p.name for p in sweep.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    write_sweep_report(sweep)
    assert "\n1,11,ok,0.9,256," in (sweep / "trials.csv").read_text()
    assert "model.rnn.units=256" in (sweep / "sweep_report.md").read_text()


def test_report_of_a_live_sweep_lists_a_trial_whose_overrides_are_being_written(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    (sweep / "2" / ".hydra" / "overrides.yaml").write_text("- 'model.rnn.uni")
    write_sweep_report(sweep)
    with open(sweep / "trials.csv", encoding="utf-8") as handle:
        rows = {r["trial"]: r for r in csv.DictReader(handle)}
    assert rows["2"]["status"] == "incomplete" and "overrides.yaml:1: not valid YAML" in rows["2"]["error"]


def test_a_bad_optuna_summary_is_a_one_line_data_error(tmp_path):
    from framework.errors import DataError
    from framework.reporting.sweep_report import _add_optuna
    from framework.reporting.document import Document

    (tmp_path / "optuna.json").write_text('{"direction": "maximize",\n "trials": [}')
    with pytest.raises(DataError, match=r"optuna\.json:2: not valid JSON"):
        _add_optuna(Document("t"), tmp_path, "dev/accuracy")
    (tmp_path / "optuna.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="expected a JSON object"):
        _add_optuna(Document("t"), tmp_path, "dev/accuracy")
