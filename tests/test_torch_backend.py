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

ROOT = Path(__file__).resolve().parents[1]
BACKEND_NEUTRAL = ["tests/models", "tests/inference", "tests/test_benchmark.py"]
TINY = ["benchmark.batch_size=4", "benchmark.seq_len=6", "benchmark.units=8", "benchmark.embed_dim=8",
        "benchmark.layers=1", "benchmark.vocab_size=50", "benchmark.steps=1", "benchmark.warmup=1",
        "benchmark.rounds=1", "benchmark.decode_sentences=2", "benchmark.matmul_size=32"]  # fmt: skip

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")


def _on_torch(*args, timeout=1200):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_backend_neutral_tests_pass_on_torch():
    done = _on_torch("-m", "pytest", "-q", "-p", "no:cacheprovider", *BACKEND_NEUTRAL)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout


def test_benchmark_recipe_runs_on_torch(tmp_path):
    done = _on_torch("recipes/benchmark.py", *TINY, f"hydra.run.dir={tmp_path}", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "benchmark.json").read_text())
    assert result["environment"]["keras_backend"] == "torch"
    assert result["tagger"]["train_words_per_second"] > 0 and result["translator"]["beam5_sentences_per_second"] > 0
    assert all("torch" in kernel for kernel in result["tagger"]["kernels"].values())  # which device torch saw
