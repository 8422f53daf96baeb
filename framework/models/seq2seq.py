"""The encoder-decoder translator: encoder -> bridge -> decoder, composed from their configs.

Inputs are ``{"source": [B, S], "target_in": [B, T]}`` (right-padded ids, 0 = padding;
``target_in`` starts with BOS); the model outputs logits [B, T, V] and is trained against
``target_out`` (the target followed by EOS) with label-smoothed cross-entropy. Search strategies
(framework.inference.search) only use ``encode``, ``project_keys`` and ``decode_step``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from framework.models.bridge import Bridge
from framework.models.decoder import RNNDecoder
from framework.models.eager_build import BuildOnRealInputs
from framework.models.encoder import RNNEncoder


@keras.saving.register_keras_serializable(package="rnnseq")
class Seq2Seq(BuildOnRealInputs, keras.Model):
    """A recurrent translator whose encoder's final states seed the decoder, layer by layer.

    Args:
        encoder, bridge, decoder: config dicts of RNNEncoder, Bridge and RNNDecoder.
        label_smoothing: epsilon of the label-smoothed loss.
        bos_id, eos_id: target ids of the begin and end symbols.
    """

    def __init__(self, encoder: dict, bridge: dict, decoder: dict, label_smoothing: float = 0.1,
                 bos_id: int = 1, eos_id: int = 2, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.encoder = RNNEncoder.from_config(dict(encoder))
        self.bridge = Bridge.from_config(dict(bridge))
        self.decoder = RNNDecoder.from_config(dict(decoder))
        self.label_smoothing, self.bos_id, self.eos_id = label_smoothing, bos_id, eos_id
        self.settings = {"encoder": dict(encoder), "bridge": dict(bridge), "decoder": dict(decoder),
                         "label_smoothing": label_smoothing, "bos_id": bos_id, "eos_id": eos_id}  # fmt: skip

    def encode(self, source, training=False):
        """``(encoder outputs [B, S, D], source mask [B, S], decoder initial states)``: the states per
        layer, then (input feeding only) the zero attentional vector."""
        outputs, states = self.encoder(source, training=training)
        states = self.decoder.initial_feed(self.bridge(states), ops.shape(source)[0])
        return outputs, ops.not_equal(source, 0), states

    def call(self, inputs, training=False):
        outputs, mask, states = self.encode(inputs["source"], training=training)
        logits, _ = self.decoder(inputs["target_in"], states, outputs, mask, training=training)
        return logits

    def attention_weights(self, inputs):
        """Teacher-forced attention weights [B, T, S] (None without attention), for reports."""
        outputs, mask, states = self.encode(inputs["source"])
        return self.decoder(inputs["target_in"], states, outputs, mask)[1]

    def project_keys(self, encoder_outputs):
        """What attention computes from the source alone (additive: U k + b), kept for every
        ``decode_step`` of that source; None where there is nothing to keep."""
        return self.decoder.project_keys(encoder_outputs)

    def decode_step(self, tokens, states, encoder_outputs, source_mask, projected_keys=None):
        """Log-probabilities [B, V] of the next token, new states, attention weights [B, S]."""
        logits, states, weights = self.decoder.step(tokens, states, encoder_outputs, source_mask, projected_keys)
        return ops.log_softmax(logits, axis=-1), states, weights

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Label-smoothed cross-entropy, averaged over real target tokens."""
        mask = ops.cast(ops.not_equal(y, 0), "float32")
        log_probs = ops.log_softmax(y_pred, axis=-1)
        nll = -ops.sum(log_probs * ops.one_hot(y, ops.shape(y_pred)[-1]), axis=-1)
        smooth = -ops.mean(log_probs, axis=-1)
        token_loss = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        loss = ops.sum(token_loss * mask) / ops.maximum(ops.sum(mask), 1.0)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.settings}
