"""Tagging corpora through tensorflow-datasets' catalog (conll2003, universal_dependencies, xtreme_pos).

The catalog builders download their files, so this path needs the internet once; after that
TFDS reads its prepared copy from ``data_dir`` offline. Local files go through our own readers
(framework.data.readers) instead of TFDS's ConllDatasetBuilder / ConllUDatasetBuilder: those
raise errors without the file name and line number, and need every label set fixed in advance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from framework.data.readers import Sentence
from framework.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def sentences_from_examples(
    examples: Iterable[dict], tag_feature: str, label_names: list[str] | None, origin: str
) -> list[Sentence]:
    """Sentences from TFDS examples (numpy dicts with ``tokens`` and ``tag_feature``).

    ``label_names`` maps ClassLabel ids to strings (None when the feature is already text).
    ``Sentence.line`` holds the example's index, since TFDS records have no line numbers.

    TFDS's CoNLL-U builders (universal_dependencies) keep every line of a sentence, multiword
    ranges (``3-4 gonna``) and empty nodes (``8.1``) included; those have no syntactic head, so
    positions whose ``head`` is empty are dropped, as :func:`framework.data.readers.read_conllu`
    skips those lines.
    """
    sentences = []
    for index, example in enumerate(examples):
        if "tokens" not in example or tag_feature not in example:
            raise DataError(origin, None, f"example {index}: expected features 'tokens' and '{tag_feature}'")
        words = tuple(_text(token) for token in example["tokens"])
        raw = list(example[tag_feature])
        tags = tuple(label_names[int(t)] if label_names else _text(t) for t in raw)
        if len(words) != len(tags):
            raise DataError(origin, None, f"example {index}: {len(words)} tokens but {len(tags)} tags")
        if "head" in example:
            keep = [_text(head) not in ("None", "_", "") for head in example["head"]]
            if len(keep) == len(words):
                words = tuple(w for w, k in zip(words, keep) if k)
                tags = tuple(t for t, k in zip(tags, keep) if k)
        if words:
            sentences.append(Sentence(words, tags, index))
    return sentences


def label_names_of(builder: Any, tag_feature: str) -> list[str] | None:
    """The ClassLabel names of a Sequence(ClassLabel) feature, or None for a text feature."""
    feature = builder.info.features[tag_feature]
    inner = getattr(feature, "feature", feature)
    return list(inner.names) if hasattr(inner, "names") else None


def load_from_builder(builder: Any, data: Any) -> dict[str, list[Sentence]]:
    """Read the configured splits of a prepared TFDS builder into sentences."""
    splits = {}
    for ours, theirs in data.tfds_splits.items():
        if theirs not in builder.info.splits:
            raise ConfigError(f"data.tfds_splits: {builder.name} has no split {theirs!r}")
        dataset = builder.as_dataset(split=theirs, shuffle_files=False)
        names = label_names_of(builder, data.tfds_tag_feature)
        import tensorflow_datasets as tfds

        splits[ours] = sentences_from_examples(
            tfds.as_numpy(dataset), data.tfds_tag_feature, names, f"tfds:{builder.name}/{theirs}"
        )
    return splits


def load_tfds_splits(data: Any) -> dict[str, list[Sentence]]:
    """Download (once) and prepare ``data.tfds_name`` in ``data.tfds_data_dir`` (null: TFDS's default
    folder), then read its splits as sentences."""
    if not data.tfds_name or not data.tfds_tag_feature:
        raise ConfigError("data.source=tfds needs data.tfds_name and data.tfds_tag_feature")
    builder = prepare_builder(data.tfds_name, data.tfds_data_dir, data.tfds_download,
                              "use the file-based corpus configs (e.g. data=conll2003 paths.data_dir=...)")  # fmt: skip
    return load_from_builder(builder, data)


def prepare_builder(name: str, data_dir: str | None, download: bool, offline_hint: str) -> Any:
    """A TFDS catalog builder, downloaded and prepared once; any failure is one ConfigError line.

    ``offline_hint`` says what to use instead without the internet (e.g. local files).
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if download and not builder.is_prepared():
            # said first: without the internet, TFDS's retries can take minutes before the error below
            log.info("tensorflow-datasets: downloading %r and preparing it in %s (needs the internet, once; "
                     "offline, %s)", name, builder.data_dir_root, offline_hint)  # fmt: skip
            builder.download_and_prepare()
    except Exception as err:  # noqa: BLE001 - network or catalog errors become one line
        raise ConfigError(
            f"tensorflow-datasets could not prepare {name!r} ({type(err).__name__}: {err}). "
            f"Catalog datasets download once and need the internet; offline, {offline_hint}."
        ) from None
    if not download and not builder.is_prepared():
        raise ConfigError(f"tensorflow-datasets has no prepared copy of {name!r} in {builder.data_dir_root}; set "
                          "data.tfds_data_dir to the folder that holds one, or data.tfds_download=true (needs the "
                          f"internet once); offline, {offline_hint}")  # fmt: skip
    return builder
