"""Vocabularies built from the training split only, saved beside the model."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from framework.io import atomic_write_json

PAD = "<pad>"
UNK = "<unk>"


@dataclass(frozen=True)
class Vocabulary:
    """A token <-> id map. With ``specials`` id 0 is padding and id 1 the unknown token."""

    tokens: tuple[str, ...]
    specials: bool = True

    def __post_init__(self):
        object.__setattr__(self, "_index", {token: i for i, token in enumerate(self.tokens)})

    @classmethod
    def build(
        cls, items: Iterable[str], min_freq: int = 1, specials: bool = True, max_size: int | None = None
    ) -> "Vocabulary":
        """Count ``items`` and keep those seen ``min_freq`` times, most frequent first (ties by text).

        With ``specials``, a literal ``<pad>`` or ``<unk>`` in the text (PTB writes rare words as
        ``<unk>``) is not added again: it would shadow the special's id.
        """
        counts = Counter(items)
        reserved = {PAD, UNK} if specials else set()
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in reserved),
                      key=lambda t: (-counts[t], t))  # fmt: skip
        if max_size is not None:
            kept = kept[:max_size]
        return cls(((PAD, UNK) if specials else ()) + tuple(kept), specials)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    @property
    def unk_id(self) -> int:
        return 1 if self.specials else -1

    def id(self, token: str) -> int:
        """The id of ``token``; the unknown id for a token not in the vocabulary, and for a literal
        ``<pad>`` in the input (id 0 would mask the word out, mid-sentence)."""
        index = self._index.get(token)
        if index is None or (index == 0 and self.specials):
            if not self.specials:
                raise KeyError(token)
            return 1
        return index

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.id(token) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def to_dict(self) -> dict:
        return {"tokens": list(self.tokens), "specials": self.specials}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        return cls(tuple(data["tokens"]), bool(data["specials"]))


CASING_CLASSES = ("lower", "upper", "title", "numeric", "mainly_numeric", "has_digit", "other")


def casing_class(word: str) -> str:
    """The word's shape (Collobert et al. 2011; Reimers & Gurevych 2017): what lowercasing or a
    rare-word <unk> hides from the word embedding, as one of ``CASING_CLASSES``."""
    digits = sum(c.isdigit() for c in word)
    if digits == len(word):
        return "numeric"
    if digits / len(word) > 0.5:
        return "mainly_numeric"
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    if word[0].isupper():
        return "title"
    return "has_digit" if digits else "other"


CASING = Vocabulary(("<pad>", "<unk>") + CASING_CLASSES)


@dataclass(frozen=True)
class TaggerVocabs:
    """Words, characters and tags of one tagger, plus how words were normalised.

    ``features`` holds one vocabulary per extra input column (``data.feature_columns``);
    ``casing`` adds the word's casing class as one more feature after them.
    """

    words: Vocabulary
    chars: Vocabulary
    tags: Vocabulary
    lowercase: bool = False
    max_word_length: int = 24
    scheme: str = "none"  # tag scheme of the corpus files (predictions are written in it)
    train_scheme: str = "none"  # tag scheme of ``tags``
    features: tuple[Vocabulary, ...] = ()
    casing: bool = False

    def normalise(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    @property
    def feature_sizes(self) -> list[int]:
        """Vocabulary size of every model input feature: the columns, then casing."""
        return [len(v) for v in self.features] + ([len(CASING)] if self.casing else [])

    def save(self, path: str | Path) -> None:
        atomic_write_json(
            path,
            {
                "words": self.words.to_dict(),
                "chars": self.chars.to_dict(),
                "tags": self.tags.to_dict(),
                "lowercase": self.lowercase,
                "max_word_length": self.max_word_length,
                "scheme": self.scheme,
                "train_scheme": self.train_scheme,
                "features": [v.to_dict() for v in self.features],
                "casing": self.casing,
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> "TaggerVocabs":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            Vocabulary.from_dict(data["words"]),
            Vocabulary.from_dict(data["chars"]),
            Vocabulary.from_dict(data["tags"]),
            bool(data["lowercase"]),
            int(data["max_word_length"]),
            data.get("scheme", "none"),
            data.get("train_scheme", "none"),
            tuple(Vocabulary.from_dict(v) for v in data.get("features", [])),
            bool(data.get("casing", False)),
        )


def build_tagger_vocabs(
    sentences_words: Sequence[Sequence[str]],
    sentences_tags: Sequence[Sequence[str]],
    *,
    lowercase: bool,
    min_freq: int,
    max_word_length: int,
    scheme: str = "none",
    train_scheme: str = "none",
    sentences_features: Sequence[Sequence[Sequence[str]]] = (),
    casing: bool = False,
) -> TaggerVocabs:
    """Vocabularies from the training sentences; tags have no specials (every id is a real tag).

    ``sentences_features`` holds each sentence's feature columns (``Sentence.features``); every
    column gets its own vocabulary, with an unknown id for values first seen after training.
    """
    norm = (lambda w: w.lower()) if lowercase else (lambda w: w)
    words = Vocabulary.build((norm(w) for s in sentences_words for w in s), min_freq=min_freq)
    chars = Vocabulary.build(c for s in sentences_words for w in s for c in w)
    tags = Vocabulary.build((t for s in sentences_tags for t in s), specials=False)
    columns = len(sentences_features[0]) if sentences_features else 0
    features = tuple(Vocabulary.build(v for s in sentences_features for v in s[k]) for k in range(columns))
    return TaggerVocabs(words, chars, tags, lowercase, max_word_length, scheme, train_scheme, features, casing)
