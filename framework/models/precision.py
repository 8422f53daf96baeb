"""Mixed precision from ``trainer.precision``: Keras' dtype policy while a model is built or loaded.

The global policy is set only around construction and restored afterwards, so nothing else in
the process (the benchmark's other models, the next run of a sweep) inherits it. Our models
build their sublayers in ``__init__`` under the global policy, which a saved model's config does
not record per sublayer, so a model is also reloaded under the policy it was built with (read
from its saved config). Under ``mixed_float16`` Keras' ``compile`` wraps the optimizer in a
``LossScaleOptimizer``; bfloat16 has float32's range and needs no loss scaling. Logits, losses,
the CRF and attention scores are computed in float32 by the models themselves.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import keras


@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[None]:
    """Build the models created inside with the dtype policy ``name`` (a ``trainer.precision``)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(str(name))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def saved_precision(path: str | Path) -> str:
    """The dtype policy a ``.keras`` file's model was built with (float32 when it records none)."""
    with zipfile.ZipFile(path) as archive:
        dtype = json.loads(archive.read("config.json")).get("config", {}).get("dtype")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    return dtype or "float32"


def load_model(path: str | Path) -> keras.Model:
    """``keras.models.load_model`` under the policy the model was trained with."""
    with precision_policy(saved_precision(path)):
        return keras.models.load_model(path)
