"""The recurrent decoder of a translator: teacher-forced over a whole target, or one step at a time.

Both paths use the same layers, so a step from a state equals the teacher-forced output at that
position. Attention (optional) is applied on top of the RNN outputs (Luong style): the attentional
vector ``tanh(W [h; context])`` feeds the output projection.

With ``input_feeding`` (Luong et al. 2015) the previous step's attentional vector is also fed,
next to the token embedding, into the first RNN layer. Each step then depends on the attention
of the one before, so the teacher-forced decoder is a step-wise loop over the RNN cells (the
generic kernel, never cuDNN; the cuDNN guard asks for the opt-out and the kernel report says
so). The attentional vector travels in the decoder state, after the layers' states. In that
mode dropout applies to the embeddings and the attentional outputs, not between the layers.
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.attention import Attention
from framework.models.initialization import embedding_initializer
from framework.models.hoisted_rnn import keras_backend
from framework.models.rnn_stack import recurrent_layer

STEPWISE = "model.input_feeding=true: the decoder runs one step at a time"


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
        input_feeding: feed the previous attentional vector into the next step (needs attention).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 256, cell: str = "lstm", units: int = 256,
                 num_layers: int = 2, dropout: float = 0.2, attention: str | None = None, encoder_dim: int = 512,
                 tie_embeddings: bool = False, use_cudnn: bool | str = "auto", rnn_arguments: dict | None = None,
                 input_feeding: bool = False, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.vocab_size, self.embed_dim, self.cell, self.units = vocab_size, embed_dim, cell, units
        self.num_layers, self.dropout_rate, self.attention_kind = num_layers, dropout, attention
        self.encoder_dim, self.tie_embeddings = encoder_dim, tie_embeddings
        self.use_cudnn, self.rnn_arguments = use_cudnn, dict(rnn_arguments or {})
        if input_feeding and not attention:
            raise ValueError("input feeding feeds the attentional vector: it needs attention")
        self.input_feeding = input_feeding
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim, name="target_embedding",
                                                 embeddings_initializer=embedding_initializer())
        self.dropouts = [keras.layers.Dropout(dropout) for _ in range(num_layers)]
        self.rnns = [
            recurrent_layer(cell, units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
                            name=f"decoder_{cell}_{i}", **self.rnn_arguments)
            for i in range(num_layers)
        ]  # fmt: skip
        for rnn in self.rnns if input_feeding else ():
            rnn.stepwise_reason = STEPWISE  # read by framework.models.cudnn.layer_kernel
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

    def _output(self, x, encoder_outputs, source_mask, training, projected_keys=None):
        weights = None
        if self.attention is not None:
            context, weights = self.attention(x, encoder_outputs, source_mask, projected_keys=projected_keys)
            x = self.combine(ops.concatenate([x, ops.cast(context, x.dtype)], axis=-1))
        return self._logits(self.output_dropout(x, training=training)), weights

    def _logits(self, x):
        if self.tie_embeddings:
            logits = ops.matmul(self.pre_output(x), ops.transpose(self.embedding.embeddings)) + self.output_bias
        else:
            logits = self.output_projection(x)
        return ops.cast(logits, "float32")

    def initial_feed(self, states, batch_size):
        """The decoder state that the encoder's (bridged) states start: with input feeding, a zero
        attentional vector follows the layers' states."""
        if not self.input_feeding:
            return states
        return [*states, ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def call(self, target_in, initial_states, encoder_outputs, source_mask, training=False):
        """Teacher forcing: ``target_in`` [B, T] (BOS + target, right-padded) -> logits [B, T, V], weights."""
        if self.input_feeding:
            embedded = self.dropouts[0](self.embedding(target_in), training=training)
            attentional, weights, _ = self._feed_loop(embedded, initial_states, encoder_outputs, source_mask,
                                                      training)  # fmt: skip
            return self._logits(self.output_dropout(attentional, training=training)), weights
        mask = ops.not_equal(target_in, 0)
        x, _ = self._run_rnns(self.embedding(target_in), initial_states, mask, training)
        return self._output(x, encoder_outputs, source_mask, training)

    def project_keys(self, encoder_outputs):
        """The attention's per-source part of its scores (see Attention.project_keys), for ``step``; or None."""
        return None if self.attention is None else self.attention.project_keys(encoder_outputs)

    def step(self, tokens, states, encoder_outputs, source_mask, projected_keys=None):
        """One step: ``tokens`` [B] -> (logits [B, V], new states, attention weights [B, S] or None).

        ``projected_keys`` (from :meth:`project_keys` on the same ``encoder_outputs``) spares the
        step the keys' projection; without it the step computes it.
        """
        embedded = self.embedding(ops.expand_dims(tokens, 1))
        if self.input_feeding:
            attentional, weights, new_states = self._feed_loop(embedded, states, encoder_outputs, source_mask,
                                                               projected_keys=projected_keys)  # fmt: skip
            return self._logits(attentional)[:, 0], new_states, weights[:, 0]
        x, new_states = self._run_rnns(embedded, states, None, False)
        logits, weights = self._output(x, encoder_outputs, source_mask, False, projected_keys)
        return logits[:, 0], new_states, None if weights is None else weights[:, 0]

    def _feed_step(self, encoder_outputs, source_mask, projected_keys, sizes, training=False):
        """One input-feeding step over the RNN cells: (token embedding, flat states) -> outputs, states.

        ``training`` reaches the cells, so their ``dropout`` and ``recurrent_dropout`` apply as in
        the layers they belong to.
        """

        def step(x_t, flat_states):
            layer_states = _by_layer(flat_states, sizes)
            x = ops.concatenate([x_t, flat_states[-1]], axis=-1)
            new_states = []
            for rnn, states in zip(self.rnns, layer_states):
                x, states = rnn.cell(x, states, training=training)
                new_states.extend(states if isinstance(states, (list, tuple)) else [states])
            context, weights = self.attention(ops.expand_dims(x, 1), encoder_outputs, source_mask,
                                              projected_keys=projected_keys)  # fmt: skip
            attentional = self.combine(ops.concatenate([x, ops.cast(context[:, 0], x.dtype)], axis=-1))
            out = ops.concatenate([attentional, ops.cast(weights[:, 0], attentional.dtype)], axis=-1)
            return out, [*new_states, attentional]

        return step

    def _feed_loop(self, embedded, states, encoder_outputs, source_mask, training=False, projected_keys=None):
        """Input feeding over ``embedded`` [B, T, E] from ``states`` (layers' states + attentional vector).

        Returns attentional vectors [B, T, U], attention weights [B, T, S] and the new states. Targets
        are right-padded, so steps after the end cannot change the real ones and run unmasked. The
        keys' projection is computed once here, not in every step of the loop.
        """
        sizes = [len(layer) for layer in states[:-1]]
        flat = [t for layer in states[:-1] for t in layer] + [states[-1]]
        if projected_keys is None:
            projected_keys = self.project_keys(encoder_outputs)
        step = self._feed_step(encoder_outputs, source_mask, projected_keys, sizes, training)
        if not self.combine.built:  # create every weight outside the loop, whose body cannot
            step(embedded[:, 0], flat)
            for rnn in self.rnns:  # only their cells run here; their weights are the cells'
                rnn.built = True
        self._reset_dropout_masks()  # a cell keeps its masks until told: new ones for this batch
        if training:
            self._make_dropout_masks(ops.concatenate([embedded[:, 0], flat[-1]], axis=-1), states[:-1])
        _, outputs, new_flat = keras_backend.rnn(step, embedded, flat, input_length=embedded.shape[1])
        self._reset_dropout_masks()  # this batch's masks: not for the next call
        attentional, weights = outputs[..., : self.units], outputs[..., self.units :]
        return attentional, weights, [*_by_layer(new_flat, sizes), new_flat[-1]]

    def _make_dropout_masks(self, first_input, layer_states):
        """Each cell's dropout masks for this batch, made before the loop as Keras' RNN layer makes
        them: drawn inside it, JAX's traced loop would draw the same masks for every batch."""
        x = first_input  # what the first cell takes at a step; each later cell takes the last one's h
        for rnn, states in zip(self.rnns, layer_states):
            if hasattr(rnn.cell, "get_dropout_mask"):
                rnn.cell.get_dropout_mask(x)
                rnn.cell.get_recurrent_dropout_mask(states[0])
            x = states[0]

    def _reset_dropout_masks(self):
        """What Keras' RNN layer does around its loop, for the cells run here one step at a time."""
        for rnn in self.rnns:
            if hasattr(rnn.cell, "reset_dropout_mask"):
                rnn.cell.reset_dropout_mask()
                rnn.cell.reset_recurrent_dropout_mask()

    def get_config(self):
        return {
            **super().get_config(), "vocab_size": self.vocab_size, "embed_dim": self.embed_dim, "cell": self.cell,
            "units": self.units, "num_layers": self.num_layers, "dropout": self.dropout_rate,
            "attention": self.attention_kind, "encoder_dim": self.encoder_dim, "tie_embeddings": self.tie_embeddings,
            "use_cudnn": self.use_cudnn, "rnn_arguments": self.rnn_arguments, "input_feeding": self.input_feeding,
        }  # fmt: skip


def _by_layer(flat_states, sizes):
    """The flat state list the step loop carries, regrouped per layer (``sizes``: states per layer)."""
    grouped, at = [], 0
    for size in sizes:
        grouped.append(list(flat_states[at : at + size]))
        at += size
    return grouped
