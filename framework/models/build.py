"""Build models from config groups, so recipes never touch layer arguments."""

from __future__ import annotations

from typing import Any

import numpy as np

from framework.data import tagschemes
from framework.data.vocab import TaggerVocabs
from framework.models.rnn_stack import stack_from_config
from framework.models.tagger import SequenceTagger


def build_tagger(
    model: Any, vocabs: TaggerVocabs, train_scheme: str, pretrained: np.ndarray | None = None, seed: int = 0
) -> SequenceTagger:
    """A SequenceTagger for a TaggerModelConfig; the cuDNN guard runs here (ConfigError if refused)."""
    encoder = stack_from_config(model.rnn).get_config()
    constraints = None
    if model.head == "crf" and model.constrain_transitions and train_scheme != "none":
        transitions, start, end = tagschemes.allowed_transitions(list(vocabs.tags.tokens), train_scheme)
        constraints = {
            "allowed_transitions": transitions.tolist(),
            "allowed_start": start.tolist(),
            "allowed_end": end.tolist(),
        }
    return SequenceTagger(
        num_words=len(vocabs.words),
        num_chars=len(vocabs.chars),
        num_tags=len(vocabs.tags),
        word_dim=model.embedding.dim,
        char_kind=model.chars.kind,
        char_dim=model.chars.dim,
        char_units=model.chars.units,
        char_kernel_size=model.chars.kernel_size,
        encoder=encoder,
        embedding_dropout=model.embedding.dropout,
        word_dropout=model.embedding.word_dropout,
        head=model.head,
        crf_constraints=constraints,
        trainable_embeddings=model.embedding.trainable,
        pretrained=pretrained,
        seed=seed,
        feature_sizes=vocabs.feature_sizes,
        feature_dim=model.embedding.feature_dim,
        name="tagger",
    )
