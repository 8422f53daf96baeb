"""The many-to-one text classifier: embeddings -> (Bi)RNN stack -> pooling -> dense -> logits.

Input is word ids [batch, time] int32, right-padded with 0; the output is logits, [batch,
labels] for a softmax head or [batch, 1] for a sigmoid head (binary tasks). Probabilities
are taken outside the model (:func:`probabilities`), so the loss can use ``from_logits``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from framework.errors import ConfigError
from framework.models.eager_build import BuildOnRealInputs
from framework.models.pooling import POOLINGS, FinalState, SequencePooling
from framework.models.rnn_stack import RecurrentStack, stack_from_config


@keras.saving.register_keras_serializable(package="rnnseq")
class TextClassifier(BuildOnRealInputs, keras.Model):
    """An LSTM/GRU text classifier with a choice of pooling over time.

    Args:
        num_words: word vocabulary size (id 0 padding, 1 unknown).
        num_labels: number of classes.
        word_dim: embedding size.
        encoder: a RecurrentStack config dict (``RecurrentStack.get_config()``); with
            ``pooling="last"`` its last layer becomes the :class:`FinalState` layer.
        pooling: "last", "max", "mean" or "attention".
        attention_units: size of the attention scorer (attention pooling).
        hidden_units: a ReLU layer between pooling and output; 0 for none.
        embedding_dropout: dropout on the embeddings.
        word_dropout: training-time probability of replacing a known word by <unk>.
        dropout: dropout on the pooled vector (and the hidden layer).
        output: "softmax" ([B, labels] logits) or "sigmoid" ([B, 1] logit; 2 labels only).
        trainable_embeddings: whether the embeddings are updated.
        pretrained: optional [num_words, word_dim] initial embeddings (not serialized: the
            trained weights are saved instead).
        seed: seed of the dropout layers.
    """

    def __init__(
        self,
        num_words: int,
        num_labels: int,
        word_dim: int = 100,
        encoder: dict | None = None,
        pooling: str = "last",
        attention_units: int = 64,
        hidden_units: int = 0,
        embedding_dropout: float = 0.5,
        word_dropout: float = 0.0,
        dropout: float = 0.5,
        output: str = "softmax",
        trainable_embeddings: bool = True,
        pretrained: np.ndarray | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_arguments(pooling, output, num_labels)
        self.settings = {
            "num_words": num_words, "num_labels": num_labels, "word_dim": word_dim, "encoder": dict(encoder or {}),
            "pooling": pooling, "attention_units": attention_units, "hidden_units": hidden_units,
            "embedding_dropout": embedding_dropout, "word_dropout": word_dropout, "dropout": dropout,
            "output": output, "trainable_embeddings": trainable_embeddings, "seed": seed,
        }  # fmt: skip
        initializer = keras.initializers.Constant(pretrained) if pretrained is not None else "uniform"
        self.word_embedding = keras.layers.Embedding(
            num_words, word_dim, embeddings_initializer=initializer, mask_zero=True,
            trainable=trainable_embeddings, name="words",
        )  # fmt: skip
        self.embedding_dropout = keras.layers.Dropout(embedding_dropout, seed=seed)
        stack = dict(encoder or {"name": "encoder"})
        self.encoder, self.pooling = _encoder_and_pooling(stack, pooling, attention_units)
        self.pooled_dropout = keras.layers.Dropout(dropout, seed=seed)
        self.hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden") if hidden_units else None
        self.logits = keras.layers.Dense(1 if output == "sigmoid" else num_labels, name="logits")
        self.word_dropout = word_dropout
        self.dropout_seed = keras.random.SeedGenerator(seed) if word_dropout > 0 else None

    def call(self, words, training=False):
        """Word ids [B, T] -> logits [B, labels] (or [B, 1] for the sigmoid head)."""
        mask = ops.not_equal(words, 0)
        if training and self.dropout_seed is not None:
            drop = keras.random.uniform(ops.shape(words), seed=self.dropout_seed) < self.word_dropout
            words = ops.where(ops.logical_and(drop, words > 1), ops.ones_like(words), words)
        x = self.embedding_dropout(self.word_embedding(words), training=training)
        if self.encoder is not None:
            x = self.encoder(x, mask=mask, training=training)
        if isinstance(self.pooling, FinalState):
            x = self.pooling(x, mask=mask, training=training)
        else:
            x = self.pooling(x, mask=mask)
        x = self.pooled_dropout(x, training=training)
        if self.hidden is not None:
            x = self.pooled_dropout(self.hidden(x), training=training)
        return ops.cast(self.logits(x), "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.settings}


def _check_arguments(pooling: str, output: str, num_labels: int) -> None:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    if output not in ("softmax", "sigmoid"):
        raise ValueError(f"output must be softmax or sigmoid, got {output!r}")
    if output == "sigmoid" and num_labels != 2:
        raise ConfigError(f"model.output=sigmoid needs exactly 2 labels, the data has {num_labels}")


def _encoder_and_pooling(encoder: dict, pooling: str, attention_units: int):
    """The stack and the pooling layer; ``last`` moves the stack's final layer into FinalState."""
    if pooling != "last":
        return RecurrentStack.from_config(encoder), SequencePooling(pooling, attention_units, name="pooling")
    layers = int(encoder.get("num_layers", 2))
    final = FinalState(
        cell=encoder.get("cell", "lstm"),
        units=encoder.get("units", 128),
        bidirectional=encoder.get("bidirectional", True),
        dropout=encoder.get("dropout", 0.5),
        use_cudnn=encoder.get("use_cudnn", "auto"),
        rnn_arguments=encoder.get("rnn_arguments"),
        name="pooling",
    )
    stack = RecurrentStack.from_config({**encoder, "num_layers": layers - 1}) if layers > 1 else None
    return stack, final


def build_classifier(model: Any, num_words: int, num_labels: int, pretrained=None, seed: int = 0) -> TextClassifier:
    """A TextClassifier for a ClassifierModelConfig; the cuDNN guard runs here (ConfigError if refused)."""
    if model.rnn.layers < 1:
        raise ConfigError(f"model.rnn.layers must be at least 1, got {model.rnn.layers}")
    encoder = stack_from_config(model.rnn).get_config()
    return TextClassifier(
        num_words=num_words,
        num_labels=num_labels,
        word_dim=model.embedding.dim,
        encoder=encoder,
        pooling=model.pooling,
        attention_units=model.attention_units,
        hidden_units=model.hidden_units,
        embedding_dropout=model.embedding.dropout,
        word_dropout=model.embedding.word_dropout,
        dropout=model.dropout,
        output=model.output,
        trainable_embeddings=model.embedding.trainable,
        pretrained=pretrained,
        seed=seed,
        name="classifier",
    )


def probabilities(logits: np.ndarray, output: str) -> np.ndarray:
    """Class probabilities [N, labels] from logits (numpy, numerically stable).

    For the sigmoid head the single logit scores label id 1 (the positive label), so the
    result is ``[1 - p, p]`` and every head is read the same way downstream.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if output == "sigmoid":
        positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return np.stack([1.0 - positive, positive], axis=1)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
