"""The benchmark's shapes at tiny sizes, shared by the tests that run the benchmark recipe, its
functions and the measuring scripts (they check the format and the figures' consistency, not speed)."""

from __future__ import annotations

TINY = {"batch_size": 4, "seq_len": 6, "units": 8, "embed_dim": 8, "layers": 1, "cell": "lstm", "vocab_size": 50,
        "num_tags": 5, "steps": 1, "warmup": 1, "rounds": 2, "decode_sentences": 3, "beam_size": 2, "matmul_size": 32,
        "compare_kernels": False}  # fmt: skip


def tiny_overrides(prefix: str = "", **changes) -> list[str]:
    """``TINY`` (with ``changes``) as ``key=value`` overrides: ``benchmark.`` for the recipe, none
    for the scripts' ``--set``."""
    return [f"{prefix}{key}={value}" for key, value in {**TINY, **changes}.items()]
