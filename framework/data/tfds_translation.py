"""Translation corpora through tensorflow-datasets' catalog (wmt14_translate, ted_hrlr_translate, ...).

Catalog translation datasets yield one dict per pair with a text feature per language, e.g.
``{"de": b"...", "en": b"..."}`` for ``wmt14_translate/de-en`` or ``{"pt": ..., "en": ...}`` for
``ted_hrlr_translate/pt_to_en``; ``data.src_lang``/``data.tgt_lang`` pick the two sides. The
builders download their files, so this path needs the internet once; afterwards TFDS reads its
prepared copy from ``data.tfds_data_dir`` offline. Web-crawled corpora contain a few pairs with
an empty side; those are skipped (and counted in the log) rather than refused, unlike local files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from framework.data.parallel import ParallelSplit
from framework.data.tfds_source import prepare_builder
from framework.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    """One line of text: a line break inside a sentence would misalign the run's .src/.ref/.hyp files."""
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    return " ".join(text.splitlines()).strip()


def pairs_from_examples(examples: Iterable[dict], src_lang: str, tgt_lang: str, origin: str) -> ParallelSplit:
    """Source/target sentences from TFDS examples (numpy dicts keyed by language code).

    Raises:
        DataError: an example without one of the two languages (names the features it has).
    """
    sources, targets, skipped = [], [], 0
    for index, example in enumerate(examples):
        if src_lang not in example or tgt_lang not in example:
            raise DataError(origin, None, f"example {index}: expected features '{src_lang}' and '{tgt_lang}', "
                                          f"found {', '.join(sorted(example))}")  # fmt: skip
        source, target = _text(example[src_lang]), _text(example[tgt_lang])
        if not source or not target:
            skipped += 1
            continue
        sources.append(source)
        targets.append(target)
    if skipped:
        log.info("%s: skipped %d pairs with an empty side", origin, skipped)
    return ParallelSplit(sources, targets, origin)


def load_from_builder(builder: Any, data: Any) -> dict[str, ParallelSplit]:
    """Read the configured splits of a prepared TFDS builder (ours -> TFDS split names)."""
    import tensorflow_datasets as tfds

    splits = {}
    for ours, theirs in data.tfds_splits.items():
        if theirs not in builder.info.splits:
            raise ConfigError(f"data.tfds_splits: {builder.name} has no split {theirs!r} "
                              f"(it has {', '.join(sorted(builder.info.splits))})")  # fmt: skip
        dataset = builder.as_dataset(split=theirs, shuffle_files=False)
        splits[ours] = pairs_from_examples(tfds.as_numpy(dataset), data.src_lang, data.tgt_lang,
                                           f"tfds:{builder.name}/{theirs}")  # fmt: skip
    return splits


def load_tfds_corpus(data: Any) -> dict[str, ParallelSplit]:
    """Download (once) and prepare ``data.tfds_name``, then read its splits as sentence pairs.

    Raises:
        ConfigError: no ``tfds_name``, or the catalog cannot be reached or prepared (the message
            says that catalog datasets need the internet once and names the offline alternative).
    """

    if not data.tfds_name:
        raise ConfigError("data.source=tfds needs data.tfds_name (e.g. wmt14_translate/de-en)")
    builder = prepare_builder(data.tfds_name, data.tfds_data_dir, data.tfds_download,
                              "use aligned text files (e.g. data=multi30k_en_de paths.data_dir=..., "
                              "or data.train_src=... data.train_tgt=...)")  # fmt: skip
    return load_from_builder(builder, data)
