"""The cuDNN guard: settings that take an LSTM/GRU off cuDNN are refused unless the user opts out,
the opt-out really reaches the layers, and the kernel report says which kernel each layer gets.

Expectations that depend on the machine (a GPU or not) are computed from ``gpu_available()``, so
these tests hold on the CPU-only CI box and on a GPU machine alike.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from framework.cli import plain_config
from framework.config import RNNConfig, register_configs
from framework.data.batching import encode, pad_batch
from framework.data.vocab import build_tagger_vocabs
from framework.errors import ConfigError, UserError
from framework.models.build import build_tagger
from framework.models.cudnn import (
    HOISTING_BACKENDS,
    TORCH_PADDING,
    gpu_available,
    kernel_report,
    layer_kernel,
    HOISTED,
    planned_kernel,
    use_cudnn_argument,
)
from framework.models.model_checks import check_cudnn, cudnn_violations
from framework.models.rnn_stack import RecurrentStack, stack_from_config

ROOT = Path(__file__).resolve().parents[2]
NO_GPU = f"generic (no GPU visible to the {keras.backend.backend()} backend)"
CUDNN = "cuDNN" + (TORCH_PADDING if keras.backend.backend() == "torch" else "")
PLAIN_ELIGIBLE = CUDNN if gpu_available() else NO_GPU  # stock Keras layers
HOISTED_HERE = HOISTED if keras.backend.backend() in HOISTING_BACKENDS else ""  # JAX keeps Keras' loop
ELIGIBLE = PLAIN_ELIGIBLE  # the framework's layers below MIN_HOISTED_UNITS run the stock loop


def _rnn(**settings):
    """An RNNConfig as the recipes see it: schema-checked, enums as plain strings."""
    return plain_config(OmegaConf.merge(OmegaConf.structured(RNNConfig), settings))


# (settings, text the refusal must contain)
BREAKING = [
    ({"recurrent_dropout": 0.2}, "recurrent_dropout=0.2"),
    ({"activation": "relu"}, "activation='relu'"),
    ({"recurrent_activation": "hard_sigmoid"}, "recurrent_activation='hard_sigmoid'"),
    ({"unroll": True}, "unroll=true"),
    ({"use_bias": False}, "use_bias=false"),
    ({"cell": "gru", "reset_after": False}, "reset_after=false"),
]
BREAKING_IDS = [next(iter(settings)) if "cell" not in settings else "gru_reset_after" for settings, _ in BREAKING]


# --- the config check -------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_defaults_are_cudnn_eligible(cell):
    rnn = _rnn(cell=cell)
    assert cudnn_violations(rnn) == []
    check_cudnn(rnn)  # no error
    assert planned_kernel(rnn) == ELIGIBLE


def test_reset_after_only_matters_for_gru():
    assert cudnn_violations(_rnn(cell="lstm", reset_after=False)) == []


@pytest.mark.parametrize(("settings", "named"), BREAKING, ids=BREAKING_IDS)
def test_each_breaking_setting_is_refused(settings, named):
    rnn = _rnn(**settings)
    reasons = cudnn_violations(rnn)
    assert len(reasons) == 1 and named in reasons[0] and "cuDNN" in reasons[0]
    with pytest.raises(ConfigError) as caught:
        check_cudnn(rnn)
    message = str(caught.value)
    assert isinstance(caught.value, UserError)  # the recipes print it as one line
    assert "cuDNN" in message and named in message
    assert "model.rnn.allow_non_cudnn=true" in message
    assert "\n" not in message
    with pytest.raises(ConfigError, match="cuDNN"):
        stack_from_config(rnn)  # the builder runs the guard itself


@pytest.mark.parametrize(("settings", "named"), BREAKING, ids=BREAKING_IDS)
def test_allow_non_cudnn_accepts_each_setting(settings, named):
    rnn = _rnn(**settings, allow_non_cudnn=True)
    check_cudnn(rnn)  # no error
    assert named in planned_kernel(rnn) and planned_kernel(rnn).startswith("generic (")
    assert use_cudnn_argument(rnn) == "auto"  # never True: that would fail on the GPU


def test_all_reasons_are_named_at_once():
    rnn = _rnn(cell="gru", recurrent_dropout=0.1, activation="relu", unroll=True, reset_after=False)
    assert len(cudnn_violations(rnn)) == 4
    with pytest.raises(ConfigError) as caught:
        check_cudnn(rnn, where="encoder.rnn")
    message = str(caught.value)
    for named in ("recurrent_dropout=0.1", "activation='relu'", "unroll=true", "reset_after=false"):
        assert named in message
    assert message.startswith("encoder.rnn:") and "encoder.rnn.allow_non_cudnn=true" in message


def test_use_cudnn_argument():
    # True (a fallback fails loudly) on a TensorFlow GPU; "auto" on PyTorch, where a padded batch must fall back
    eligible = True if gpu_available() and keras.backend.backend() != "torch" else "auto"
    assert use_cudnn_argument(_rnn()) == eligible
    assert use_cudnn_argument(_rnn(cell="gru")) == eligible
    assert use_cudnn_argument(_rnn(use_cudnn="never")) is False
    assert planned_kernel(_rnn(use_cudnn="never")) == "generic (model.rnn.use_cudnn=never)"
    assert planned_kernel(_rnn(use_cudnn="never", units=256)) == "generic (model.rnn.use_cudnn=never)" + HOISTED_HERE


@pytest.mark.skipif(gpu_available(), reason="checks the CPU-only answers")
def test_without_a_gpu_everything_is_generic():
    assert use_cudnn_argument(_rnn()) == "auto"
    assert planned_kernel(_rnn()) == NO_GPU
    assert planned_kernel(_rnn(units=256)) == NO_GPU + HOISTED_HERE
    assert NO_GPU.startswith("generic (no GPU visible")


def test_jax_keeps_the_stock_loop_where_the_others_hoist(monkeypatch):
    """Under JAX Keras' own (XLA-compiled) loop measured faster than the hoisted ones, so a layer
    that hoists on TensorFlow and PyTorch keeps the stock loop there, and the report says so."""
    from framework.models import cudnn
    from framework.models.hoisted_rnn import HoistedLSTM

    monkeypatch.setattr(cudnn, "gpu_available", lambda: False)
    for backend, hoisted in (("tensorflow", True), ("torch", True), ("jax", False)):
        monkeypatch.setattr(cudnn.keras.backend, "backend", lambda backend=backend: backend)
        assert cudnn.hoists(256, 0.0, False, "float32") is hoisted
        assert HoistedLSTM(256)._hoistable(True) is hoisted
        assert planned_kernel(_rnn(units=256)).endswith(HOISTED) is hoisted


# --- built layers -------------------------------------------------------------------------------


def _report(stack: RecurrentStack, features: int = 3) -> dict[str, str]:
    inputs = keras.Input((None, features))
    return kernel_report(keras.Model(inputs, stack(inputs)))


def test_kernel_report_of_an_eligible_stack():
    report = _report(stack_from_config(_rnn(units=4, layers=2)))
    assert sorted(report) == [
        "encoder/bilstm_0/backward_lstm_0",
        "encoder/bilstm_0/forward_lstm_0",
        "encoder/bilstm_1/backward_lstm_1",
        "encoder/bilstm_1/forward_lstm_1",
    ]
    assert set(report.values()) == {ELIGIBLE}


def test_kernel_report_on_a_torch_gpu_under_jit_compile_says_generic(monkeypatch, without_op_determinism):
    """torch.compile (compile(jit_compile=True) on PyTorch) makes Keras skip cuDNN; the report says so."""
    from framework.models import cudnn

    monkeypatch.setattr(cudnn, "gpu_available", lambda: True)
    monkeypatch.setattr(cudnn.keras.backend, "backend", lambda: "torch")
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, stack_from_config(_rnn(units=4, layers=1))(inputs))
    model.jit_compile = False  # what compile() leaves by default on PyTorch (under JAX the default is True)
    assert set(kernel_report(model).values()) == {"cuDNN" + TORCH_PADDING}
    model.jit_compile = True  # what compile(jit_compile=True) leaves on the model
    assert set(kernel_report(model).values()) == {cudnn.TORCH_COMPILED}


def test_kernel_report_names_the_reason_of_a_non_eligible_layer():
    rnn = _rnn(cell="gru", units=4, layers=1, bidirectional=False, recurrent_dropout=0.2, allow_non_cudnn=True)
    report = _report(stack_from_config(rnn))
    assert list(report) == ["encoder/gru_0"]
    assert report["encoder/gru_0"].startswith("generic (recurrent_dropout=0.2")
    assert "cuDNN has no recurrent dropout" in report["encoder/gru_0"]


@pytest.mark.parametrize(
    ("layer", "named"),
    [
        (keras.layers.LSTM(4, activation="relu"), "activation='relu'"),
        (keras.layers.LSTM(4, recurrent_activation="hard_sigmoid"), "recurrent_activation='hard_sigmoid'"),
        (keras.layers.LSTM(4, recurrent_dropout=0.3), "recurrent_dropout=0.3"),
        (keras.layers.LSTM(4, unroll=True), "unroll=true"),
        (keras.layers.GRU(4, use_bias=False), "use_bias=false"),
        (keras.layers.GRU(4, reset_after=False), "reset_after=false"),
        (keras.layers.GRU(4, use_cudnn=False), "use_cudnn=False"),
    ],
)
def test_layer_kernel_reads_the_layer_itself(layer, named):
    kernel = layer_kernel(layer)
    assert kernel.startswith("generic (") and named in kernel


def test_layer_kernel_of_plain_layers():
    assert layer_kernel(keras.layers.LSTM(4)) == PLAIN_ELIGIBLE
    assert layer_kernel(keras.layers.GRU(4)) == PLAIN_ELIGIBLE


def test_use_cudnn_never_reaches_the_layers():
    stack = stack_from_config(_rnn(units=4, layers=1, use_cudnn="never"))
    assert stack.use_cudnn is False
    assert set(_report(stack).values()) == {"generic (use_cudnn=False)"}


def test_opt_out_arguments_only_with_allow_non_cudnn():
    eligible = stack_from_config(_rnn(units=4, layers=1, allow_non_cudnn=True))
    forward = eligible.rnns[0].forward_layer
    assert forward.recurrent_dropout == 0.0 and forward.use_bias and not forward.unroll
    rnn = _rnn(units=4, layers=1, bidirectional=False, allow_non_cudnn=True, activation="relu",
               recurrent_activation="hard_sigmoid", recurrent_dropout=0.25, unroll=True, use_bias=False)  # fmt: skip
    layer = stack_from_config(rnn).rnns[0]
    assert isinstance(layer, keras.layers.LSTM)
    assert keras.activations.serialize(layer.activation) == "relu"
    assert keras.activations.serialize(layer.recurrent_activation) == "hard_sigmoid"
    assert (layer.recurrent_dropout, layer.unroll, layer.use_bias) == (0.25, True, False)
    gru = stack_from_config(_rnn(cell="gru", units=4, layers=1, reset_after=False, allow_non_cudnn=True)).rnns[0]
    assert gru.forward_layer.reset_after is False and gru.backward_layer.reset_after is False


# --- a whole model from a composed config ---------------------------------------------------------


def _model_config(*overrides: str):
    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", ["~experiment", "paths.root_dir=.", *overrides])
    return plain_config(cfg).model


def _vocabs():
    words = [["Peter", "lives", "in", "Berlin"], ["Hi", "Anna"]]
    tags = [["B-PER", "O", "O", "B-LOC"], ["O", "B-PER"]]
    return words, build_tagger_vocabs(words, tags, lowercase=False, min_freq=1, max_word_length=24)


def _built(model_cfg):
    words, vocabs = _vocabs()
    model = build_tagger(model_cfg, vocabs, "none", seed=1)
    inputs, _ = pad_batch([encode(w, vocabs) for w in words])
    model.predict_on_batch(inputs)
    return model, inputs


def test_a_model_config_with_recurrent_dropout_is_refused():
    model_cfg = _model_config("model=tiny", "model.rnn.recurrent_dropout=0.2")
    with pytest.raises(ConfigError, match=r"cuDNN.*recurrent_dropout=0\.2"):
        build_tagger(model_cfg, _vocabs()[1], "none")


def test_a_model_with_allow_non_cudnn_gets_the_opt_out_arguments(tmp_path):
    model_cfg = _model_config("model=tiny", "model.rnn.recurrent_dropout=0.2", "model.rnn.allow_non_cudnn=true")
    model, inputs = _built(model_cfg)
    layers = model.encoder.rnns[0]
    assert layers.forward_layer.recurrent_dropout == 0.2
    assert layers.backward_layer.recurrent_dropout == 0.2
    report = kernel_report(model)
    assert report and all("recurrent_dropout=0.2" in kernel for kernel in report.values())
    # evaluate/predict load the saved model: the opt-out survives the round trip.
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.encoder.rnns[0].forward_layer.recurrent_dropout == 0.2
    np.testing.assert_array_equal(loaded.predict_on_batch(inputs), model.predict_on_batch(inputs))


def test_kernel_report_of_a_tagger_with_char_bilstm():
    overrides = ("model.rnn.units=4", "model.rnn.layers=1", "model.chars.kind=bilstm", "model.chars.units=3")
    model, _ = _built(_model_config("model=bigru_crf", "model.embedding.dim=4", *overrides))
    report = kernel_report(model)
    encoder = [name for name in report if "/encoder/" in name]
    chars = [name for name in report if "/chars/" in name]
    assert len(encoder) == 2 and all("gru" in name for name in encoder)
    assert len(chars) == 2  # the character BiLSTM's two directions
    assert set(report.values()) == {ELIGIBLE}


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="Keras' PyTorch backend's cuDNN path")
def test_on_a_torch_gpu_a_batch_without_padding_reaches_cudnn_without_a_mask(monkeypatch):
    """Keras' PyTorch backend runs cuDNN only without a mask; an unpadded batch's mask is dropped
    there (same result), a padded batch keeps it and runs the generic loop. Checked on the CPU by
    pretending a GPU is visible: Keras' backend.lstm then runs its non-CUDA fallback."""
    from keras.src import backend as keras_backend

    from framework.models.hoisted_rnn import HoistedLSTM

    monkeypatch.setattr("framework.models.hoisted_rnn.gpu_available", lambda: True)
    monkeypatch.setattr("framework.models.cudnn.gpu_available", lambda: True)
    masks_seen = []
    backend_lstm = keras_backend.lstm

    def spy(*args, **kwargs):
        masks_seen.append(args[3])
        return backend_lstm(*args, **kwargs)

    monkeypatch.setattr(keras_backend, "lstm", spy)
    x = np.random.default_rng(0).random((2, 5, 3)).astype("float32")
    ours, stock = HoistedLSTM(4, return_sequences=True), keras.layers.LSTM(4, return_sequences=True)
    ours.build(x.shape), stock.build(x.shape)
    ours.set_weights(stock.get_weights())
    unpadded, padded = np.ones((2, 5), bool), np.array([[1] * 5, [1, 1, 1, 0, 0]], bool)
    # On a real GPU ours runs cuDNN where the stock layer (with a mask) runs the generic loop: float32
    # sums in another order (3.2e-6 apart on an H200, TF32 off); on a CPU both take the same loop.
    atol = 1e-5 if gpu_available() else 1e-6
    for mask in (unpadded, padded):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x, mask=mask)),
                                   keras.ops.convert_to_numpy(stock(x, mask=mask)), atol=atol)  # fmt: skip
    ours_masks = masks_seen[0::2]  # ours, then stock, per mask
    assert ours_masks[0] is None and ours_masks[1] is not None
    assert layer_kernel(ours) == "cuDNN" + TORCH_PADDING
    assert use_cudnn_argument(_rnn()) == "auto"  # a padded batch must be allowed to fall back
