"""Seeds, so two CPU runs of the same config give the same numbers."""

from __future__ import annotations

import os
import random

import keras
import numpy as np


def set_seeds(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and the Keras backend; with ``deterministic`` also ask TF for deterministic ops."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
