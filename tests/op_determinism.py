"""TensorFlow's op determinism switched for a block (tests only).

A seeded training run turns it on for the rest of its process, and under it Keras compiles
without XLA, with a warning only: a test that asks for ``jit_compile=True`` turns it off first."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def op_determinism(on: bool):
    """Op determinism on or off inside the block, as it was after it."""
    from tensorflow.python.framework import config

    was_on = config.is_op_determinism_enabled()
    (config.enable_op_determinism if on else config.disable_op_determinism)()
    try:
        yield
    finally:
        (config.enable_op_determinism if was_on else config.disable_op_determinism)()
