"""Every ``hparams_search`` option and the local launcher configs compose, typed, with their sweeper."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from framework.config import register_configs

CONF = Path(__file__).resolve().parents[2] / "conf"
SEARCHES = sorted(p.stem for p in (CONF / "hparams_search").glob("*.yaml"))

register_configs()


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides), return_hydra_config=True)


@pytest.mark.parametrize("search", SEARCHES)
def test_every_hparams_search_composes_in_multirun_mode(search):
    cfg = _compose(f"hparams_search={search}")
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert cfg.hydra.sweeper.params, "a search needs parameters"
    assert cfg.hydra.callbacks.sweep_report.enabled is True


def test_optuna_search_is_typed():
    cfg = _compose("hparams_search=pos_sample_optuna")
    assert cfg.hydra.sweeper._target_.startswith("hydra_plugins.rnnseq_optuna_sweeper.")
    assert cfg.hydra.sweeper.n_trials == 20 and cfg.hydra.sweeper.direction is None
    with pytest.raises(ConfigCompositionException):
        _compose("hparams_search=pos_sample_optuna", "hydra.sweeper.n_trials=many")
    with pytest.raises(ConfigCompositionException):
        _compose("hparams_search=pos_sample_optuna", "hydra.sweeper.n_trails=3")


def test_default_config_has_no_search():
    cfg = _compose()
    assert cfg.hydra.sweeper._target_.endswith("BasicSweeper")


def test_local_parallel_launcher_composes():
    cfg = _compose("hydra/launcher=local_parallel")
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2
