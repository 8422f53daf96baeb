"""The checks a model config must pass, in pure Python (no Keras), so that the train recipe runs them
at start-up, before reading any data or importing the backend: a mistake is refused in about a second
and nothing is written to the run dir. The model builders run them again (the benchmark and the
tests build models without a recipe).

- the cuDNN guard: settings that take an LSTM/GRU off the cuDNN kernel, refused unless the config
  opts out (``allow_non_cudnn``); framework.models.cudnn says which kernel a layer then runs on;
- a translator's input feeding, bridge, attention and sizes (framework.models.build_translator);
- a language model's direction (framework.models.language_model).

framework.tasks names each task's check (``check_model``).
"""

from __future__ import annotations

from typing import Any

from framework.errors import ConfigError

BRIDGES = ("identity", "sum", "concat_dense")


def cudnn_violations(rnn: Any) -> list[str]:
    """Reasons why layers built from ``rnn`` (an RNNConfig) could not run on cuDNN."""
    reasons = []
    if rnn.recurrent_dropout > 0:
        reasons.append(f"recurrent_dropout={rnn.recurrent_dropout} (cuDNN has no recurrent dropout; use dropout)")
    if rnn.activation != "tanh":
        reasons.append(f"activation='{rnn.activation}' (cuDNN needs tanh)")
    if rnn.recurrent_activation != "sigmoid":
        reasons.append(f"recurrent_activation='{rnn.recurrent_activation}' (cuDNN needs sigmoid)")
    if rnn.unroll:
        reasons.append("unroll=true (cuDNN runs the whole sequence in one kernel)")
    if not rnn.use_bias:
        reasons.append("use_bias=false (cuDNN needs a bias)")
    if rnn.cell == "gru" and not rnn.reset_after:
        reasons.append("reset_after=false (cuDNN's GRU applies the reset gate after the matmul)")
    return reasons


def check_cudnn(rnn: Any, where: str = "model.rnn") -> None:
    """Raise a ConfigError naming cuDNN unless every setting is eligible or the user opted out."""
    reasons = cudnn_violations(rnn)
    if reasons and not rnn.allow_non_cudnn:
        raise ConfigError(
            f"{where}: these settings take the RNN off the cuDNN kernel: {'; '.join(reasons)}. "
            f"Fix them, or set {where}.allow_non_cudnn=true to accept the slower generic kernel."
        )


def check_bridge(kind: str, bidirectional: bool, encoder_units: int, decoder_units: int) -> None:
    """Raise ValueError when ``kind`` cannot map these sizes (caught as a config error upstream)."""
    if kind not in BRIDGES:
        raise ValueError(f"bridge must be one of {', '.join(BRIDGES)}, got {kind!r}")
    if kind == "identity" and (bidirectional or encoder_units != decoder_units):
        raise ValueError("bridge=identity needs a one-directional encoder with as many units as the decoder; "
                         "use concat_dense (or sum for a bidirectional encoder of equal units)")  # fmt: skip
    if kind == "sum" and (not bidirectional or encoder_units != decoder_units):
        raise ValueError("bridge=sum needs a bidirectional encoder with as many units per direction as the decoder")


def check_input_feeding(model: Any) -> None:
    """Input feeding only with attention and with the explicit cuDNN opt-out.

    Input feeding (Luong et al. 2015) feeds the previous step's attentional vector into the next
    decoder step, so the teacher-forced decoder can no longer be one cuDNN call over the whole
    target: it becomes a step-wise loop over the cells (framework.models.decoder). Like every
    other setting that leaves cuDNN, it needs ``model.rnn.allow_non_cudnn=true``.
    """
    if not model.input_feeding:
        return
    if model.attention == "none":
        raise ConfigError("model.input_feeding=true feeds the previous attentional vector, so it needs attention: "
                          "set model.attention (dot, general or additive) or model.input_feeding=false")  # fmt: skip
    if not model.rnn.allow_non_cudnn:
        raise ConfigError("model.input_feeding=true makes the decoder step-wise (the previous attentional vector "
                          "feeds the next step), which takes it off the cuDNN kernel; set "
                          "model.rnn.allow_non_cudnn=true to accept that, or model.input_feeding=false "
                          "(attention is applied on top of the decoder RNN, Luong style)")  # fmt: skip


def _check_sizes(model: Any) -> None:
    """Layer counts, the bridge and dot attention against the encoder's and decoder's sizes."""
    rnn = model.rnn
    if rnn.layers < 1 or rnn.units < 1 or model.embedding_dim < 1:
        raise ConfigError("model.rnn.layers, model.rnn.units and model.embedding_dim must be at least 1")
    if not 0.0 <= model.label_smoothing < 1.0:
        raise ConfigError(f"model.label_smoothing must be in [0, 1), got {model.label_smoothing}")
    try:
        check_bridge(model.bridge, model.encoder_bidirectional, rnn.units, rnn.units)
    except ValueError as err:
        raise ConfigError(f"model.bridge: {err} (model.encoder_bidirectional={model.encoder_bidirectional})") from None
    if model.attention == "dot" and model.encoder_bidirectional:
        raise ConfigError("model.attention=dot needs encoder outputs the size of the decoder's (units), but a "
                          "bidirectional encoder gives 2 x units; use general or additive attention, or "
                          "model.encoder_bidirectional=false")  # fmt: skip


def check_translator_config(model: Any) -> None:
    """Every check of a TranslatorModelConfig that needs no data, so a run fails before reading any.

    Raises:
        ConfigError: input feeding, cuDNN-breaking RNN settings, or sizes the bridge/attention cannot map.
    """
    check_input_feeding(model)
    check_cudnn(model.rnn)
    _check_sizes(model)


def check_language_model_config(model: Any) -> None:
    """A LanguageModelConfig's checks: it reads left to right, through the cuDNN guard."""
    if model.rnn.bidirectional:
        raise ConfigError("model.rnn.bidirectional: a language model reads left to right; set it to false")
    check_cudnn(model.rnn)


def check_recurrent_model(model: Any) -> None:
    """A tagger's or classifier's model config: its recurrent stack, through the cuDNN guard."""
    check_cudnn(model.rnn)
