"""A stack of (bidirectional) LSTM/GRU layers built from cuDNN-eligible arguments.

The cuDNN guard (framework.models.cudnn) checks the config before this is built; the
non-default arguments here only exist for users who explicitly opted out of it. Layers are
framework.models.hoisted_rnn's (stock Keras weights and cuDNN path; faster generic loop) inside
framework.models.bidirectional's wrapper (one loop for both directions while training off cuDNN).
"""

from __future__ import annotations

from typing import Any

import keras

from framework.models.bidirectional import FusedBidirectional
from framework.models.cudnn import use_cudnn_argument
from framework.models.model_checks import check_cudnn
from framework.models.hoisted_rnn import HoistedGRU, HoistedLSTM


def recurrent_layer(
    cell: str,
    units: int,
    *,
    return_sequences: bool = True,
    return_state: bool = False,
    use_cudnn: bool | str = "auto",
    name: str | None = None,
    **cudnn_breaking: Any,
) -> keras.layers.Layer:
    """One Keras LSTM or GRU (hoisted-projection subclass). ``cudnn_breaking`` holds only the opt-out arguments
    (activation, recurrent_activation, recurrent_dropout, unroll, use_bias, reset_after)."""
    if cell not in ("lstm", "gru"):
        raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
    layer_class = HoistedLSTM if cell == "lstm" else HoistedGRU
    if cell == "lstm":
        cudnn_breaking.pop("reset_after", None)
    return layer_class(
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        use_cudnn=use_cudnn,
        name=name,
        **cudnn_breaking,
    )


def opt_out_arguments(rnn: Any) -> dict[str, Any]:
    """The non-default arguments of an RNNConfig; the defaults are exactly cuDNN's."""
    return {
        "activation": rnn.activation,
        "recurrent_activation": rnn.recurrent_activation,
        "recurrent_dropout": rnn.recurrent_dropout,
        "unroll": rnn.unroll,
        "use_bias": rnn.use_bias,
        "reset_after": rnn.reset_after,
    }


@keras.saving.register_keras_serializable(package="rnnseq")
class RecurrentStack(keras.layers.Layer):
    """``layers`` (bi)RNN layers with dropout on each layer's input; returns all states [B, T, D].

    Args:
        cell: "lstm" or "gru".
        units: units per direction.
        num_layers: stacked layers.
        bidirectional: concat forward and backward outputs (D = 2 * units).
        dropout: dropout on each layer's input (never inside the recurrence, which cuDNN lacks).
        use_cudnn: True, False or "auto" (see framework.models.cudnn.use_cudnn_argument).
        rnn_arguments: opt-out arguments (see ``opt_out_arguments``); empty means cuDNN defaults.
    """

    def __init__(
        self,
        cell: str = "lstm",
        units: int = 128,
        num_layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.5,
        use_cudnn: bool | str = "auto",
        rnn_arguments: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.cell, self.units, self.num_layers = cell, units, num_layers
        self.bidirectional, self.dropout_rate, self.use_cudnn = bidirectional, dropout, use_cudnn
        self.rnn_arguments = dict(rnn_arguments or {})
        self.dropouts = [keras.layers.Dropout(dropout) for _ in range(num_layers)]
        self.rnns = []
        for i in range(num_layers):
            layer = recurrent_layer(cell, units, use_cudnn=use_cudnn, name=f"{cell}_{i}", **self.rnn_arguments)
            if bidirectional:
                layer = FusedBidirectional(layer, merge_mode="concat", name=f"bi{cell}_{i}")
            self.rnns.append(layer)

    def call(self, x, mask=None, training=None):
        for dropout, rnn in zip(self.dropouts, self.rnns):
            x = rnn(dropout(x, training=training), mask=mask, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.units * (2 if self.bidirectional else 1))

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell,
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout_rate,
            "use_cudnn": self.use_cudnn,
            "rnn_arguments": self.rnn_arguments,
        }


def stack_from_config(rnn: Any, name: str = "encoder") -> RecurrentStack:
    """Build the stack for an RNNConfig after the cuDNN guard accepted it."""
    check_cudnn(rnn)
    return RecurrentStack(
        cell=rnn.cell,
        units=rnn.units,
        num_layers=rnn.layers,
        bidirectional=rnn.bidirectional,
        dropout=rnn.dropout,
        use_cudnn=use_cudnn_argument(rnn),
        rnn_arguments=opt_out_arguments(rnn) if rnn.allow_non_cudnn else {},
        name=name,
    )
