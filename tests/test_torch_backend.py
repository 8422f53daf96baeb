"""The models, the search and the benchmark also run on PyTorch (``KERAS_BACKEND=torch``).

Issue 6's GPU check runs the Keras models on PyTorch (a machine with PyTorch but no TensorFlow),
so the backend-neutral tests run again here on that backend, in a subprocess: Keras fixes its
backend at import. ``.ci/run`` installs PyTorch's CPU build; without PyTorch this is skipped.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark_helpers import tiny_overrides

ROOT = Path(__file__).resolve().parents[1]
BACKEND_NEUTRAL = ["tests/models", "tests/inference", "tests/test_benchmark.py"]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")


def test_backend_neutral_tests_pass_on_torch():
    """Includes tests/test_benchmark.py, whose recipe run checks that it ran on PyTorch."""
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *BACKEND_NEUTRAL],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout


def test_gpu_check_runs_without_tensorflow(tmp_path):
    """scripts/gpu_check.sh is meant for a GPU machine that has PyTorch but no TensorFlow: here an
    ``import tensorflow`` that fails stands in for that machine."""
    shim = tmp_path / "no_tensorflow" / "tensorflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ImportError("No module named tensorflow (test shim)")\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(shim.parent), "OUT": str(out)}
    # compare_kernels as the script sets it (TINY's false, passed after, would switch the comparison off)
    shapes = tiny_overrides("benchmark.", rounds=1, compare_kernels=True)
    done = subprocess.run(["bash", "scripts/gpu_check.sh", *shapes],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    result = json.loads((out / "benchmark.json").read_text())
    assert result["environment"]["keras_backend"] == "torch"
    assert set(result["gpu"]) >= {"default_vs_generic_kernel_speedup", "mixed_bfloat16_vs_float32_speedup",
                                  "one_call_vs_per_direction_cudnn_speedup", "generic_kernel_cudnn_passes_per_step"}
    assert result["tagger"]["cudnn_passes_per_step"] == 0  # no GPU here
    assert json.loads((out / "benchmark_gru.json").read_text())["shapes"]["cell"] == "gru"
    tests_log = (out / "tests.log").read_text()
    assert " passed" in tests_log and "failed" not in tests_log and "error" not in tests_log.lower(), tests_log
