"""TensorFlow's CPU thread pools from config (``trainer.intra_op_threads``, ``trainer.inter_op_threads``).

Why a setting: on a 2-core CPU, one thread an op trained the POS tagger 1.17-1.21x as fast as
TensorFlow's default of every core for every op (README "Threads"): small ops split across two
cores wait on each other, while the two directions of a BiRNN, as two loops, keep a core each busy.
It is not a default because it depends on the CPU and the model (a translator, the NER tagger:
0.93-1.06x). The pools start with TensorFlow's first op, so the recipes set them before any; a
process that has started them (a multirun trial after the first, in a shared process) can keep
them, not change them. ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS``, which TensorFlow
reads itself, count too.
"""

from __future__ import annotations

import os

import tensorflow as tf

from framework.errors import ConfigError
from framework.models import bidirectional

POOLS = {  # config key: (TensorFlow's getter, its setter, the environment variable it reads)
    "intra_op_threads": (tf.config.threading.get_intra_op_parallelism_threads,
                         tf.config.threading.set_intra_op_parallelism_threads, "TF_NUM_INTRAOP_THREADS"),
    "inter_op_threads": (tf.config.threading.get_inter_op_parallelism_threads,
                         tf.config.threading.set_inter_op_parallelism_threads, "TF_NUM_INTEROP_THREADS"),
}  # fmt: skip


def thread_count(key: str) -> int:
    """The pool's size as set in this process or its environment; 0: TensorFlow's default (every core)."""
    getter, _, variable = POOLS[key]
    count = getter()
    if count:
        return count
    try:
        return max(int(os.environ.get(variable, "0")), 0)
    except ValueError:  # TensorFlow ignores a value it cannot read, and so does this
        return 0


def apply_thread_settings(intra_op_threads: int | None, inter_op_threads: int | None) -> None:
    """Size TensorFlow's pools (None: leave them), then choose the bidirectional layers' loops for them."""
    for key, wanted in (("intra_op_threads", intra_op_threads), ("inter_op_threads", inter_op_threads)):
        if wanted is None or thread_count(key) == wanted:
            continue
        try:
            POOLS[key][1](wanted)
        except RuntimeError:  # "... cannot be modified after initialization"
            raise ConfigError(
                f"trainer.{key}={wanted}: TensorFlow's thread pools already run in this process with "
                f"{thread_count(key) or 'its default'}; give it a process of its own (not a sweep that varies it)"
            ) from None
    bidirectional.FUSE_IN_TRAINING = thread_count("intra_op_threads") != 1


def describe_threads() -> str:
    """For reports: the two pools' sizes as this process runs them."""
    return ", ".join(f"{key.replace('_threads', '').replace('_', '-')} {thread_count(key) or 'default'}"
                     for key in POOLS)  # fmt: skip
