"""Score a trained run: ``python recipes/evaluate.py run_dir=<run dir> split=test``.

Writes ``<split>.predictions.conll`` (conlleval input: word gold predicted) into the run dir and
merges the scores into its metrics.json; ``file=<path>`` scores another file of the same format.
"""

import hydra

from framework.cli import plain_config, quiet_tensorflow, user_errors
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")
def main(cfg):
    with user_errors():
        from framework.tagging_tasks import evaluate_run

        settings = plain_config(cfg)
        metrics = evaluate_run(settings.run_dir, settings.split, settings.file, settings.batch_size)
    for key, value in sorted(metrics.items()):
        print(f"{key}\t{value:.4f}" if isinstance(value, float) else f"{key}\t{value}")


if __name__ == "__main__":
    main()
