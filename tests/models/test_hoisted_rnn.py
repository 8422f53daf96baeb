"""The faster generic loops compute exactly what stock Keras computes (outputs, states, gradients)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from framework.models.bidirectional import FusedBidirectional, reverse_within_lengths
from framework.models.cudnn import HOISTED, gpu_available, hoisting_everywhere, layer_kernel
from framework.models.hoisted_rnn import HoistedGRU, HoistedLSTM
from framework.models.precision import precision_policy

pytestmark = pytest.mark.skipif(gpu_available(), reason="on a GPU these layers defer to cuDNN")


@pytest.fixture(autouse=True)
def hoist_every_size():
    """The layers here are tiny, and under JAX the models keep Keras' loop: take the hoisted loop
    anyway (the threshold and the backends are speed choices; the loop's math is tested here)."""
    with hoisting_everywhere():
        yield


RNG = np.random.default_rng(0)
X = RNG.random((3, 6, 5)).astype("float32")
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]], bool)
CELLS = [
    (HoistedLSTM, keras.layers.LSTM, {}),
    (HoistedGRU, keras.layers.GRU, {}),
    (HoistedGRU, keras.layers.GRU, {"reset_after": False}),
]


def _pairs(outputs_a, outputs_b):
    listed = (lambda o: list(o) if isinstance(o, (list, tuple)) else [o])
    a, b = listed(outputs_a), listed(outputs_b)
    assert len(a) == len(b)
    return zip(a, b)


def _assert_same(outputs_a, outputs_b):
    for a, b in _pairs(outputs_a, outputs_b):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6)


def _twins(make_ours, make_stock):
    """A stock layer and ours with the same weights."""
    stock, ours = make_stock(), make_ours()
    stock(X, mask=MASK)
    ours(X, mask=MASK)
    ours.set_weights(stock.get_weights())
    return stock, ours


@pytest.mark.parametrize(("ours", "stock", "extra"), CELLS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [MASK, None])
def test_hoisted_layer_equals_stock(ours, stock, extra, go_backwards, mask):
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards, **extra)
    a, b = _twins(lambda: ours(4, **kwargs), lambda: stock(4, **kwargs))
    _assert_same(a(X, mask=mask, training=True), b(X, mask=mask, training=True))


@pytest.mark.parametrize(("ours", "stock", "extra"), CELLS)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("return_state", [True, False])
@pytest.mark.parametrize("mask", [MASK, None])
def test_one_loop_bidirectional_equals_stock(ours, stock, extra, return_sequences, return_state, mask):
    kwargs = dict(return_sequences=return_sequences, return_state=return_state, **extra)
    a, b = _twins(lambda: FusedBidirectional(ours(4, **kwargs)),
                  lambda: keras.layers.Bidirectional(stock(4, **kwargs)))  # fmt: skip
    for training in (True, False):  # the shared loop runs in training only
        _assert_same(b(X, mask=mask, training=training), a(X, mask=mask, training=training))


