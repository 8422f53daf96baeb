"""Typed schemas of the language-model (one-to-many text generator) ``data`` and ``model`` groups.

``conf/data/poetry_*.yaml`` start with ``defaults: [lm_schema]`` and are checked against
:class:`LanguageModelDataConfig`; ``conf/model/*_lm.yaml`` against :class:`LanguageModelConfig`.
The recurrent stack reuses the tagger's :class:`framework.config.RNNConfig`, so the cuDNN guard
reads the same keys; a language model reads left to right, so ``bidirectional`` must stay false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

from framework.config import RNNConfig, _choices

TokenizerKind = _choices("TokenizerKind", "word char sentencepiece")
PieceModel = _choices("PieceModel", "unigram bpe")


@dataclass
class LanguageModelDataConfig:
    """A plain-text corpus, one line (verse) per line, and how to cut it into tokens.

    Whitespace-only lines count as blank (a stanza break). Without a ``dev`` file the last
    ``dev_fraction`` of the lines of ``train`` is held out for validation perplexity.
    """

    name: str = MISSING
    train: str = MISSING
    dev: Optional[str] = None  # a separate dev file; otherwise the tail of train is held out
    test: Optional[str] = None
    dev_fraction: float = 0.1  # last fraction of lines held out when dev is null
    tokenizer: TokenizerKind = TokenizerKind.word  # word | char | sentencepiece
    lowercase: bool = True
    split_punctuation: bool = True  # word: "rest." -> "rest" "."
    min_freq: int = 1  # word/char: rarer train tokens become <unk>
    max_vocab: Optional[int] = None  # word/char: keep the most frequent N tokens
    piece_model: PieceModel = PieceModel.unigram  # sentencepiece: unigram | bpe
    vocab_size: int = 1000  # sentencepiece: pieces to learn (a soft limit on tiny corpora)
    bptt: int = 35  # tokens per training window (targets are the inputs shifted by one)


@dataclass
class LMEmbeddingConfig:
    """Token embeddings of a language model."""

    dim: int = 128
    dropout: float = 0.3  # on the embeddings (the first RNN layer's input)


@dataclass
class LMSamplesConfig:
    """The generations written to ``samples.txt`` and the report after training."""

    temperatures: list[float] = field(default_factory=lambda: [0.5, 0.8, 1.0])
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    max_tokens: int = 60
    prompt: str = ""  # "" = from nothing (the start of a line)


def _lm_rnn() -> RNNConfig:
    return RNNConfig(units=256, layers=2, bidirectional=False, dropout=0.3)


@dataclass
class LanguageModelConfig:
    """Embedding -> unidirectional stacked LSTM/GRU -> Dense(vocab) logits.

    ``tie_embeddings`` shares the embedding matrix with the output layer (Press & Wolf 2017;
    Inan et al. 2017); when ``rnn.units`` differs from ``embedding.dim`` a linear projection
    maps the last RNN state to the embedding size first.
    """

    name: str = MISSING
    embedding: LMEmbeddingConfig = field(default_factory=LMEmbeddingConfig)
    rnn: RNNConfig = field(default_factory=_lm_rnn)
    tie_embeddings: bool = False
    output_dropout: float = 0.3  # on the last RNN layer's output, before the logits
    samples: LMSamplesConfig = field(default_factory=LMSamplesConfig)


def register(store) -> None:
    """Store ``data/lm_schema`` and ``model/lm_schema`` in Hydra's ConfigStore."""
    store.store(group="data", name="lm_schema", node=LanguageModelDataConfig)
    store.store(group="model", name="lm_schema", node=LanguageModelConfig)
