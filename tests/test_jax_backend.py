"""The models also run on JAX (``KERAS_BACKEND=jax``).

JAX runs Keras' training and prediction steps stateless (a tagger's ``predict_step`` gets the
weights as an argument) and traces its loops once (dropout masks drawn inside a loop would be the
same every batch), so a model that runs on TensorFlow and PyTorch can still fail there. These
tests rerun, in a subprocess (Keras fixes its backend at import), those that exercise exactly that,
and the kernel rule (JAX keeps Keras' own loop). The whole backend-neutral suite takes minutes under
JAX (XLA compiles every shape) and CI's 20 minutes are tight on a slow CPU, so not all of it runs here
(``KERAS_BACKEND=jax python3 -m pytest tests/models tests/inference tests/test_benchmark.py`` does).
They run on this Python where it has JAX, else on ``$RNNSEQ_JAX_PYTHON`` (``.ci/run`` installs JAX's
CPU build in an environment of its own and names its Python there); without either this is skipped.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ON_JAX = [
    "tests/models/test_tagger.py::test_predict_decodes_with_the_weights_of_the_moment",  # predict_step, stateless
    "tests/models/test_seq2seq.py::test_input_feeding_cells_apply_their_recurrent_dropout_in_training",
    "tests/models/test_seq2seq.py::test_one_step_decoding_equals_teacher_forcing[lstm-general-True-False-True]",
    "tests/models/test_cudnn.py::test_without_a_gpu_everything_is_generic",  # no hoisted loop under JAX
]

JAX_PYTHON = sys.executable if importlib.util.find_spec("jax") else os.environ.get("RNNSEQ_JAX_PYTHON")

pytestmark = pytest.mark.skipif(not JAX_PYTHON, reason="JAX is not installed (nor $RNNSEQ_JAX_PYTHON set)")


def test_models_run_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([JAX_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ON_JAX],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout and " skipped" not in done.stdout
