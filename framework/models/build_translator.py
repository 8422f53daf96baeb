"""Build a :class:`Seq2Seq` translator from a TranslatorModelConfig, through the cuDNN guard.

Every check that can be made from the config runs here, before any weight exists, and fails as
a one-line ConfigError naming the key: settings that take the RNNs off cuDNN, a bridge or an
attention that cannot map the encoder's sizes to the decoder's, and input feeding without
attention or without the cuDNN opt-out (see :func:`check_input_feeding`).
"""

from __future__ import annotations

from typing import Any

from framework.errors import ConfigError
from framework.models.bridge import Bridge, check_bridge
from framework.models.cudnn import check_cudnn, use_cudnn_argument
from framework.models.decoder import RNNDecoder
from framework.models.encoder import RNNEncoder
from framework.models.rnn_stack import opt_out_arguments
from framework.models.seq2seq import Seq2Seq


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


def build_translator(model: Any, source_vocab: int, target_vocab: int, bos_id: int = 1, eos_id: int = 2) -> Seq2Seq:
    """The Seq2Seq for a TranslatorModelConfig (plain, resolved) and the two vocabulary sizes.

    Raises:
        ConfigError: see :func:`check_translator_config`.
    """
    check_translator_config(model)
    rnn = model.rnn
    use_cudnn = use_cudnn_argument(rnn)
    arguments = opt_out_arguments(rnn) if rnn.allow_non_cudnn else {}
    encoder = RNNEncoder(source_vocab, model.embedding_dim, rnn.cell, rnn.units, rnn.layers,
                         model.encoder_bidirectional, rnn.dropout, use_cudnn, arguments, name="encoder")  # fmt: skip
    bridge = Bridge(model.bridge, rnn.cell, rnn.layers, rnn.layers, model.encoder_bidirectional, rnn.units,
                    rnn.units, name="bridge")  # fmt: skip
    attention = None if model.attention == "none" else model.attention
    decoder = RNNDecoder(target_vocab, model.embedding_dim, rnn.cell, rnn.units, rnn.layers, rnn.dropout, attention,
                         encoder.output_dim, model.tie_embeddings, use_cudnn, arguments,
                         input_feeding=model.input_feeding, name="decoder")  # fmt: skip
    return Seq2Seq(encoder.get_config(), bridge.get_config(), decoder.get_config(),
                   label_smoothing=model.label_smoothing, bos_id=bos_id, eos_id=eos_id, name="translator")  # fmt: skip
