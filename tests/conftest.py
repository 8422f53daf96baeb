"""Test-wide settings.

On a PyTorch GPU, cuDNN computes float32 RNNs in TF32 (a 10-bit mantissa) by default, which moves
outputs by ~1e-4 relative (seen on an H200: 8e-5 absolute against the generic loop). The tests
compare kernels and paths that must compute the same float32 math, so they turn TF32 off; the
benchmark keeps PyTorch's default and records it (framework.environment).
"""

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import contextlib

import keras
import pytest
from op_determinism import op_determinism


def pytest_configure(config):
    # pytest-xdist (3.6 and later) hands files out by their number of tests unless told not to, which
    # undid LONGEST_FIRST (below): in a run of 2026-12-03 one worker ran alone for the last 136 s.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if keras.backend.backend() != "torch":
        return
    try:
        import torch
    except ImportError:
        return
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


@pytest.fixture
def without_op_determinism():
    """Op determinism off for one test: a seeded training run earlier in this process may have turned it
    on, and with it on Keras will not compile with XLA (it sets ``jit_compile`` back to False, warning only)."""
    with op_determinism(False) if keras.backend.backend() == "tensorflow" else contextlib.nullcontext():
        yield


# The longest test files, longest first (seconds each took in one two-worker run of the suite on the
# 2-core Intel Xeon, 2026-12-03, 16:07 in all; README "Tests"; ``scripts/pytest_timeline.py`` measures them).
# CI runs the suite on two workers, one file at a time each (``-n 2 --dist loadfile``); a long file
# that starts last keeps one worker busy alone at the end, so these start first.
LONGEST_FIRST = [
    "tests/test_measurement_scripts.py",  # 210
    "tests/training/test_translator_run.py",  # 197
    "tests/training/test_tagger_run.py",  # 160
    "tests/sweeps/test_multirun.py",  # 129
    "tests/test_benchmark.py",  # 114
    "tests/test_torch_backend.py",  # 100
    "tests/training/test_lm_run.py",  # 86
    "tests/sweeps/test_optuna_search.py",  # 73
    "tests/models/test_seq2seq.py",  # 72
    "tests/test_cli_errors.py",  # 71
    "tests/training/test_precision.py",  # 70
    "tests/test_gpu_check_script.py",  # 47
    "tests/test_jax_backend.py",  # 44 in CI (skipped without $RNNSEQ_JAX_PYTHON)
    "tests/test_threads.py",  # 38
    "tests/training/test_classifier_run.py",  # 35
]


def pytest_collection_modifyitems(config, items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order
