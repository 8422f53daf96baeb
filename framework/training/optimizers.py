"""Optimizer and learning-rate schedule from an OptimizerConfig."""

from __future__ import annotations

from typing import Any

import keras

from framework.errors import ConfigError


def learning_rate(opt: Any, steps_per_epoch: int, epochs: int):
    """A float or a Keras schedule; decay rates are per epoch, converted to steps here."""
    steps_per_epoch = max(1, steps_per_epoch)
    if opt.schedule == "constant":
        return opt.learning_rate
    if opt.schedule == "inverse_time":  # lr / (1 + decay * epoch), as in Lample et al. (2016)
        return keras.optimizers.schedules.InverseTimeDecay(opt.learning_rate, steps_per_epoch, opt.decay_rate)
    if opt.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(opt.learning_rate, steps_per_epoch, 1.0 - opt.decay_rate)
    if opt.schedule == "cosine":
        warmup = int(opt.warmup_epochs * steps_per_epoch)
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else opt.learning_rate,
            decay_steps=max(1, epochs * steps_per_epoch - warmup),
            warmup_target=opt.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    raise ConfigError(f"optimizer.schedule: unknown schedule {opt.schedule!r}")


def build_optimizer(opt: Any, steps_per_epoch: int, epochs: int) -> keras.optimizers.Optimizer:
    """The Keras optimizer with global-norm gradient clipping (``clipnorm``; null disables)."""
    if not opt.learning_rate > 0:
        raise ConfigError(f"optimizer.learning_rate must be a positive number, got {opt.learning_rate}")
    rate = learning_rate(opt, steps_per_epoch, epochs)
    clip = {"global_clipnorm": opt.clipnorm} if opt.clipnorm else {}
    if opt.name == "adam":
        return keras.optimizers.Adam(rate, **clip)
    if opt.name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=opt.weight_decay, **clip)
    if opt.name == "sgd":
        return keras.optimizers.SGD(rate, momentum=opt.momentum, **clip)
    if opt.name == "rmsprop":
        return keras.optimizers.RMSprop(rate, **clip)
    raise ConfigError(f"optimizer.name: unknown optimizer {opt.name!r}")
