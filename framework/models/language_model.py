"""An LSTM/GRU language model with a stateful one-step generator.

Embedding -> unidirectional stack of LSTM/GRU layers (dropout on each layer's input and on the
last output) -> Dense(vocab) logits, optionally tied to the embedding matrix. Every recurrent
layer is built with ``return_state=True``, so the same layers serve training (whole windows) and
generation: :meth:`LanguageModel.run` takes and returns the per-layer states, and
:meth:`LanguageModel.step` feeds one token per row and carries (h, c) forward instead of
re-reading the prefix. Search (temperature, top-k, top-p) lives in ``framework.inference``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from framework.models.cudnn import use_cudnn_argument
from framework.models.model_checks import check_language_model_config
from framework.models.eager_build import BuildOnRealInputs
from framework.models.rnn_stack import opt_out_arguments, recurrent_layer

States = list[list[Any]]  # per layer: [h, c] (LSTM) or [h] (GRU), each [batch, units]


@keras.saving.register_keras_serializable(package="rnnseq")
class LanguageModel(BuildOnRealInputs, keras.Model):
    """A word/char/piece-level recurrent language model (Zaremba et al. 2014; Merity et al. 2018).

    Args:
        vocab_size: number of token ids (0 is padding and is never a target).
        embedding_dim: token embedding size.
        cell: "lstm" or "gru".
        units: units of every recurrent layer.
        num_layers: stacked unidirectional layers.
        embedding_dropout: dropout on the embeddings (the first layer's input).
        dropout: dropout between recurrent layers (never inside the recurrence: cuDNN has none).
        output_dropout: dropout on the last layer's output, before the logits.
        tie_embeddings: reuse the embedding matrix as the output weights (Press & Wolf 2017),
            with a linear projection units -> embedding_dim when they differ.
        use_cudnn: True, False or "auto" (see framework.models.cudnn.use_cudnn_argument).
        rnn_arguments: cuDNN opt-out arguments (empty = cuDNN's defaults).
        seed: seeds the dropout layers.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 128,
        cell: str = "lstm",
        units: int = 256,
        num_layers: int = 2,
        embedding_dropout: float = 0.3,
        dropout: float = 0.3,
        output_dropout: float = 0.3,
        tie_embeddings: bool = False,
        use_cudnn: bool | str = "auto",
        rnn_arguments: dict | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.settings = {
            "vocab_size": vocab_size, "embedding_dim": embedding_dim, "cell": cell, "units": units,
            "num_layers": num_layers, "embedding_dropout": embedding_dropout, "dropout": dropout,
            "output_dropout": output_dropout, "tie_embeddings": tie_embeddings, "use_cudnn": use_cudnn,
            "rnn_arguments": dict(rnn_arguments or {}), "seed": seed,
        }  # fmt: skip
        self.cell = cell
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        rates = [embedding_dropout] + [dropout] * (num_layers - 1) + [output_dropout]
        self.dropouts = [
            keras.layers.Dropout(rate, seed=None if seed is None else seed + i) for i, rate in enumerate(rates)
        ]
        self.rnns = [
            recurrent_layer(cell, units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
                            name=f"{cell}_{i}", **dict(rnn_arguments or {}))  # fmt: skip
            for i in range(num_layers)
        ]
        self.projection = None
        if tie_embeddings and units != embedding_dim:
            self.projection = keras.layers.Dense(embedding_dim, use_bias=False, name="projection")
        self.output_layer = None if tie_embeddings else keras.layers.Dense(vocab_size, name="logits")
        self.output_bias = None
        if tie_embeddings:
            self.output_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="output_bias")

    def run(self, token_ids, states: States | None = None, training: bool = False):
        """Logits for every position and the final states, starting from ``states``.

        Args:
            token_ids: int ids [batch, time].
            states: per-layer initial states from an earlier ``run``/``step``, or None (zeros).
            training: apply dropout.

        Returns:
            (logits [batch, time, vocab] float32, states after the last position).
        """
        x = self.embedding(token_ids)
        new_states: States = []
        for i, rnn in enumerate(self.rnns):
            x = self.dropouts[i](x, training=training)
            initial = None if states is None else list(states[i])
            x, *state = rnn(x, initial_state=initial, training=training)
            new_states.append(state)
        x = self.dropouts[-1](x, training=training)
        return self._logits(x), new_states

    def _logits(self, x):
        if self.output_layer is not None:
            return ops.cast(self.output_layer(x), "float32")
        if self.projection is not None:
            x = self.projection(x)
        logits = ops.matmul(x, ops.transpose(ops.cast(self.embedding.embeddings, x.dtype)))
        return ops.cast(logits, "float32") + ops.cast(self.output_bias, "float32")

    def step(self, token_ids, states: States | None):
        """One generation step: next-token logits [batch, vocab] after ``token_ids`` [batch].

        The recurrent layers read a length-1 sequence from the carried ``states``, so generating
        n tokens costs n single-step calls instead of n growing re-reads of the prefix.
        """
        logits, states = self.run(ops.expand_dims(token_ids, 1), states, training=False)
        return logits[:, 0, :], states

    def call(self, inputs, training=False):
        """Logits [batch, time, vocab] of the next token at every position of ``inputs``."""
        return self.run(inputs, None, training=training)[0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy over real targets; target id 0 (padding) is ignored."""
        token_loss = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
        weights = ops.cast(ops.not_equal(y, 0), "float32")
        loss = ops.sum(token_loss * weights) / ops.maximum(ops.sum(weights), 1.0)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.settings}


def build_language_model(model: Any, vocab_size: int, seed: int = 0) -> LanguageModel:
    """A LanguageModel for a LanguageModelConfig; its checks run here too (ConfigError if refused)."""
    check_language_model_config(model)
    rnn = model.rnn
    return LanguageModel(
        vocab_size=vocab_size,
        embedding_dim=model.embedding.dim,
        cell=rnn.cell,
        units=rnn.units,
        num_layers=rnn.layers,
        embedding_dropout=model.embedding.dropout,
        dropout=rnn.dropout,
        output_dropout=model.output_dropout,
        tie_embeddings=model.tie_embeddings,
        use_cudnn=use_cudnn_argument(rnn),
        rnn_arguments=opt_out_arguments(rnn) if rnn.allow_non_cudnn else {},
        seed=seed,
        name="language_model",
    )