def _gradients(layer, loss_of_outputs):
    """d loss / d [X, *trainable weights] on the active backend (TensorFlow's tape, PyTorch's autograd)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = loss_of_outputs(layer(x, mask=MASK, training=True))
        return [g.numpy() for g in tape.gradient(loss, [x] + [v.value for v in layer.trainable_weights])]
    import torch

    x = torch.tensor(X, requires_grad=True)
    loss = loss_of_outputs(layer(x, mask=MASK, training=True))
    return [g.numpy() for g in torch.autograd.grad(loss, [x] + [v.value for v in layer.trainable_weights])]


needs_gradients = pytest.mark.skipif(keras.backend.backend() not in ("tensorflow", "torch"),
                                     reason="gradients taken with TensorFlow's tape or PyTorch's autograd")  # fmt: skip


@needs_gradients
@pytest.mark.parametrize(("ours", "stock", "extra"), CELLS[:2])
def test_gradients_equal_stock(ours, stock, extra):
    a, b = _twins(lambda: FusedBidirectional(ours(4, return_sequences=True, **extra)),
                  lambda: keras.layers.Bidirectional(stock(4, return_sequences=True, **extra)))  # fmt: skip
    weights = RNG.random((1, 1, 8)).astype("float32")
    grads = [_gradients(layer, lambda y: keras.ops.sum(keras.ops.multiply(y, weights))) for layer in (a, b)]
    for g_stock, g_ours in zip(*grads):
        np.testing.assert_allclose(g_stock, g_ours, atol=1e-5)


@needs_gradients
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_step_gradient_through_outputs_and_final_states(go_backwards):
    """Every output of a one-direction hoisted LSTM (all steps, final h and c) feeds the loss, and
    the gradients reach the weights and the inputs as Keras' do."""
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    stock, ours = _twins(lambda: HoistedLSTM(4, **kwargs), lambda: keras.layers.LSTM(4, **kwargs))
    weights = [RNG.random(shape).astype("float32") for shape in ((1, 1, 4), (1, 4), (1, 4))]
    def loss(outputs):
        return sum(keras.ops.sum(keras.ops.multiply(o, w)) for o, w in zip(outputs, weights))

    grads = [_gradients(layer, loss) for layer in (stock, ours)]
    for g_stock, g_ours in zip(*grads):
        np.testing.assert_allclose(g_stock, g_ours, atol=1e-5)


@pytest.mark.parametrize("gate_major", [True, False])
def test_both_lstm_layouts_equal_stock(monkeypatch, gate_major):
    """The [B, 4U] layout stays as the measuring stick for the gate-major one (GATE_MAJOR=False)."""
    monkeypatch.setattr("framework.models.hoisted_rnn.GATE_MAJOR", gate_major)
    for wrap_ours, wrap_stock in ((FusedBidirectional, keras.layers.Bidirectional), (lambda x: x, lambda x: x)):
        stock, ours = _twins(lambda: wrap_ours(HoistedLSTM(4, return_sequences=True)),
                             lambda: wrap_stock(keras.layers.LSTM(4, return_sequences=True)))  # fmt: skip
        _assert_same(stock(X, mask=MASK, training=True), ours(X, mask=MASK, training=True))


@pytest.mark.parametrize("fuse", [True, False])
def test_one_loop_is_taken_only_where_the_process_fuses(monkeypatch, fuse):
    """With one thread an op (framework.threads) the directions train as two loops, computing the same."""
    monkeypatch.setattr("framework.models.bidirectional.FUSE_IN_TRAINING", fuse)
    stock, ours = _twins(lambda: FusedBidirectional(HoistedLSTM(4, return_sequences=True)),
                         lambda: keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)))  # fmt: skip
    assert ours._fusable(None, training=True) is fuse
    _assert_same(stock(X, mask=MASK, training=True), ours(X, mask=MASK, training=True))


def test_reverse_within_lengths_keeps_padding_in_place():
    x = np.arange(12, dtype="float32").reshape(2, 6, 1)
    mask = np.array([[1] * 6, [1, 1, 1, 0, 0, 0]], bool)
    out = keras.ops.convert_to_numpy(reverse_within_lengths(x, mask))[..., 0]
    assert out.tolist() == [[5, 4, 3, 2, 1, 0], [8, 7, 6, 9, 10, 11]]


def test_config_round_trip_and_kernel_note():
    layer = FusedBidirectional(HoistedGRU(4, return_sequences=True))
    layer(X)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is FusedBidirectional and type(clone.forward_layer) is HoistedGRU
    assert layer_kernel(layer.forward_layer).endswith(HOISTED)
    assert not layer_kernel(keras.layers.GRU(4)).endswith(HOISTED)
    assert not layer_kernel(HoistedGRU(4, recurrent_dropout=0.2)).endswith(HOISTED)  # the stock loop runs


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a relaxed tf.function trace")
@pytest.mark.parametrize("wrapper", [None, FusedBidirectional])
@pytest.mark.parametrize(("ours", "stock", "extra"), CELLS[:2])
def test_unknown_time_dimension_runs_every_step(ours, stock, extra, wrapper):
    """A trace with the batch size known and the length not (what fit's relaxed retracing gives)
    must still run all steps: Keras' loop takes a missing length from inputs.shape[1]."""
    import tensorflow as tf

    x = RNG.random((3, 11, 5)).astype("float32")  # 11 steps > batch size 3
    mask = np.arange(11)[None, :] < np.array([[11], [7], [4]])
    build = (lambda layer: layer) if wrapper is None else (lambda layer: wrapper(layer))
    stock_wrap = (lambda layer: layer) if wrapper is None else keras.layers.Bidirectional
    a, b = stock_wrap(stock(4, return_sequences=True, **extra)), build(ours(4, return_sequences=True, **extra))
    a(x, mask=mask), b(x, mask=mask)
    b.set_weights(a.get_weights())
    traced = tf.function(lambda x, m: b(x, mask=m, training=True),
                         input_signature=[tf.TensorSpec([3, None, 5]), tf.TensorSpec([3, None], tf.bool)])  # fmt: skip
    _assert_same(a(x, mask=mask, training=True), traced(x, mask))


