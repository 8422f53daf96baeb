"""Counting the RNN passes that really ran on cuDNN (framework.models.kernel_observation).

The counting itself is checked on any machine with stand-ins for Keras' cuDNN functions; the
tests marked for a GPU run where one is visible (scripts/gpu_check.sh on a PyTorch GPU machine)
and check that the shipped layers reach cuDNN, in one call for both directions on PyTorch.
"""

from __future__ import annotations

import importlib

import keras
import numpy as np
import pytest

from framework.models import bidirectional as bidirectional_layers
from framework.models.bidirectional import FusedBidirectional
from framework.models.cudnn import gpu_available, kernel_report
from framework.models.hoisted_rnn import HoistedGRU, HoistedLSTM
from framework.models.kernel_observation import CUDNN_FUNCTIONS, cudnn_passes_in_first_step, observe_cudnn

BACKEND = keras.backend.backend()
needs_known_backend = pytest.mark.skipif(BACKEND not in CUDNN_FUNCTIONS, reason="no cuDNN functions to observe")
needs_torch_gpu = pytest.mark.skipif(BACKEND != "torch" or not gpu_available(), reason="needs a GPU on PyTorch")
needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs a GPU")


@pytest.mark.parametrize("backend", sorted(CUDNN_FUNCTIONS))
def test_keras_still_has_the_observed_functions(backend):
    """A Keras upgrade that renames them would make every count silently zero."""
    pytest.importorskip(backend)  # Keras' backend module imports its library (a GPU machine may lack TensorFlow)
    module_name, functions = CUDNN_FUNCTIONS[backend]
    module = importlib.import_module(module_name)
    assert all(callable(getattr(module, name, None)) for name in functions), module_name


@needs_known_backend
def test_counts_returns_not_raises_and_restores(monkeypatch):
    module = importlib.import_module(CUDNN_FUNCTIONS[BACKEND][0])
    calls = []

    def fake_cudnn_lstm(*args):
        calls.append(args)
        if args == ("fails",):
            raise RuntimeError("cuDNN refused")  # what Keras' PyTorch backend swallows
        return "outputs"

    monkeypatch.setattr(module, "_cudnn_lstm", fake_cudnn_lstm)
    with observe_cudnn() as counter:
        assert module._cudnn_lstm("runs") == "outputs"
        with pytest.raises(RuntimeError):
            module._cudnn_lstm("fails")
    assert counter.passes == 1 and len(calls) == 2
    assert module._cudnn_lstm is fake_cudnn_lstm  # put back


@needs_known_backend
@pytest.mark.skipif(BACKEND != "torch", reason="only Keras' PyTorch backend has a one-call bidirectional cuDNN path")
def test_one_call_bidirectional_counts_both_directions(monkeypatch):
    from keras.src import backend as keras_backend

    monkeypatch.setattr(keras_backend, "bidirectional_lstm", lambda *args, **kwargs: ("forward", "backward"))
    with observe_cudnn() as counter:
        keras_backend.bidirectional_lstm()
    assert counter.passes == 2


def _tagger_like(cell_class, units=8):
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(30, 6, mask_zero=True)(inputs)
    x = FusedBidirectional(cell_class(units, return_sequences=True))(x)
    x = FusedBidirectional(cell_class(units, return_sequences=True))(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_off_a_gpu_nothing_runs_on_cudnn():
    if gpu_available():
        pytest.skip("checks the CPU answer")
    words = np.random.default_rng(0).integers(1, 30, (2, 5)).astype("int32")
    assert cudnn_passes_in_first_step(_tagger_like(HoistedLSTM), words, np.zeros((2, 5), "int32")) == 0


@needs_gpu
@pytest.mark.parametrize("cell_class", [HoistedLSTM, HoistedGRU])
def test_on_a_gpu_every_direction_of_an_unpadded_batch_runs_on_cudnn(cell_class):
    model = _tagger_like(cell_class)
    words = np.random.default_rng(0).integers(1, 30, (4, 7)).astype("int32")
    assert len(kernel_report(model)) == 4
    assert cudnn_passes_in_first_step(model, words, np.zeros((4, 7), "int32")) == 4


@needs_torch_gpu
@pytest.mark.parametrize("cell_class", [HoistedLSTM, HoistedGRU])
def test_one_call_and_per_direction_cudnn_agree(monkeypatch, cell_class):
    """On a PyTorch GPU an unpadded batch runs both directions in one cuDNN call; the outputs
    equal the per-direction calls', and a padded batch runs neither (the generic loop)."""
    layer = FusedBidirectional(cell_class(5, return_sequences=True, return_state=True))
    x = np.random.default_rng(1).random((3, 6, 4)).astype("float32")
    unpadded, padded = np.ones((3, 6), bool), np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 6], bool)
    layer(x, mask=unpadded)
    outputs = {}
    for one_call in (True, False):
        monkeypatch.setattr(bidirectional_layers, "ONE_CALL_CUDNN", one_call)
        with observe_cudnn() as counter:
            outputs[one_call] = [keras.ops.convert_to_numpy(y) for y in layer(x, mask=unpadded)]
        assert counter.passes == 2
        with observe_cudnn() as counter:
            layer(x, mask=padded)
        assert counter.passes == 0
    for a, b in zip(outputs[True], outputs[False], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
