"""The recurrent encoder of a translator: embeddings -> stacked (Bi)LSTM/GRU with final states.

Keras returns, with ``return_state=True``: an LSTM ``(output, h, c)``, a GRU ``(output, h)``,
a Bidirectional LSTM ``(output, h_fw, c_fw, h_bw, c_bw)`` and a Bidirectional GRU
``(output, h_fw, h_bw)``. On a right-padded masked input the final states are those of the last
real step (forward) and of the first step (backward, which reads the sequence reversed).
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.bidirectional import FusedBidirectional
from framework.models.initialization import embedding_initializer
from framework.models.rnn_stack import recurrent_layer


@keras.saving.register_keras_serializable(package="rnnseq")
class RNNEncoder(keras.layers.Layer):
    """Embed source tokens [B, S] and run a stack of RNN layers, keeping every layer's final states.

    ``call`` returns ``(outputs [B, S, D], states)`` where ``states[i]`` is the list of final
    states of layer ``i``: ``[h, c]`` / ``[h]`` for one direction, or
    ``[h_fw, c_fw, h_bw, c_bw]`` / ``[h_fw, h_bw]`` when bidirectional. D = units (x2 if bidirectional).

    Args:
        vocab_size: source vocabulary (id 0 = padding).
        embed_dim: embedding size.
        cell: "lstm" or "gru".
        units: units per direction.
        num_layers: stacked layers.
        bidirectional: concatenate both directions' outputs.
        dropout: dropout on each layer's input.
        use_cudnn: see framework.models.cudnn.use_cudnn_argument.
        rnn_arguments: cuDNN opt-out arguments (empty = cuDNN defaults).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 256, cell: str = "lstm", units: int = 256,
                 num_layers: int = 2, bidirectional: bool = True, dropout: float = 0.2,
                 use_cudnn: bool | str = "auto", rnn_arguments: dict | None = None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.vocab_size, self.embed_dim, self.cell, self.units = vocab_size, embed_dim, cell, units
        self.num_layers, self.bidirectional, self.dropout_rate = num_layers, bidirectional, dropout
        self.use_cudnn, self.rnn_arguments = use_cudnn, dict(rnn_arguments or {})
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="source_embedding",
                                                 embeddings_initializer=embedding_initializer())
        self.dropouts = [keras.layers.Dropout(dropout) for _ in range(num_layers)]
        self.rnns = []
        for i in range(num_layers):
            layer = recurrent_layer(cell, units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
                                    name=f"encoder_{cell}_{i}", **self.rnn_arguments)  # fmt: skip
            if bidirectional:
                layer = FusedBidirectional(layer, merge_mode="concat", name=f"encoder_bi{cell}_{i}")
            self.rnns.append(layer)

    @property
    def output_dim(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    def call(self, tokens, training=False):
        mask = ops.not_equal(tokens, 0)
        x = self.embedding(tokens)
        states = []
        for dropout, rnn in zip(self.dropouts, self.rnns):
            result = rnn(dropout(x, training=training), mask=mask, training=training)
            x, layer_states = result[0], list(result[1:])
            states.append(layer_states)
        return x, states

    def get_config(self):
        return {
            **super().get_config(), "vocab_size": self.vocab_size, "embed_dim": self.embed_dim, "cell": self.cell,
            "units": self.units, "num_layers": self.num_layers, "bidirectional": self.bidirectional,
            "dropout": self.dropout_rate, "use_cudnn": self.use_cudnn, "rnn_arguments": self.rnn_arguments,
        }  # fmt: skip
