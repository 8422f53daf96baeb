"""Apply a trained run to new input.

Taggers: ``python recipes/predict.py run_dir=<run dir> input=sentences.txt output=tagged.conll``
(one sentence per line, tokens separated by spaces; writes ``word TAG`` lines in the training
corpus's tag scheme, a blank line between sentences).
"""

import hydra

from framework.cli import quiet_tensorflow, run_task_command
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg):
    print(run_task_command(cfg, "predict"))


if __name__ == "__main__":
    main()
