"""The models and the search also run on PyTorch (``KERAS_BACKEND=torch``).

Issue 6's GPU check runs the Keras models on PyTorch (a machine with PyTorch but no TensorFlow),
so the backend-neutral tests run again here on that backend, in a subprocess: Keras fixes its
backend at import. ``.ci/run`` installs PyTorch's CPU build; without PyTorch this is skipped.
tests/test_gpu_check_script.py runs the GPU check's script itself.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# tests/test_benchmark.py is not rerun here: tests/test_gpu_check_script.py runs the benchmark recipe
# itself on PyTorch, every figure of it, and CI's 20 minutes are tight on a slow CPU (35 s saved there).
BACKEND_NEUTRAL = ["tests/models", "tests/inference"]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")


def test_backend_neutral_tests_pass_on_torch():
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *BACKEND_NEUTRAL],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout
