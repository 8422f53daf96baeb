"""Building a translator from its typed config: options, the cuDNN guard and refused settings."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.errors import ConfigError
from framework.models.build_translator import build_translator
from framework.schemas.translation import TranslatorModelConfig

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)


def _model(**overrides):
    rnn = {"cell": "lstm", "units": 8, "layers": 1, "dropout": 0.0, **overrides.pop("rnn", {})}
    cfg = OmegaConf.structured(TranslatorModelConfig(name="t", embedding_dim=8))
    cfg = OmegaConf.merge(cfg, {"rnn": rnn, **overrides})
    return OmegaConf.create(OmegaConf.to_container(cfg, enum_to_str=True))


@pytest.mark.parametrize("overrides", [
    {"encoder_bidirectional": False, "bridge": "identity", "attention": "none"},
    {"encoder_bidirectional": True, "bridge": "concat_dense", "attention": "general", "rnn": {"cell": "gru"}},
    {"encoder_bidirectional": True, "bridge": "sum", "attention": "additive", "tie_embeddings": True},
    {"encoder_bidirectional": False, "bridge": "concat_dense", "attention": "dot", "rnn": {"layers": 2}},
])
def test_every_option_builds_and_runs(overrides):
    model = build_translator(_model(**overrides), 30, 20)
    batch = {"source": np.array([[4, 5, 2], [6, 2, 0]], "int32"), "target_in": np.array([[1, 7], [1, 8]], "int32")}
    logits = to_numpy(model(batch))
    assert logits.shape == (2, 2, 20)
    assert (model.bos_id, model.eos_id) == (1, 2)
    has_attention = overrides["attention"] != "none"
    assert (model.attention_weights(batch) is not None) == has_attention


def test_input_feeding_needs_attention_and_the_cudnn_opt_out():
    with pytest.raises(ConfigError, match="step-wise.*off the cuDNN kernel.*allow_non_cudnn=true"):
        build_translator(_model(input_feeding=True), 30, 20)
    with pytest.raises(ConfigError, match="needs attention"):
        build_translator(_model(input_feeding=True, attention="none", rnn={"allow_non_cudnn": True}), 30, 20)
    model = build_translator(_model(input_feeding=True, rnn={"allow_non_cudnn": True}), 30, 20)
    batch = {"source": np.array([[4, 5, 2], [6, 2, 0]], "int32"), "target_in": np.array([[1, 7], [1, 8]], "int32")}
    assert to_numpy(model(batch)).shape == (2, 2, 20)
    assert model.decoder.input_feeding


@pytest.mark.parametrize("overrides,fragment", [
    ({"encoder_bidirectional": True, "bridge": "identity"}, "model.bridge: bridge=identity needs"),
    ({"encoder_bidirectional": False, "bridge": "sum"}, "model.bridge: bridge=sum needs"),
    ({"encoder_bidirectional": True, "attention": "dot"}, "model.attention=dot"),
    ({"rnn": {"recurrent_dropout": 0.2}}, "model.rnn: these settings take the RNN off the cuDNN kernel"),
    ({"label_smoothing": 1.0}, "model.label_smoothing"),
])
def test_impossible_settings_are_config_errors(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        build_translator(_model(**overrides), 30, 20)


def test_schema_has_no_ignored_bidirectional_key():
    fields = {f.name for f in dataclasses.fields(TranslatorModelConfig().rnn)}
    assert "bidirectional" not in fields and "allow_non_cudnn" in fields
