"""The sequence tagger: word (+ char) embeddings -> stacked (Bi)RNN -> softmax or CRF head.

Inputs are ``{"words": [batch, time] int32 (0 = padding), "chars": [batch, time, chars],
"features": [batch, time, F]}`` (features: extra input columns and casing, read when configured);
the model outputs emission logits [batch, time, tags]. Training loss and decoding depend on
the head: per-token cross-entropy + argmax, or CRF negative log-likelihood + Viterbi.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from framework.models.char_features import CharBiLSTM, CharCNN
from framework.models.crf import CRF
from framework.models.eager_build import BuildOnRealInputs
from framework.models.rnn_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="rnnseq")
class SequenceTagger(BuildOnRealInputs, keras.Model):
    """A BiLSTM/BiGRU tagger (Lample et al. 2016; Ma & Hovy 2016).

    Args:
        num_words, num_chars, num_tags: vocabulary sizes (words/chars: id 0 pad, 1 unknown).
        word_dim: word embedding size.
        char_kind: "none", "cnn" or "bilstm"; char_dim / char_units / char_kernel_size size it.
        encoder: a RecurrentStack config dict (``RecurrentStack.get_config()``).
        embedding_dropout: dropout on the concatenated embeddings.
        word_dropout: training-time probability of replacing a known word by <unk>.
        head: "softmax" or "crf"; crf_constraints: optional dict of the CRF's allowed_* arrays.
        pretrained: optional [num_words, word_dim] initial embedding matrix (not serialized:
            the trained weights are saved instead).
        trainable_embeddings: whether the word embeddings are updated.
        feature_sizes: vocabulary size of each extra input feature (a POS column, casing);
            each gets an embedding of ``feature_dim`` concatenated with the word's.
    """

    def __init__(
        self,
        num_words: int,
        num_chars: int,
        num_tags: int,
        word_dim: int = 100,
        char_kind: str = "cnn",
        char_dim: int = 30,
        char_units: int = 50,
        char_kernel_size: int = 3,
        encoder: dict | None = None,
        embedding_dropout: float = 0.5,
        word_dropout: float = 0.0,
        head: str = "crf",
        crf_constraints: dict | None = None,
        trainable_embeddings: bool = True,
        pretrained: np.ndarray | None = None,
        seed: int | None = None,
        feature_sizes: list[int] | tuple[int, ...] = (),
        feature_dim: int = 20,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.settings = {
            "num_words": num_words, "num_chars": num_chars, "num_tags": num_tags, "word_dim": word_dim,
            "char_kind": char_kind, "char_dim": char_dim, "char_units": char_units,
            "char_kernel_size": char_kernel_size, "encoder": dict(encoder or {}),
            "embedding_dropout": embedding_dropout, "word_dropout": word_dropout, "head": head,
            "crf_constraints": crf_constraints, "trainable_embeddings": trainable_embeddings, "seed": seed,
            "feature_sizes": [int(size) for size in feature_sizes], "feature_dim": feature_dim,
        }  # fmt: skip
        initializer = keras.initializers.Constant(pretrained) if pretrained is not None else "uniform"
        self.word_embedding = keras.layers.Embedding(
            num_words, word_dim, embeddings_initializer=initializer, trainable=trainable_embeddings, name="words"
        )
        self.char_features = self._char_layer(char_kind, num_chars, char_dim, char_units, char_kernel_size)
        self.feature_embeddings = [
            keras.layers.Embedding(size, feature_dim, name=f"feature_{k}") for k, size in enumerate(feature_sizes)
        ]
        self.embedding_dropout = keras.layers.Dropout(embedding_dropout, seed=seed)
        self.encoder = self._encoder(dict(encoder or {"name": "encoder"}))
        self.emissions = keras.layers.Dense(num_tags, name="emissions")
        self.crf = CRF(num_tags, **(crf_constraints or {}), name="crf") if head == "crf" else None
        self.word_dropout = word_dropout
        self.dropout_seed = keras.random.SeedGenerator(seed) if word_dropout > 0 else None

    def _encoder(self, config: dict):
        """The recurrent stack from its config (the benchmark's plain tagger puts stock layers here)."""
        return RecurrentStack.from_config(config)

    def _char_layer(self, kind: str, num_chars: int, dim: int, units: int, kernel_size: int):
        if kind == "cnn":
            return CharCNN(num_chars, dim, units, kernel_size, name="chars")
        if kind == "bilstm":
            use_cudnn = self.settings["encoder"].get("use_cudnn", "auto")
            return CharBiLSTM(num_chars, dim, units, use_cudnn=use_cudnn, name="chars")
        if kind != "none":
            raise ValueError(f"char_kind must be none, cnn or bilstm, got {kind!r}")
        return None

    def call(self, inputs, training=False):
        words = inputs["words"]
        mask = ops.not_equal(words, 0)
        if training and self.dropout_seed is not None:
            drop = keras.random.uniform(ops.shape(words), seed=self.dropout_seed) < self.word_dropout
            words = ops.where(ops.logical_and(drop, words > 1), ops.ones_like(words), words)
        x = self.word_embedding(words)
        if self.char_features is not None:
            x = ops.concatenate([x, ops.cast(self.char_features(inputs["chars"]), x.dtype)], axis=-1)
        if self.feature_embeddings:
            features = inputs["features"]
            x = ops.concatenate([x] + [embed(features[:, :, k]) for k, embed in enumerate(self.feature_embeddings)], axis=-1)
        x = self.embedding_dropout(x, training=training)
        x = self.encoder(x, mask=mask, training=training)
        return ops.cast(self.emissions(x), "float32")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CRF negative log-likelihood per sentence, or masked token cross-entropy."""
        mask = ops.not_equal(x["words"], 0)
        if self.crf is not None:
            loss = ops.mean(self.crf.negative_log_likelihood(y_pred, y, mask))
        else:
            token_loss = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
            weights = ops.cast(mask, "float32")
            loss = ops.sum(token_loss * weights) / ops.maximum(ops.sum(weights), 1.0)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def decode(self, logits, mask):
        """Best tag ids [B, T] (0 at padding): Viterbi for the CRF head, argmax otherwise."""
        if self.crf is not None:
            return self.crf.viterbi_decode(logits, mask)[0]
        tags = ops.cast(ops.argmax(logits, axis=-1), "int32")
        return ops.where(mask, tags, ops.zeros_like(tags))

    def predict_step(self, *args):
        """``predict``/``predict_on_batch`` return decoded tag ids, not logits.

        JAX's trainer calls ``predict_step(state, data)`` and runs it stateless: there the logits
        come from Keras' own step and the decoding reads the CRF's weights from ``state``.
        """
        if len(args) == 2:
            state, data = args
            logits, non_trainable = super().predict_step(state, data)
            with keras.StatelessScope(state_mapping=list(zip(self.trainable_variables, state[0]))):
                return self.decode(logits, ops.not_equal(_inputs(data)["words"], 0)), non_trainable
        inputs = _inputs(args[0])
        return self.decode(self(inputs, training=False), ops.not_equal(inputs["words"], 0))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.settings}


def _inputs(data):
    """The model's inputs out of a predict batch: ``x`` or ``(x,)``/``(x, y)``."""
    return data[0] if isinstance(data, tuple) else data
