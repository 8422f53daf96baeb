"""Score a trained run: ``python recipes/evaluate.py run_dir=<run dir> split=test``.

Writes the split's predictions into the run dir and merges the scores into its metrics.json;
``file=<path>`` scores another file of the same format.
"""

import hydra

from framework.cli import quiet_tensorflow, run_task_command
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")
def main(cfg):
    metrics = run_task_command(cfg, "evaluate")
    for key, value in sorted(metrics.items()):
        print(f"{key}\t{value:.4f}" if isinstance(value, float) else f"{key}\t{value}")


if __name__ == "__main__":
    main()
