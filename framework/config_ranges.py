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
NOT_NEGATIVE_NUMBER: Rule = (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v >= 0,
                             "a number >= 0")  # fmt: skip

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
    "intra_op_threads": UNSET_OR_AT_LEAST_ONE,  # 0 would be TensorFlow's default: that is null here
    "inter_op_threads": UNSET_OR_AT_LEAST_ONE,
    "early_stopping_patience": NOT_NEGATIVE,
    "time_limit_minutes": UNSET_OR_POSITIVE,
    "clipnorm": UNSET_OR_POSITIVE,
    "learning_rate": (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v > 0, "a positive number"),
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
    # a slice of the data: 0 would leave nothing, a negative count cut the tail off instead
    "max_train_sentences": UNSET_OR_AT_LEAST_ONE,
    "max_train_pairs": UNSET_OR_AT_LEAST_ONE,
    "dev_max_sentences": UNSET_OR_AT_LEAST_ONE,
    "max_vocab": UNSET_OR_AT_LEAST_ONE,
    "max_length": AT_LEAST_ONE,
    "decay_rate": NOT_NEGATIVE_NUMBER,  # < 1 as well under the exponential schedule (check_ranges)
    "warmup_epochs": NOT_NEGATIVE_NUMBER,
    # lists: every item (the LM's samples after training)
    "temperatures": NOT_NEGATIVE_NUMBER,
    "seeds": NOT_NEGATIVE,
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
    """A ConfigError naming the first key whose value (or list item) is out of its range."""
    tree = OmegaConf.to_container(settings) if OmegaConf.is_config(settings) else settings
    for key, value in _leaves(tree):
        rule = rule_for(key.rsplit(".", 1)[-1].split("[", 1)[0])
        if rule and not (not isinstance(value, bool) and rule[0](value)):
            raise ConfigError(f"{key}={value}: expected {rule[1]}")
    optimizer = tree.get("optimizer") if isinstance(tree, dict) else None
    if isinstance(optimizer, dict) and optimizer.get("schedule") == "exponential":
        rate = optimizer.get("decay_rate")
        if isinstance(rate, (int, float)) and rate >= 1:  # the rate is multiplied by 1 - decay_rate an epoch
            raise ConfigError(f"optimizer.decay_rate={rate}: expected a number in [0, 1) under schedule=exponential")


def _leaves(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf; a list's items as ``key[i]``."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            if not isinstance(value, (dict, list)):
                yield f"{prefix.rstrip('.')}[{index}]", value
    else:
        yield prefix.rstrip("."), tree
