"""The recurrent decoder of a translator: teacher-forced over a whole target, or one step at a time.

Both paths use the same layers, so a step from a state equals the teacher-forced output at that
position. Attention (optional) is applied on top of the RNN outputs (Luong style): the attentional
vector ``tanh(W [h; context])`` feeds the output projection.
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.attention import Attention
from framework.models.initialization import embedding_initializer
from framework.models.rnn_stack import recurrent_layer


@keras.saving.register_keras_serializable(package="rnnseq")
class RNNDecoder(keras.layers.Layer):
    """Target embeddings -> stacked LSTM/GRU seeded with initial states -> (attention) -> logits.

    Args:
        vocab_size: target vocabulary (id 0 = padding).
        embed_dim: embedding size.
        cell: "lstm" or "gru"; units: per layer; num_layers: stack depth; dropout: on layer inputs.
        attention: None, "dot", "general" or "additive".
        encoder_dim: size of the encoder outputs (attention keys).
        tie_embeddings: the output projection reuses the target embedding matrix.
        use_cudnn, rnn_arguments: as for the encoder.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 256, cell: str = "lstm", units: int = 256,
                 num_layers: int = 2, dropout: float = 0.2, attention: str | None = None, encoder_dim: int = 512,
                 tie_embeddings: bool = False, use_cudnn: bool | str = "auto", rnn_arguments: dict | None = None,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.vocab_size, self.embed_dim, self.cell, self.units = vocab_size, embed_dim, cell, units
        self.num_layers, self.dropout_rate, self.attention_kind = num_layers, dropout, attention
        self.encoder_dim, self.tie_embeddings = encoder_dim, tie_embeddings
        self.use_cudnn, self.rnn_arguments = use_cudnn, dict(rnn_arguments or {})
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim, name="target_embedding",
                                                 embeddings_initializer=embedding_initializer())
        self.dropouts = [keras.layers.Dropout(dropout) for _ in range(num_layers)]
        self.rnns = [
            recurrent_layer(cell, units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
                            name=f"decoder_{cell}_{i}", **self.rnn_arguments)
            for i in range(num_layers)
        ]  # fmt: skip
        self.attention = Attention(attention, query_dim=units, units=units, name="attention") if attention else None
        self.combine = keras.layers.Dense(units, activation="tanh", name="attentional") if attention else None
        self.output_dropout = keras.layers.Dropout(dropout)
        if tie_embeddings:
            self.pre_output = keras.layers.Dense(embed_dim, name="pre_output")
            self.output_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="output_bias")
        else:
            self.output_projection = keras.layers.Dense(vocab_size, name="output_projection")

    def _run_rnns(self, x, states, mask, training):
        new_states = []
        for i, (dropout, rnn) in enumerate(zip(self.dropouts, self.rnns)):
            result = rnn(dropout(x, training=training), initial_state=states[i], mask=mask, training=training)
            x = result[0]
            new_states.append(list(result[1:]))
        return x, new_states

    def _output(self, x, encoder_outputs, source_mask, training):
        weights = None
        if self.attention is not None:
            context, weights = self.attention(x, encoder_outputs, source_mask)
            x = self.combine(ops.concatenate([x, ops.cast(context, x.dtype)], axis=-1))
        x = self.output_dropout(x, training=training)
        if self.tie_embeddings:
            logits = ops.matmul(self.pre_output(x), ops.transpose(self.embedding.embeddings)) + self.output_bias
        else:
            logits = self.output_projection(x)
        return ops.cast(logits, "float32"), weights

    def call(self, target_in, initial_states, encoder_outputs, source_mask, training=False):
        """Teacher forcing: ``target_in`` [B, T] (BOS + target, right-padded) -> logits [B, T, V], weights."""
        mask = ops.not_equal(target_in, 0)
        x, _ = self._run_rnns(self.embedding(target_in), initial_states, mask, training)
        return self._output(x, encoder_outputs, source_mask, training)

    def step(self, tokens, states, encoder_outputs, source_mask):
        """One step: ``tokens`` [B] -> (logits [B, V], new states, attention weights [B, S] or None)."""
        x, new_states = self._run_rnns(self.embedding(ops.expand_dims(tokens, 1)), states, None, False)
        logits, weights = self._output(x, encoder_outputs, source_mask, False)
        return logits[:, 0], new_states, None if weights is None else weights[:, 0]

    def get_config(self):
        return {
            **super().get_config(), "vocab_size": self.vocab_size, "embed_dim": self.embed_dim, "cell": self.cell,
            "units": self.units, "num_layers": self.num_layers, "dropout": self.dropout_rate,
            "attention": self.attention_kind, "encoder_dim": self.encoder_dim, "tie_embeddings": self.tie_embeddings,
            "use_cudnn": self.use_cudnn, "rnn_arguments": self.rnn_arguments,
        }  # fmt: skip
