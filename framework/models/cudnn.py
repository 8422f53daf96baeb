"""Which kernel each RNN layer runs on (cuDNN or generic), and the ``use_cudnn`` argument that makes it so.

Keras runs LSTM/GRU on cuDNN only with tanh/sigmoid, no recurrent dropout, no unroll, a bias,
right-padded masks and (GRU) ``reset_after=True``; otherwise it silently falls back to a much
slower generic loop (``use_cudnn="auto"``). We check those arguments at start-up, and on a GPU
build the layers with ``use_cudnn=True`` so that any remaining fallback fails loudly.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

import keras

from framework.models.model_checks import cudnn_violations

log = logging.getLogger(__name__)


# What framework.models.hoisted_rnn does on the generic kernel, appended to its kernel line.
HOISTED = ", input projection hoisted out of the time loop"
# Below this many units the hoisted loop measured slower than Keras' own (README "Speed
# benchmark": 0.90x at 128 units and batch 32, 0.79x at 50; 1.13-1.27x at 256 units, batch 64),
# so smaller layers keep the stock loop.
MIN_HOISTED_UNITS = 256
# The same under mixed precision (16-bit compute), where Keras' own loop is slower: the hoisted one
# trained 1.27x as fast at 128 units (pos_ud_ewt shapes, mixed_bfloat16) and 0.97x at 50 (README
# "Mixed precision").
MIN_HOISTED_UNITS_MIXED = 128
# The backends where the hoisted loops measured faster than Keras' own (README "Speed benchmark").
# Under JAX, whose XLA-compiled scan fuses Keras' loop, every one of them measured slower on a CPU
# (scripts/measure_rnn_loops.py, README "JAX"), so JAX keeps the stock loop.
HOISTING_BACKENDS = ("tensorflow", "torch")


def hoists(units: int, recurrent_dropout: float, unroll: bool, compute_dtype: str) -> bool:
    """Whether framework.models.hoisted_rnn's loop replaces Keras' generic one for such a layer
    (it computes the same thing; this is where it measured faster)."""
    if recurrent_dropout or unroll or keras.backend.backend() not in HOISTING_BACKENDS:
        return False
    return units >= (MIN_HOISTED_UNITS if compute_dtype == "float32" else MIN_HOISTED_UNITS_MIXED)


@contextlib.contextmanager
def hoisting_everywhere():
    """Within the block ``hoists`` answers yes at every size and on every backend (where the hoisted
    loops run is a speed choice): for measuring those loops and testing their math. Layers decide
    when traced: trace them within the block (``benchmarking.stock_loops`` is the opposite)."""
    global MIN_HOISTED_UNITS, MIN_HOISTED_UNITS_MIXED, HOISTING_BACKENDS
    saved = MIN_HOISTED_UNITS, MIN_HOISTED_UNITS_MIXED, HOISTING_BACKENDS
    MIN_HOISTED_UNITS = MIN_HOISTED_UNITS_MIXED = 1
    HOISTING_BACKENDS = (keras.backend.backend(),)
    try:
        yield
    finally:
        MIN_HOISTED_UNITS, MIN_HOISTED_UNITS_MIXED, HOISTING_BACKENDS = saved


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """Whether the active Keras backend sees a CUDA GPU (where cuDNN lives)."""
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_logical_devices("GPU"))
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available() and torch.backends.cudnn.is_available())
        if backend == "jax":
            import jax

            return any(device.platform == "gpu" for device in jax.devices())
    except Exception:  # noqa: BLE001 - no GPU runtime at all means no cuDNN
        return False
    return False


# Keras' PyTorch backend has no masked cuDNN path: a batch with padding runs the generic loop.
TORCH_PADDING = " (PyTorch backend: batches without padding; a padded batch runs the generic loop)"


def _cudnn_label() -> str:
    return "cuDNN" + (TORCH_PADDING if keras.backend.backend() == "torch" else "")


def use_cudnn_argument(rnn: Any) -> bool | str:
    """The ``use_cudnn`` value for Keras layers: True on a GPU (fallback fails loudly), else auto.

    On PyTorch "auto" even on a GPU: there a padded batch must fall back (see TORCH_PADDING)."""
    if rnn.use_cudnn == "never":
        return False
    if gpu_available() and not cudnn_violations(rnn) and keras.backend.backend() != "torch":
        return True
    return "auto"


def planned_kernel(rnn: Any) -> str:
    """'cuDNN' or 'generic (<why>)' for RNN layers built from ``rnn`` on this machine."""
    policy = keras.config.dtype_policy().compute_dtype  # the policy the layers will be built under
    hoisted = HOISTED if hoists(rnn.units, rnn.recurrent_dropout, rnn.unroll, policy) else ""
    if rnn.use_cudnn == "never":
        return f"generic (model.rnn.use_cudnn=never){hoisted}"
    reasons = cudnn_violations(rnn)
    if reasons:
        return f"generic ({'; '.join(reasons)}){hoisted}"
    if not gpu_available():
        return f"generic (no GPU visible to the {keras.backend.backend()} backend){hoisted}"
    return _cudnn_label()


def layer_kernel(layer: keras.layers.Layer) -> str:
    """'cuDNN' or 'generic (<why>)' for one built LSTM/GRU layer, read off its own arguments."""
    if getattr(layer, "stepwise_reason", None):  # run cell by cell (framework.models.decoder input feeding)
        return f"generic ({layer.stepwise_reason})"
    settings = _LayerSettings(layer)
    reasons = cudnn_violations(settings)
    if not reasons and layer.use_cudnn is not False and gpu_available():
        return _cudnn_label()
    # framework.models.hoisted_rnn layers; duck-typed, as that module imports this one
    hoisted = HOISTED if getattr(layer, "_hoistable", lambda training: False)(True) else ""
    if layer.use_cudnn is False:
        return f"generic (use_cudnn=False){hoisted}"
    if reasons:
        return f"generic ({'; '.join(reasons)}){hoisted}"
    return f"generic (no GPU visible to the {keras.backend.backend()} backend){hoisted}"


class _LayerSettings:
    """An RNNConfig-shaped view of a Keras LSTM/GRU layer, for ``cudnn_violations``."""

    def __init__(self, layer):
        self.cell = "gru" if isinstance(layer, keras.layers.GRU) else "lstm"
        self.recurrent_dropout = layer.recurrent_dropout
        self.activation = keras.activations.serialize(layer.activation)
        self.recurrent_activation = keras.activations.serialize(layer.recurrent_activation)
        self.unroll = layer.unroll
        self.use_bias = layer.use_bias
        self.reset_after = getattr(layer, "reset_after", True)


# Keras' PyTorch backend skips cuDNN inside torch.compile, which compile(jit_compile=True) wraps
# the training step in (TensorFlow instead turns XLA off for a model with cuDNN layers).
TORCH_COMPILED = "generic (trainer.jit_compile=true: Keras' PyTorch backend runs no cuDNN inside torch.compile)"


def kernel_report(model: keras.Model) -> dict[str, str]:
    """For each recurrent layer in ``model`` (inside Bidirectional too), the kernel it will use
    (in training, once the model is compiled)."""
    compiled = keras.backend.backend() == "torch" and bool(getattr(model, "jit_compile", False))
    report = {}
    for layer, path in _walk(model, model.path or model.name):
        if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            kernel = layer_kernel(layer)
            report[path] = TORCH_COMPILED if compiled and kernel.startswith("cuDNN") else kernel
    return report


def _walk(layer: keras.layers.Layer, path: str):
    """Sub-layers with their paths; a layer that only runs through its cell (input feeding) has
    no Keras path of its own, so it is named after its parent's."""
    children = list(getattr(layer, "_layers", []) or [])
    if isinstance(layer, keras.layers.Bidirectional):
        children += [layer.forward_layer, layer.backward_layer]
    for sub in children:
        sub_path = sub.path or f"{path}/{sub.name}"
        yield sub, sub_path
        yield from _walk(sub, sub_path)


def log_kernels(model: keras.Model) -> dict[str, str]:
    """Log the kernel of every RNN layer at start-up and return the report."""
    report = kernel_report(model)
    for name, kernel in report.items():
        log.info("RNN layer %s runs on: %s", name, kernel)
    return report
