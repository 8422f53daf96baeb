"""Turn sentences into padded numpy batches: ids, right padding, length sorting.

Backend-agnostic (numpy only), so evaluation and prediction work the same on the TensorFlow,
JAX and PyTorch backends; the tf.data training pipeline (pipeline.py) reuses ``encode``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from framework.data.vocab import CASING, TaggerVocabs, casing_class


@dataclass(frozen=True)
class EncodedSentence:
    """One sentence as ids: words [T], chars [T, C] (C = its longest word, capped), tags [T],
    features [T, F] (the feature columns, then casing; F may be 0)."""

    words: np.ndarray
    chars: np.ndarray
    tags: np.ndarray | None
    features: np.ndarray | None = None


def encode_features(words: Sequence[str], vocabs: TaggerVocabs, features: Sequence[Sequence[str]] = ()) -> np.ndarray:
    """[T, F] ids of the sentence's feature columns (values unseen in training: unknown) and casing."""
    if len(features) != len(vocabs.features):
        raise ValueError(f"expected {len(vocabs.features)} feature column(s) per sentence, got {len(features)}")
    columns = [vocab.encode(values) for vocab, values in zip(vocabs.features, features)]
    if vocabs.casing:
        columns.append([CASING.id(casing_class(w)) for w in words])
    return np.asarray(columns, dtype=np.int32).reshape(len(columns), len(words)).T


def encode(
    words: Sequence[str],
    vocabs: TaggerVocabs,
    tags: Sequence[str] | None = None,
    features: Sequence[Sequence[str]] = (),
) -> EncodedSentence:
    """Ids for one sentence. Tags unseen in training map to id 0 (they only affect dev loss)."""
    word_ids = np.asarray([vocabs.words.id(vocabs.normalise(w)) for w in words], dtype=np.int32)
    width = max(1, min(vocabs.max_word_length, max(len(w) for w in words)))
    chars = np.zeros((len(words), width), dtype=np.int32)
    for i, word in enumerate(words):
        ids = [vocabs.chars.id(c) for c in word[:width]]
        chars[i, : len(ids)] = ids
    tag_ids = None
    if tags is not None:
        index = vocabs.tags._index  # noqa: SLF001 - a hot loop; Vocabulary.id raises for unknown tags
        tag_ids = np.asarray([index.get(t, 0) for t in tags], dtype=np.int32)
    return EncodedSentence(word_ids, chars, tag_ids, encode_features(words, vocabs, features))


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def pad_batch(
    items: Sequence[EncodedSentence], multiple: int = 1
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Right-pad encoded sentences into ``({"words": [B,T], "chars": [B,T,C], "features": [B,T,F]}, tags [B,T])``.

    ``multiple`` rounds T and C up, so a compiled predict function sees few distinct shapes.
    """
    length = _round_up(max(len(item.words) for item in items), multiple)
    width = _round_up(max(item.chars.shape[1] for item in items), multiple)
    words = np.zeros((len(items), length), dtype=np.int32)
    chars = np.zeros((len(items), length, width), dtype=np.int32)
    tags = np.zeros((len(items), length), dtype=np.int32) if items[0].tags is not None else None
    columns = 0 if items[0].features is None else items[0].features.shape[1]
    features = np.zeros((len(items), length, columns), dtype=np.int32)
    for row, item in enumerate(items):
        n = len(item.words)
        words[row, :n] = item.words
        chars[row, :n, : item.chars.shape[1]] = item.chars
        if columns:
            features[row, :n] = item.features
        if tags is not None:
            tags[row, :n] = item.tags
    return {"words": words, "chars": chars, "features": features}, tags


def sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches over sentences sorted by length (little padding); caller restores order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of padded word positions when ``batches`` (lists of sentence indices) are padded."""
    lengths = np.asarray(lengths)
    real = padded = 0
    for batch in batches:
        sizes = lengths[np.asarray(batch)]
        real += int(sizes.sum())
        padded += int(sizes.max()) * len(sizes)
    return 0.0 if padded == 0 else 1.0 - real / padded
