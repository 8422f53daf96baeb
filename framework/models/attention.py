"""Attention over encoder outputs: Luong (dot, general) and Bahdanau (additive), masked.

Used Luong style on top of the decoder RNN's outputs, so the teacher-forced decoder stays one
cuDNN call over the whole target and attention is a batched matmul afterwards.
"""

from __future__ import annotations

import keras
from keras import ops

ATTENTIONS = ("dot", "general", "additive")


@keras.saving.register_keras_serializable(package="rnnseq")
class Attention(keras.layers.Layer):
    """Scores each source position for each target position and returns the weighted context.

    ``call(query [B, T, Dq], keys [B, S, Dk], mask [B, S])`` returns
    ``(context [B, T, Dk], weights [B, T, S])``; padded source positions get zero weight.
    A decoder that scores one query at a time against the same keys passes ``projected_keys``,
    computed once by :meth:`project_keys`, instead of having the keys projected at every call.

    Args:
        kind: "dot" (Luong; needs Dq == Dk), "general" (Luong, q · W k) or "additive" (Bahdanau, v · tanh(W q + U k)).
        query_dim: Dq, the decoder's output size (general projects keys to it).
        units: hidden size of the additive score.
    """

    def __init__(self, kind: str = "general", query_dim: int = 256, units: int = 256, **kwargs):
        super().__init__(**kwargs)
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}, got {kind!r}")
        self.kind, self.query_dim, self.units = kind, query_dim, units
        self.supports_masking = True  # the query's Keras mask is not needed: ``mask`` is the source mask
        if kind == "general":
            self.key_projection = keras.layers.Dense(query_dim, use_bias=False, name="general")
        if kind == "additive":
            self.query_projection = keras.layers.Dense(units, use_bias=False, name="query")
            self.key_projection = keras.layers.Dense(units, use_bias=True, name="key")
            self.score_vector = keras.layers.Dense(1, use_bias=False, name="score")

    def project_keys(self, keys):
        """What the scores take from the keys alone, for reuse across queries: U k + b for additive, else None.

        Decoding scores one output token at a time against the same source; projecting its keys
        inside every step redid [B, S, Dk] x [Dk, units] per token (general needs nothing: it
        projects the query, see ``scores``).
        """
        return self.key_projection(keys) if self.kind == "additive" else None

    def scores(self, query, keys, projected_keys=None):
        """Unnormalised scores [B, T, S]; ``projected_keys`` as from :meth:`project_keys`, or None."""
        if self.kind == "dot":
            return ops.matmul(query, ops.transpose(keys, (0, 2, 1)))
        if self.kind == "general":
            # q · (W k) computed as (q Wᵀ) · k (as OpenNMT does): the same weights, but the product
            # costs B·T·Dq·Dk instead of B·S·Dk·Dq. A decoding step has T = 1, so projecting the keys
            # redid the whole source's projection at every output token (a third of beam search's time).
            if not self.key_projection.built:
                self.key_projection.build(keys.shape)
            kernel = ops.cast(self.key_projection.kernel, query.dtype)  # [Dk, Dq]
            return ops.matmul(ops.matmul(query, ops.transpose(kernel)), ops.transpose(keys, (0, 2, 1)))
        if projected_keys is None:
            projected_keys = self.key_projection(keys)
        hidden = ops.tanh(ops.expand_dims(self.query_projection(query), 2) + ops.expand_dims(projected_keys, 1))
        return ops.squeeze(self.score_vector(hidden), -1)

    def call(self, query, keys, mask=None, projected_keys=None):
        scores = ops.cast(self.scores(query, keys, projected_keys), "float32")
        if mask is not None:
            scores = ops.where(ops.expand_dims(mask, 1), scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        context = ops.matmul(ops.cast(weights, keys.dtype), keys)
        return context, weights

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "query_dim": self.query_dim, "units": self.units}
