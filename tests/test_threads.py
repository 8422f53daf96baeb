"""``trainer.intra_op_threads`` / ``inter_op_threads`` size TensorFlow's pools and choose the BiRNN loops.

TensorFlow's pools start with its first op and then stay, so each case runs in a fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's thread pools")

SET_THEN_CHANGE = """
import tensorflow as tf
from framework.errors import ConfigError
from framework.models import bidirectional
from framework.threads import apply_thread_settings, describe_threads

assert bidirectional.FUSE_IN_TRAINING and describe_threads() == "intra-op default, inter-op default"
apply_thread_settings(1, 2)
assert tf.config.threading.get_intra_op_parallelism_threads() == 1
assert tf.config.threading.get_inter_op_parallelism_threads() == 2
assert not bidirectional.FUSE_IN_TRAINING, "one thread an op: two loops"
assert describe_threads() == "intra-op 1, inter-op 2"
tf.constant(1.0) + 1  # the pools start
apply_thread_settings(1, None)  # what the process runs already: nothing to change
try:
    apply_thread_settings(2, None)
except ConfigError as err:
    print(err)
"""

FROM_ENVIRONMENT = """
from framework.models import bidirectional
from framework.threads import apply_thread_settings, describe_threads

apply_thread_settings(None, None)
print(describe_threads(), bidirectional.FUSE_IN_TRAINING)
"""


def _run(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_pools_are_set_before_the_first_op_and_refuse_a_change_after():
    assert _run(SET_THEN_CHANGE) == (
        "trainer.intra_op_threads=2: TensorFlow's thread pools already run in this process with 1; "
        "give it a process of its own (not a sweep that varies it)"
    )


@pytest.mark.parametrize(("threads", "expected"), [
    ("1", "intra-op 1, inter-op default False"),
    ("2", "intra-op 2, inter-op default True"),
    ("many", "intra-op default, inter-op default True"),  # TensorFlow ignores it too
])  # fmt: skip
def test_tensorflows_own_variable_counts_too(threads, expected):
    assert _run(FROM_ENVIRONMENT, TF_NUM_INTRAOP_THREADS=threads) == expected