def test_small_layers_keep_the_stock_loop(monkeypatch):
    monkeypatch.setattr("framework.models.cudnn.MIN_HOISTED_UNITS", 8)
    assert not HoistedLSTM(4)._hoistable(True)
    assert HoistedLSTM(8)._hoistable(True)
    assert not layer_kernel(HoistedGRU(4)).endswith(HOISTED)


def test_mixed_precision_hoists_from_a_lower_size(monkeypatch):
    monkeypatch.setattr("framework.models.cudnn.MIN_HOISTED_UNITS", 256)
    monkeypatch.setattr("framework.models.cudnn.MIN_HOISTED_UNITS_MIXED", 128)
    assert not HoistedLSTM(128)._hoistable(True) and HoistedLSTM(256)._hoistable(True)
    with precision_policy("mixed_bfloat16"):
        small, medium = HoistedLSTM(64), HoistedLSTM(128)
    assert not small._hoistable(True) and medium._hoistable(True)
    assert layer_kernel(medium).endswith(HOISTED) and not layer_kernel(small).endswith(HOISTED)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize(("ours", "stock", "extra"), CELLS[:2])
def test_mixed_precision_one_loop_bidirectional_matches_stock(policy, ours, stock, extra):
    """16-bit compute, float32 weights: the same values as stock Keras up to 16-bit rounding."""
    with precision_policy(policy):
        stock_layer, our_layer = _twins(lambda: FusedBidirectional(ours(4, return_sequences=True, **extra)),
                                        lambda: keras.layers.Bidirectional(stock(4, return_sequences=True, **extra)))
    assert layer_kernel(our_layer.forward_layer).endswith(HOISTED)
    for training in (True, False):  # one loop for both directions in training, two in inference
        ours_out = our_layer(X, mask=MASK, training=training)
        stock_out = stock_layer(X, mask=MASK, training=training)
        assert keras.backend.standardize_dtype(ours_out.dtype) == policy.removeprefix("mixed_")
        as_float32 = (lambda y: keras.ops.convert_to_numpy(keras.ops.cast(y, "float32")))
        np.testing.assert_allclose(as_float32(ours_out), as_float32(stock_out), atol=2e-2)


def test_wrapper_ignores_load_models_object_sharing():
    """Keras' Bidirectional recreates the wrapped layer by serializing it; inside load_model's
    object-sharing scope objects are keyed by id(), which a freed temporary layer hands on to the
    next one, and the "recreated" layer came back as an earlier, unrelated one (seen once in CI:
    "Forward layer and backward layer should have different go_backwards value")."""
    from keras.src.saving import serialization_lib

    with serialization_lib.ObjectSharingScope():
        layer = HoistedLSTM(4, return_sequences=True)
        impostor = HoistedLSTM(3, name="impostor")
        serialization_lib.serialize_keras_object(layer)  # as if a freed layer at this address had been
        serialization_lib.record_object_after_deserialization(impostor, id(layer))  # saved and loaded
        wrapper = FusedBidirectional(layer)
    assert wrapper.forward_layer is not impostor and wrapper.backward_layer is not impostor
    assert wrapper.forward_layer.units == wrapper.backward_layer.units == 4
    assert not wrapper.forward_layer.go_backwards and wrapper.backward_layer.go_backwards
