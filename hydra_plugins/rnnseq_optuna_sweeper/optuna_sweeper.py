"""A Hydra Sweeper that runs an Optuna study: ``hydra/sweeper=optuna`` (or ``hparams_search=...``).

Hydra only instantiates sweepers found under the ``hydra_plugins`` namespace package, so this
module holds the plugin class and its typed config; the search logic lives in
:mod:`framework.sweeps.optuna_search`. Optuna is imported only when a sweep starts: Hydra
imports every plugin module on every start-up, single runs included.
"""

# No ``from __future__ import annotations``: Hydra imports plugin modules without entering them
# in sys.modules, and dataclasses then cannot resolve string annotations.
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


@dataclass
class OptunaSweeperConf:
    """``hydra.sweeper``: the study and its search space.

    ``direction`` null takes the task's (maximize, or minimize for language models);
    ``n_trials`` is the study's size, so a resumed study only runs what it still owes;
    ``n_jobs`` trials are asked per batch and launched together (parallel with joblib);
    ``pruner: median`` stops a trial whose dev metric after an epoch is below the median of
    earlier trials at that epoch (in-process launcher only).
    """

    _target_: str = "hydra_plugins.rnnseq_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    direction: Optional[str] = None  # maximize | minimize | null (the task's)
    study_name: Optional[str] = None
    storage: Optional[str] = None  # e.g. sqlite:///runs/optuna/pos_sample.db; null = in memory
    n_trials: int = 20
    n_jobs: int = 1
    sampler: str = "tpe"  # tpe | random
    seed: Optional[int] = None
    n_startup_trials: int = 5  # tpe: random trials before the model-based search
    pruner: str = "none"  # none | median
    pruner_warmup_epochs: int = 1  # median: never prune before this many epochs
    params: Dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(group="hydra/sweeper", name="optuna", node=OptunaSweeperConf, provider="rnnseq")


class OptunaSweeper(Sweeper):
    """Ask Optuna for trials, launch them with the configured launcher, tell it the results."""

    def __init__(self, **settings: Any) -> None:
        self.settings = OptunaSweeperConf(**settings)
        self.config: Optional[DictConfig] = None
        self.hydra_context: Optional[HydraContext] = None
        self.launcher = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context  # validate_batch_is_legal composes each trial's config with it
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: List[str]) -> Any:
        from framework.cli import user_errors
        from framework.io import atomic_write_text
        from framework.sweeps.optuna_search import run_study

        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        # what OmegaConf.save writes, but replaced atomically: never a half-written multirun.yaml
        atomic_write_text(sweep_dir / "multirun.yaml", OmegaConf.to_yaml(self.config))
        task = OmegaConf.select(self.config, "task", default=None)
        with user_errors():  # a bad search space or setting (or a clash with another run): one error line, exit 2
            return run_study(self, self.settings, arguments, sweep_dir, task)
