"""tf.distribute strategies from config, so several GPUs or machines use TensorFlow's own distribution."""

from __future__ import annotations

import tensorflow as tf

from framework.errors import ConfigError


def make_strategy(name: str) -> tf.distribute.Strategy:
    """default: one device; mirrored: all local GPUs; multi_worker: workers described by TF_CONFIG."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"trainer.strategy: unknown strategy {name!r} (default, mirrored or multi_worker)")
