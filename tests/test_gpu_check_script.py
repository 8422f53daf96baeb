"""scripts/gpu_check.sh, issue 6's GPU check, runs on a machine with PyTorch but no TensorFlow.

Its own file, apart from tests/test_torch_backend.py, so that the two long PyTorch runs can go to
different test workers. Skipped without PyTorch (``.ci/run`` installs its CPU build).
"""

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from benchmark_helpers import tiny_overrides

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")


def test_gpu_check_runs_without_tensorflow(tmp_path):
    """scripts/gpu_check.sh is meant for a GPU machine that has PyTorch but no TensorFlow: here an
    ``import tensorflow`` that fails stands in for that machine. Its test files are only collected
    (imported, without TensorFlow): tests/test_torch_backend.py runs them on PyTorch."""
    shim = tmp_path / "no_tensorflow" / "tensorflow"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text('raise ImportError("No module named tensorflow (test shim)")\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(shim.parent), "OUT": str(out), "GPU_CHECK_PYTEST_ARGS": "--collect-only",
           "GPU_CHECK_ONE_PROCESS": "1"}  # fmt: skip
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
    assert tests_log.count(" collected in ") == 1 and "error" not in tests_log.lower(), tests_log
    for name in ("test_cudnn", "test_kernel_observation", "test_eager_build", "test_tagger", "test_seq2seq",
                 "test_language_model", "inference/test_"):  # every file's tests were collected
        assert f"tests/models/{name}.py::" in tests_log or f"tests/{name}" in tests_log, name
