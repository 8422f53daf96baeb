"""Report a sweep: ``python recipes/report.py sweep_dir=<sweep dir>``.

Writes ``sweep_report.md``, ``sweep_report.html`` and ``trials.csv`` into the sweep dir (the
same report a multirun writes when it ends); rerun it while a sweep is still going.
"""

import hydra

from framework.cli import plain_config, user_errors
from framework.config import register_configs

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="report")
def main(cfg):
    from framework.reporting.sweep_report import write_sweep_report

    with user_errors():
        cfg = plain_config(cfg)  # a missing sweep_dir: one line naming it, not a traceback
        paths = write_sweep_report(cfg.sweep_dir)
    for path in paths[:3]:
        print(path)


if __name__ == "__main__":
    main()
