"""Tag new text: ``python recipes/predict.py run_dir=<run dir> input=sentences.txt output=tagged.conll``.

The input holds one sentence per line, tokens separated by spaces; the output has one
``word TAG`` line per token (tags in the training corpus's scheme) and a blank line between sentences.
"""

import hydra

from framework.cli import plain_config, quiet_tensorflow, user_errors
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg):
    with user_errors():
        from framework.tagging_tasks import predict_file

        settings = plain_config(cfg)
        count = predict_file(settings.run_dir, settings.input, settings.output, settings.batch_size)
    print(f"tagged {count} sentences -> {settings.output}")


if __name__ == "__main__":
    main()
