"""Export a trained run as a TensorFlow SavedModel: ``python recipes/export.py run_dir=<run dir>``.

Writes ``<run dir>/export`` (or ``output=<new dir>``): a SavedModel whose ``serve`` function tags raw
tokens (taggers) or classifies raw texts (classifiers), and ``rnnseq_export.json``, which says what it
takes and returns.
"""

import hydra

from framework.cli import quiet_tensorflow, run_task_command
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="export")
def main(cfg):
    print(run_task_command(cfg, "export"))


if __name__ == "__main__":
    main()
