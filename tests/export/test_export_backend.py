"""recipes/export.py writes a TensorFlow SavedModel: on another Keras backend it says so in one line."""

from __future__ import annotations

import pytest

from framework import cli
from framework.errors import ConfigError


def test_export_refuses_another_keras_backend(monkeypatch):
    keras = pytest.importorskip("keras")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ConfigError, match="run it on KERAS_BACKEND=tensorflow, not jax"):
        cli._check_export_backend()
