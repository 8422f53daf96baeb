"""Train a model into a run dir: ``python recipes/train.py experiment=pos_sample``.

Any config key can be overridden (``trainer.epochs=5 model.rnn.cell=gru``); re-running with the
same ``hydra.run.dir`` resumes an interrupted run. Returns the dev metric for sweeps.
"""

import hydra

from framework.cli import quiet_tensorflow, run_training
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg):
    return run_training(cfg)


if __name__ == "__main__":
    main()
