"""Hydra callback that writes the sweep report when a multirun ends.

Configured in ``conf/hydra/default.yaml`` under ``hydra.callbacks``, so every
``python recipes/train.py -m ...`` leaves ``sweep_report.{md,html}`` and ``trials.csv`` in its
sweep dir without a second command. Importing this module must stay cheap: Hydra instantiates
callbacks for single runs too.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SweepReport(Callback):
    """Write the sweep report into ``hydra.sweep.dir`` after the last trial.

    Args:
        enabled: set ``hydra.callbacks.sweep_report.enabled=false`` to skip the report.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """A report failure is logged, never raised: the trials' results are already on disk."""
        if not self.enabled:
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            from framework.reporting.sweep_report import write_sweep_report

            paths = write_sweep_report(sweep_dir)
        except Exception as err:  # noqa: BLE001 - the sweep itself succeeded
            log.warning("sweep report not written: %s: %s", type(err).__name__, err)
            return
        log.info("sweep report: %s", paths[2] if len(paths) > 2 else sweep_dir)
