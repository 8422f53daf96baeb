"""Range checks the typed schemas cannot express, run at start-up on the resolved config.

A schema says ``trainer.epochs`` is an int; only this says it must be at least 1. Without these
checks ``trainer.epochs=0`` ends, after the data has loaded, in "no epoch with a finite dev
metric", and ``model.rnn.dropout=1.5`` in a Keras traceback. Rules go by the key's own name, so
they hold in every task's schema (``model.rnn.units``, ``model.encoder.units``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import ConfigError

Rule = tuple[Callable[[Any], bool], str]

AT_LEAST_ONE: Rule = (lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
UNSET_OR_AT_LEAST_ONE: Rule = (lambda v: v is None or (isinstance(v, int) and v >= 1), "null or an integer >= 1")
NOT_NEGATIVE: Rule = (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0")
PROBABILITY_BELOW_ONE: Rule = (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a number in [0, 1)")  # a share
FRACTION: Rule = (lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "a number in [0, 1]")
UNSET_OR_POSITIVE: Rule = (lambda v: v is None or (isinstance(v, (int, float)) and math.isfinite(v) and v > 0),
                           "null or a positive number")  # fmt: skip

RULES_BY_NAME: dict[str, Rule] = {
    "epochs": AT_LEAST_ONE,
    "batch_size": AT_LEAST_ONE,
    "eval_batch_size": AT_LEAST_ONE,
    "units": AT_LEAST_ONE,
    "layers": AT_LEAST_ONE,
    "dim": AT_LEAST_ONE,
    "steps_per_execution": AT_LEAST_ONE,
    "bucket_width": AT_LEAST_ONE,
    "shuffle_buffer": AT_LEAST_ONE,
    "max_steps_per_epoch": UNSET_OR_AT_LEAST_ONE,
    "early_stopping_patience": NOT_NEGATIVE,
    "time_limit_minutes": UNSET_OR_POSITIVE,
    "clipnorm": UNSET_OR_POSITIVE,
    "seq_len": AT_LEAST_ONE,  # the benchmark's shapes and timing (recipes/benchmark.py)
    "embed_dim": AT_LEAST_ONE,
    "num_tags": AT_LEAST_ONE,
    "steps": AT_LEAST_ONE,
    "warmup": NOT_NEGATIVE,
    "rounds": AT_LEAST_ONE,
    "decode_sentences": AT_LEAST_ONE,
    "matmul_size": AT_LEAST_ONE,
    "vocab_size": (lambda v: isinstance(v, int) and v >= 4, "an integer >= 4"),  # padding, BOS, EOS and one more
    "beam_size": UNSET_OR_AT_LEAST_ONE,
    "nbest": UNSET_OR_AT_LEAST_ONE,
    "max_tokens": AT_LEAST_ONE,
    "dev_fraction": PROBABILITY_BELOW_ONE,  # all of train held out would leave nothing to train on
    "test_fraction": PROBABILITY_BELOW_ONE,
}


def rule_for(name: str) -> Rule | None:
    """The rule of a key named ``name``: by name, or any ``*dropout`` a probability below 1, any
    ``*_fraction`` a fraction."""
    if name in RULES_BY_NAME:
        return RULES_BY_NAME[name]
    if name.endswith("dropout"):
        return PROBABILITY_BELOW_ONE
    if name.endswith("_fraction"):
        return FRACTION
    return None


def check_ranges(settings: DictConfig | dict) -> None:
    """A ConfigError naming the first key whose value is out of its range."""
    tree = OmegaConf.to_container(settings) if OmegaConf.is_config(settings) else settings
    for key, value in _leaves(tree):
        rule = rule_for(key.rsplit(".", 1)[-1])
        if rule and not (not isinstance(value, bool) and rule[0](value)):
            raise ConfigError(f"{key}={value}: expected {rule[1]}")


def _leaves(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif not isinstance(tree, list):
        yield prefix.rstrip("."), tree
