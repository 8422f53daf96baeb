"""The Hydra callback that writes the sweep report when a multirun ends."""

from __future__ import annotations

import logging

from omegaconf import OmegaConf
from sweep_helpers import fake_sweep

from framework.sweeps.callbacks import SweepReport


def _config(sweep_dir):
    return OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})


def test_writes_the_report_into_the_sweep_dir(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    SweepReport().on_multirun_end(_config(sweep))
    assert (sweep / "sweep_report.md").is_file() and (sweep / "trials.csv").is_file()


def test_disabled_writes_nothing(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep")
    SweepReport(enabled=False).on_multirun_end(_config(sweep))
    assert not (sweep / "sweep_report.md").exists()


def test_a_report_failure_is_logged_not_raised(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        SweepReport().on_multirun_end(_config(tmp_path / "empty"))
    assert "sweep report not written" in caplog.text
