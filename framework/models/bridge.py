"""Bridges: how the encoder's final states become the decoder's initial states, layer by layer.

- ``identity``: the decoder layer starts from exactly the encoder layer's final ``h`` (and ``c``);
  needs a one-directional encoder with as many units as the decoder.
- ``sum``: a bidirectional encoder's forward and backward states are added; needs equal units.
- ``concat_dense``: forward and backward states are concatenated and projected to the decoder's
  size (tanh for ``h``, linear for ``c``); works for any sizes.
Decoder layer ``j`` reads encoder layer ``j + (L_enc - L_dec)`` (the top layers) when the encoder is
deeper, and the top encoder layer for decoder layers beyond the encoder's depth.
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.model_checks import check_bridge


def source_layer(decoder_layer: int, encoder_layers: int, decoder_layers: int) -> int:
    """The encoder layer whose final states seed ``decoder_layer``."""
    return min(decoder_layer + max(0, encoder_layers - decoder_layers), encoder_layers - 1)


@keras.saving.register_keras_serializable(package="rnnseq")
class Bridge(keras.layers.Layer):
    """Map ``states[i]`` of an RNNEncoder to a list of decoder initial states per decoder layer.

    Args:
        kind: identity, sum or concat_dense.
        cell: "lstm" (states h, c) or "gru" (state h), the same for encoder and decoder.
        encoder_layers, decoder_layers: stack depths.
        bidirectional: whether the encoder is bidirectional.
        encoder_units, decoder_units: units per direction / per decoder layer.
    """

    def __init__(self, kind: str, cell: str, encoder_layers: int, decoder_layers: int, bidirectional: bool,
                 encoder_units: int, decoder_units: int, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        check_bridge(kind, bidirectional, encoder_units, decoder_units)
        self.kind, self.cell = kind, cell
        self.encoder_layers, self.decoder_layers = encoder_layers, decoder_layers
        self.bidirectional, self.encoder_units, self.decoder_units = bidirectional, encoder_units, decoder_units
        self.slots = 2 if cell == "lstm" else 1
        self.projections = []
        if kind == "concat_dense":
            for j in range(decoder_layers):
                self.projections.append([
                    keras.layers.Dense(decoder_units, activation="tanh" if slot == 0 else None, name=f"bridge_{j}_{slot}")
                    for slot in range(self.slots)
                ])  # fmt: skip

    def _directions(self, layer_states):
        """Split one encoder layer's states into (forward [h, c], backward [h, c] or None)."""
        if self.bidirectional:
            return layer_states[: self.slots], layer_states[self.slots :]
        return layer_states, None

    def call(self, states):
        initial = []
        for j in range(self.decoder_layers):
            forward, backward = self._directions(states[source_layer(j, self.encoder_layers, self.decoder_layers)])
            if self.kind == "identity":
                initial.append(list(forward))
            elif self.kind == "sum":
                initial.append([ops.add(f, b) for f, b in zip(forward, backward)])
            else:
                parts = zip(forward, backward) if backward is not None else ((f,) for f in forward)
                initial.append([dense(ops.concatenate(list(p), axis=-1)) for dense, p in zip(self.projections[j], parts)])
        return initial

    def get_config(self):
        return {
            **super().get_config(), "kind": self.kind, "cell": self.cell, "encoder_layers": self.encoder_layers,
            "decoder_layers": self.decoder_layers, "bidirectional": self.bidirectional,
            "encoder_units": self.encoder_units, "decoder_units": self.decoder_units,
        }  # fmt: skip
