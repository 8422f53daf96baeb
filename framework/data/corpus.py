"""A tagging corpus from config: read the splits, resolve the tag scheme, convert for training."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from framework.data import tagschemes
from framework.data.readers import Sentence, read_columns, read_conllu
from framework.errors import ConfigError, DataError


@dataclass(frozen=True)
class TaggingCorpus:
    """Train/dev/test sentences with tags in the *training* scheme.

    ``scheme`` is the scheme of the input files, so predictions can be written back in it.
    """

    train: list[Sentence]
    dev: list[Sentence]
    test: list[Sentence]
    scheme: str
    train_scheme: str


def read_tagging_file(path: str, data: Any, scheme: str | None = None, labeled: bool = True) -> list[Sentence]:
    """Read one file of the corpus described by ``data`` (a TaggingDataConfig), checking tags.

    ``labeled=False`` reads prediction input in the corpus format: words and feature columns,
    with the tag column (if present) ignored.
    """
    scheme = scheme or data.scheme
    check = "none" if scheme == "auto" else scheme
    if data.format == "conllu":
        tag_field = data.tag_field if labeled else None
        return read_conllu(path, tag_field=tag_field, feature_columns=data.feature_columns, scheme=check)
    return read_columns(
        path, word_column=data.word_column, tag_column=data.tag_column if labeled else None, scheme=check,
        separator=data.separator, feature_columns=data.feature_columns,
    )  # fmt: skip


def resolve_scheme(data: Any, train: list[Sentence]) -> str:
    """The input scheme: as configured, or detected from the training tags for ``auto``."""
    if data.scheme != "auto":
        return data.scheme
    return tagschemes.detect_scheme([s.tags for s in train])


def convert_sentences(sentences: list[Sentence], source: str, target: str) -> list[Sentence]:
    """The same sentences with tags converted between schemes (no-op when they match)."""
    if source == target or "none" in (source, target):
        return sentences
    return [replace(s, tags=tuple(tagschemes.convert(s.tags, source, target))) for s in sentences]


def split_off_dev(
    train: list[Sentence], fraction: float, seed: int, path: str
) -> tuple[list[Sentence], list[Sentence]]:
    """Carve a seeded random ``fraction`` of train off as dev (for corpora with no dev split).

    Dev gets at least one sentence and train keeps at least one, so ``path`` (the training file,
    named in the error) needs at least 2 sentences.
    """
    if len(train) < 2:
        found = f"{len(train)} sentence" + ("" if len(train) == 1 else "s")
        raise DataError(path, None, f"has {found}: carving a dev split off it needs at least 2 (or set data.dev)")
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    cut = min(len(train) - 1, max(1, int(round(len(train) * fraction))))
    dev_ids = set(order[:cut])
    return [s for i, s in enumerate(train) if i not in dev_ids], [train[i] for i in sorted(dev_ids)]


def _check_paths(data: Any) -> None:
    if not data.train:
        raise ConfigError(f"data.train is not set for corpus '{data.name}': point it at the training file")
    if not data.dev and data.dev_fraction <= 0:
        raise ConfigError(f"data.dev is not set for corpus '{data.name}' and data.dev_fraction is 0")
    for key in ("train", "dev", "test"):
        path = getattr(data, key)
        if path and not Path(path).is_file():
            raise DataError(path, None, f"file not found (data.{key}; set paths.data_dir or data.{key})")


def _check_tags(sentences: list[Sentence], scheme: str, origin: str) -> None:
    """For sources without line numbers (TFDS): the first tag not in ``scheme``, by example and token."""
    if scheme == "none":
        return
    valid: set[str] = set()
    for sentence in sentences:
        for position, tag in enumerate(sentence.tags, 1):
            if tag not in valid:
                message = tagschemes.tag_error(tag, scheme)
                if message is not None:
                    raise DataError(origin, None, f"example {sentence.line}, token {position}: {message}")
                valid.add(tag)


def read_local_tagging_corpus(data: Any) -> TaggingCorpus | None:
    """The corpus when it comes from local files, else None: the training recipe reads it before it
    imports TensorFlow (a bad file is refused in a second); TFDS reads run TensorFlow ops, which must
    wait for the run's distribution strategy, so ``train_tagger`` reads those itself."""
    return None if data.source == "tfds" else load_tagging_corpus(data)


def load_tagging_corpus(data: Any) -> TaggingCorpus:
    """Read the splits named by ``data`` (files or TFDS) and convert tags to ``data.train_scheme``.

    ``scheme: auto`` is detected from the whole training file (before any dev split is carved
    off it); dev and test must then hold tags of that scheme, or the reader names the bad line.
    """
    if data.source == "tfds":
        from framework.data.tfds_source import load_tfds_splits

        if data.feature_columns:
            raise ConfigError("data.feature_columns reads columns of local files; "
                              "it does not apply to data.source=tfds")  # fmt: skip
        ud_tags, field = ("upos", "xpos"), str(data.tag_field)
        if data.tfds_tag_feature in ud_tags and field in ud_tags and field != data.tfds_tag_feature:
            raise ConfigError(f"data.tag_field={field} reads CoNLL-U files; through TFDS the tags come from "
                              f"data.tfds_tag_feature (now {data.tfds_tag_feature}): set data.tfds_tag_feature={field}")
        splits = load_tfds_splits(data)
        train, dev, test = splits["train"], splits.get("dev", []), splits.get("test", [])
        scheme = resolve_scheme(data, train)
        origins = {name: f"tfds:{data.tfds_name}/{theirs}" for name, theirs in data.tfds_splits.items()}
        for name, sentences in (("train", train), ("dev", dev), ("test", test)):
            _check_tags(sentences, scheme, origins.get(name, f"tfds:{data.tfds_name}"))
        train_origin = origins.get("train", f"tfds:{data.tfds_name}")
    else:
        _check_paths(data)
        train = read_tagging_file(data.train, data)
        scheme = resolve_scheme(data, train)
        dev = read_tagging_file(data.dev, data, scheme) if data.dev else []
        test = read_tagging_file(data.test, data, scheme) if data.test else []
        train_origin = data.train
    if not dev:
        train, dev = split_off_dev(train, data.dev_fraction or 0.1, data.split_seed, train_origin)
    if data.max_train_sentences:
        train = train[: data.max_train_sentences]
    target = data.train_scheme if scheme != "none" else "none"
    if scheme != "none" and target == "none":
        target = scheme if scheme != "iob1" else "iob2"
    return TaggingCorpus(
        train=convert_sentences(train, scheme, target),
        dev=convert_sentences(dev, scheme, target),
        test=convert_sentences(test, scheme, target),
        scheme=scheme,
        train_scheme=target,
    )
