"""Build a :class:`Seq2Seq` translator from a TranslatorModelConfig, through the cuDNN guard.

Every check that can be made from the config (framework.models.model_checks, which the recipes
also run at start-up) runs again here, before any weight exists, and fails as a one-line
ConfigError naming the key: settings that take the RNNs off cuDNN, a bridge or an attention that
cannot map the encoder's sizes to the decoder's, and input feeding without attention or without
the cuDNN opt-out.
"""

from __future__ import annotations

from typing import Any

from framework.models.bridge import Bridge
from framework.models.cudnn import use_cudnn_argument
from framework.models.decoder import RNNDecoder
from framework.models.encoder import RNNEncoder
from framework.models.model_checks import check_translator_config
from framework.models.rnn_stack import opt_out_arguments
from framework.models.seq2seq import Seq2Seq


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
