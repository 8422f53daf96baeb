"""Translate raw sentences with a trained Seq2Seq: subwords in, search, detokenised text out.

Sentences are sorted by length and decoded in batches (little padding, few distinct shapes for
the compiled step), then put back in input order. One :class:`Searcher` is kept per model, so
the dev BLEU of every epoch reuses the compiled encode/step functions; they read the model's
variables, so they stay valid while training updates the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framework.data.parallel import pad_sources
from framework.data.subwords import BOS_ID, EOS_ID, Subwords
from framework.errors import ConfigError
from framework.inference.graph import owned_by
from framework.inference.search import Hypothesis, Searcher

FIELDS = ("strategy", "beam_size", "length_penalty", "max_length_ratio", "nbest")


@dataclass(frozen=True)
class DecodeSettings:
    """How to search: greedy, or beam with a size, GNMT length penalty alpha and n-best list."""

    strategy: str = "greedy"
    beam_size: int = 5
    length_penalty: float = 1.0
    max_length_ratio: float = 2.0
    nbest: int = 1

    @classmethod
    def from_config(cls, decode: Any, overrides: Any = None) -> "DecodeSettings":
        """A run's ``decode`` group, with every non-null value of ``overrides`` on top; validated."""
        values = {key: decode.get(key) if decode is not None else None for key in FIELDS}
        values = {key: value for key, value in values.items() if value is not None}
        if overrides is not None:
            values.update({key: overrides.get(key) for key in FIELDS if overrides.get(key) is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise a ConfigError naming the ``decode.*`` key that cannot work."""
        if self.strategy not in ("greedy", "beam"):
            raise ConfigError(f"decode.strategy must be greedy or beam, got {self.strategy!r}")
        if self.beam_size < 1:
            raise ConfigError(f"decode.beam_size must be at least 1, got {self.beam_size}")
        if not self.max_length_ratio > 0:
            raise ConfigError(f"decode.max_length_ratio must be positive, got {self.max_length_ratio}")
        if self.nbest < 1 or (self.nbest > 1 and (self.strategy != "beam" or self.nbest > self.beam_size)):
            raise ConfigError(f"decode.nbest={self.nbest} needs decode.strategy=beam and decode.beam_size >= nbest "
                              f"(got {self.strategy}, beam_size {self.beam_size})")  # fmt: skip

    def short_name(self) -> str:
        """e.g. ``greedy``, ``beam5`` or ``beam5-lp0.6-len1.5``: names an evaluation's keys and files.

        Every setting that differs from the default is in the name, so decoding again with another
        length penalty, length limit or n-best size never replaces the earlier results.
        """
        name = "greedy" if self.strategy == "greedy" else f"beam{self.beam_size}"
        default = DecodeSettings()
        if self.strategy == "beam" and self.length_penalty != default.length_penalty:
            name += f"-lp{self.length_penalty:g}"
        if self.max_length_ratio != default.max_length_ratio:
            name += f"-len{self.max_length_ratio:g}"
        if self.nbest != default.nbest:
            name += f"-nbest{self.nbest}"
        return name

    def describe(self) -> str:
        """e.g. ``greedy`` or ``beam 5 (length penalty 1.0)``, for logs, metrics and reports."""
        if self.strategy == "greedy":
            return f"greedy (max length {self.max_length_ratio:g} x source)"
        return (f"beam {self.beam_size} (length penalty {self.length_penalty:g}, "
                f"max length {self.max_length_ratio:g} x source)")


@dataclass(frozen=True)
class Translation:
    """One output sentence: detokenised text, target piece ids and the search's score."""

    text: str
    tokens: tuple[int, ...]
    score: float


def searcher_for(model) -> Searcher:
    """The Searcher of ``model``, compiled once and kept on the model (see graph.owned_by)."""
    return owned_by(model, "_rnnseq_searcher", lambda: Searcher(model))


def search_batch(searcher: Searcher, source: np.ndarray, settings: DecodeSettings) -> list[list[Hypothesis]]:
    """The n-best hypotheses (best first) of each row of a padded source batch [B, S]."""
    if settings.strategy == "greedy":
        return [[hypothesis] for hypothesis in searcher.greedy(source, settings.max_length_ratio)]
    return searcher.beam(source, settings.beam_size, settings.length_penalty, settings.max_length_ratio,
                         settings.nbest)  # fmt: skip


def translate_ids(model, sources: Sequence[np.ndarray], settings: DecodeSettings, batch_size: int = 64,
                  progress: Callable[[int], None] | None = None) -> list[list[Hypothesis]]:  # fmt: skip
    """Decode piece-id sources (without EOS) in length-sorted batches; results in input order.

    Args:
        model: a Seq2Seq.
        sources: piece ids per sentence; an empty one gets an empty hypothesis without decoding.
        settings: the search.
        batch_size: sentences per batch (beam search runs batch_size x beam_size rows).
        progress: called with the number of sentences done after each batch.
    """
    searcher = searcher_for(model)
    results: list[list[Hypothesis]] = [[Hypothesis([], 0.0, 0.0)] for _ in sources]
    todo = [i for i, ids in enumerate(sources) if len(ids)]
    order = sorted(todo, key=lambda i: len(sources[i]))
    done = len(sources) - len(todo)
    for start in range(0, len(order), max(1, batch_size)):
        rows = order[start : start + batch_size]
        batch = pad_sources([sources[i] for i in rows], EOS_ID)
        for row, hypotheses in zip(rows, search_batch(searcher, batch, settings)):
            results[row] = hypotheses or [Hypothesis([], float("-inf"), float("-inf"))]
        done += len(rows)
        if progress is not None:
            progress(done)
    return results


def translate(model, subwords: Subwords, sentences: Sequence[str], settings: DecodeSettings, batch_size: int = 64,
              progress: Callable[[int], None] | None = None) -> list[list[Translation]]:  # fmt: skip
    """Raw source sentences -> n-best detokenised translations per sentence (best first)."""
    ids = [ids if sentence.strip() else ids[:0] for ids, sentence in zip(subwords.source.encode(sentences), sentences)]
    hypotheses = translate_ids(model, ids, settings, batch_size, progress)
    return [[Translation(subwords.target.decode(h.tokens), tuple(h.tokens), h.score) for h in nbest]
            for nbest in hypotheses]  # fmt: skip


def best_texts(translations: Sequence[Sequence[Translation]]) -> list[str]:
    """The first (best) text of each n-best list."""
    return [nbest[0].text for nbest in translations]


def attention_matrix(model, subwords: Subwords, sentence: str, translation: Translation):
    """Teacher-forced attention of ``model`` over ``sentence`` while producing ``translation``.

    Returns:
        (source pieces + ``</s>``, output pieces + ``</s>``, weights [T, S]) or None without attention.
    """
    source = subwords.source.encode([sentence])[0]
    target_in = np.asarray([[BOS_ID, *translation.tokens]], dtype=np.int32)
    weights = model.attention_weights({"source": pad_sources([source], EOS_ID), "target_in": target_in})
    if weights is None:
        return None
    source_pieces = [*subwords.source.pieces(source), "</s>"]
    target_pieces = [*subwords.target.pieces(translation.tokens), "</s>"]
    return source_pieces, target_pieces, np.asarray(weights)[0]
