"""Compare runs side by side: ``python recipes/compare.py 'run_dirs=[runs/a,runs/b]'``.

Writes ``compare.md`` and ``compare.html`` (default into ``<first run>/compare``, or
``output_dir=...``): metrics, differing config keys, per-label F1 deltas for taggers, and a
paired bootstrap test with the most different sentences for translators.
"""

import hydra

from framework.cli import plain_config, user_errors
from framework.config import register_configs

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="compare")
def main(cfg):
    from framework.reporting.compare_report import write_comparison

    with user_errors():
        cfg = plain_config(cfg)  # a missing run_dirs: one line naming it, not a traceback
        paths = write_comparison(list(cfg.run_dirs), cfg.output_dir, cfg.bootstrap, cfg.examples, cfg.seed)
    for path in paths[:2]:
        print(path)


if __name__ == "__main__":
    main()
