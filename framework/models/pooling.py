"""Pool a recurrent encoder's outputs [batch, time, dim] into one vector per text [batch, dim].

Every pooling reads only real time steps: padding (mask False) never enters a max, a mean
or an attention distribution, so a text's vector does not depend on how much padding its
batch needed. ``last`` is different in kind: it *is* the final recurrent layer, run with
``return_sequences=False``, because Keras then returns the state at the last real token of a
right-padded sequence (and, bidirectionally, the backward state after the first token).
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.bidirectional import FusedBidirectional
from framework.models.rnn_stack import recurrent_layer

POOLINGS = ("last", "max", "mean", "attention")


def _float_mask(mask, x):
    """[B, T, 1] mask in x's dtype (all ones when there is no mask)."""
    if mask is None:
        return ops.ones_like(x[..., :1])
    return ops.cast(ops.expand_dims(mask, -1), x.dtype)


def masked_max(x, mask=None):
    """Max over real steps of [B, T, D] -> [B, D]; a row with no real step gives zeros."""
    weights = _float_mask(mask, x)
    lowest = ops.min(x) - 1.0  # below every real value, and finite (no inf * 0 = nan)
    pooled = ops.max(ops.where(weights > 0, x, lowest), axis=1)
    return ops.where(ops.max(weights, axis=1) > 0, pooled, ops.zeros_like(pooled))


def masked_mean(x, mask=None):
    """Mean over real steps of [B, T, D] -> [B, D]; a row with no real step gives zeros."""
    x = ops.convert_to_tensor(x)
    weights = _float_mask(mask, x)
    return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="rnnseq")
class AttentionPooling(keras.layers.Layer):
    """Additive attention pooling: ``a = softmax_t(v . tanh(W h_t + b))``, output ``sum_t a_t h_t``.

    The scorer of Bahdanau et al. (2015) with a single learned query, as used for document
    classification by Yang et al. (2016). Padded steps get zero weight.

    Args:
        units: size of the scorer's hidden layer.

    Example:
        >>> pooled = AttentionPooling(32)(keras.ops.ones((2, 5, 8)))  # [2, 8]
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"attention units must be positive, got {units}")
        self.units = units
        self.supports_masking = True
        self.hidden = keras.layers.Dense(units, activation="tanh", name="hidden")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))
        self.built = True

    def weights_over_time(self, x, mask=None):
        """Attention weights [B, T] (rows sum to 1 over real steps; 0 at padding)."""
        scores = ops.squeeze(self.score(self.hidden(x)), -1)
        scores = ops.cast(scores, "float32")
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:  # an all-padding row would otherwise spread 1/T over padding
            weights = weights * ops.cast(mask, weights.dtype)
        return weights

    def call(self, x, mask=None):
        weights = ops.cast(self.weights_over_time(x, mask), x.dtype)
        return ops.sum(x * ops.expand_dims(weights, -1), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="rnnseq")
class SequencePooling(keras.layers.Layer):
    """Masked ``max``, ``mean`` or ``attention`` pooling over time: [B, T, D] -> [B, D].

    Args:
        mode: "max", "mean" or "attention".
        attention_units: the attention scorer's hidden size (attention only).
    """

    def __init__(self, mode: str = "max", attention_units: int = 64, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean", "attention"):
            raise ValueError(f"pooling mode must be max, mean or attention (last is FinalState), got {mode!r}")
        self.mode, self.attention_units = mode, attention_units
        self.supports_masking = True
        self.attention = AttentionPooling(attention_units, name="attention") if mode == "attention" else None

    def build(self, input_shape):
        if self.attention is not None:
            self.attention.build(input_shape)
        self.built = True

    def call(self, x, mask=None):
        if self.mode == "max":
            return masked_max(x, mask)
        if self.mode == "mean":
            return masked_mean(x, mask)
        return self.attention(x, mask=mask)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "attention_units": self.attention_units}


@keras.saving.register_keras_serializable(package="rnnseq")
class FinalState(keras.layers.Layer):
    """The last recurrent layer with ``return_sequences=False``: its final state is the pooled vector.

    With a right-padded mask Keras carries the state through padding unchanged, so the
    forward output is the state at the last real token; a Bidirectional layer concatenates
    it with the backward layer's state after reading back to the first token ([B, 2 * units]).

    Args:
        cell, units, bidirectional, dropout, use_cudnn, rnn_arguments: as for
            :class:`framework.models.rnn_stack.RecurrentStack` (one layer; dropout on its input).
    """

    def __init__(
        self,
        cell: str = "lstm",
        units: int = 128,
        bidirectional: bool = True,
        dropout: float = 0.0,
        use_cudnn: bool | str = "auto",
        rnn_arguments: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.cell, self.units, self.bidirectional = cell, units, bidirectional
        self.dropout_rate, self.use_cudnn = dropout, use_cudnn
        self.rnn_arguments = dict(rnn_arguments or {})
        self.dropout = keras.layers.Dropout(dropout)
        layer = recurrent_layer(cell, units, return_sequences=False, use_cudnn=use_cudnn, name=f"{cell}_final",
                                **self.rnn_arguments)  # fmt: skip
        if bidirectional:
            layer = FusedBidirectional(layer, merge_mode="concat", name=f"bi{cell}_final")
        self.rnn = layer

    def build(self, input_shape):
        self.rnn.build(input_shape)
        self.built = True

    def call(self, x, mask=None, training=None):
        return self.rnn(self.dropout(x, training=training), mask=mask, training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units * (2 if self.bidirectional else 1))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell,
            "units": self.units,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout_rate,
            "use_cudnn": self.use_cudnn,
            "rnn_arguments": self.rnn_arguments,
        }
