"""Parallel corpora for translators: aligned text files or TSV, length filtering, tf.data batches.

A split is either two plain-text files, one sentence a line, line i of one translating line i
of the other (``format=text``), or one ``source<TAB>target`` file (``format=tsv``). Sentences are
kept raw (untokenised, cased): subwords are learnt from them and BLEU is scored against them.
Every input problem is a one-line :class:`DataError` naming the file(s) and the 1-based line,
because a misaligned 29,000-line pair of files is otherwise hopeless to fix.

Training batches are ``({"source": [B, S], "target_in": [B, T]}, target_out [B, T])``: ids
right-padded with 0, sources closed by EOS, ``target_in`` = BOS + target and ``target_out`` =
target + EOS; pairs of similar length share a batch (bucketing), so little time goes to padding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.text_files import decode_utf8
from framework.errors import ConfigError, DataError

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class ParallelSplit:
    """Aligned raw sentences of one split and where they came from (file names, for messages)."""

    sources: list[str]
    targets: list[str]
    origin: str = ""

    def __len__(self) -> int:
        return len(self.sources)

    def head(self, count: int | None) -> "ParallelSplit":
        """The first ``count`` pairs (all when None)."""
        if count is None or count >= len(self):
            return self
        return ParallelSplit(self.sources[:count], self.targets[:count], self.origin)


@dataclass(frozen=True)
class ParallelCorpus:
    """Train, dev and (optional) test splits; a split absent from the config is empty."""

    train: ParallelSplit
    dev: ParallelSplit
    test: ParallelSplit = field(default_factory=lambda: ParallelSplit([], []))

    def split(self, name: str) -> ParallelSplit:
        return getattr(self, name)


def read_lines(path: str | Path) -> list[str]:
    """The file's lines (LF or CRLF, a final newline optional, a leading BOM dropped).

    Raises:
        DataError: missing or empty file, or a byte that is not UTF-8 (with line and column).
    """
    text = decode_utf8(path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return [line.removesuffix("\r") for line in lines]


def read_aligned(source_path: str | Path, target_path: str | Path) -> ParallelSplit:
    """Read two line-aligned files; both must have the same number of lines, none of them blank.

    Raises:
        DataError: for either file: missing, empty, not UTF-8; different line counts (naming both
            files, both counts and the first line without a partner); a blank sentence on a line.
    """
    sources, targets = read_lines(source_path), read_lines(target_path)
    if len(sources) != len(targets):
        longer = source_path if len(sources) > len(targets) else target_path
        raise DataError(longer, min(len(sources), len(targets)) + 1,
                        f"no aligned line in the other file: {source_path} has {len(sources)} lines but "
                        f"{target_path} has {len(targets)}; the files must be line-aligned")  # fmt: skip
    for number, (source, target) in enumerate(zip(sources, targets), start=1):
        for path, sentence, other, other_sentence in ((source_path, source, target_path, target),
                                                      (target_path, target, source_path, source)):  # fmt: skip
            if not sentence.strip():
                raise DataError(path, number, f"empty sentence (its translation on line {number} of {other} is "
                                              f"{_preview(other_sentence)})")  # fmt: skip
    return ParallelSplit(sources, targets, f"{source_path} + {target_path}")


def read_tsv(path: str | Path) -> ParallelSplit:
    """Read ``source<TAB>target`` lines.

    Raises:
        DataError: missing, empty or non-UTF-8 file; a line without exactly one tab; an empty side.
    """
    sources, targets = [], []
    for number, line in enumerate(read_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataError(path, number, f"expected 2 tab-separated fields (source<TAB>target), found {len(fields)}")
        for side, text in zip(("source", "target"), fields):
            if not text.strip():
                raise DataError(path, number, f"empty {side} side")
        sources.append(fields[0])
        targets.append(fields[1])
    return ParallelSplit(sources, targets, str(path))


def _preview(sentence: str, limit: int = 40) -> str:
    text = sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
    return repr(text) if sentence.strip() else "empty too"


def _read_split(data: Any, split: str) -> ParallelSplit | None:
    """One split from the config's files, or None when the config names none."""
    if data.format == "tsv":
        path = data.get(split)
        return read_tsv(path) if path else None
    source, target = data.get(f"{split}_src"), data.get(f"{split}_tgt")
    if bool(source) != bool(target):
        missing = f"{split}_tgt" if source else f"{split}_src"
        raise ConfigError(f"data.{missing}: no file given, but its other side is set (set both or neither)")
    return read_aligned(source, target) if source else None


def read_local_parallel_corpus(data: Any) -> ParallelCorpus | None:
    """The corpus when it comes from local files, else None: the training recipe reads it before it
    imports TensorFlow (a bad file is refused in a second); TFDS reads run TensorFlow ops, which must
    wait for the run's distribution strategy, so ``train_translator`` reads those itself."""
    return None if data.source == "tfds" else load_parallel_corpus(data)


def load_parallel_corpus(data: Any) -> ParallelCorpus:
    """Train, dev and test pairs of a TranslationDataConfig (files or a TFDS catalog corpus).

    Train and dev are required (dev BLEU selects the model); test is optional.
    """
    if data.source == "tfds":
        from framework.data.tfds_translation import load_tfds_corpus

        splits = load_tfds_corpus(data)
    else:
        splits = {split: _read_split(data, split) for split in SPLITS}
    for split in ("train", "dev"):
        if not splits.get(split):
            keys = f"data.{split}" if data.format == "tsv" else f"data.{split}_src and data.{split}_tgt"
            raise ConfigError(f"{keys}: a translator needs a {split} split (set {keys})")
    train = splits["train"].head(data.max_train_pairs)
    return ParallelCorpus(train, splits["dev"], splits.get("test") or ParallelSplit([], []))


# ------------------------------------------------------------------------------------- batches
def filter_by_length(sources: Sequence[np.ndarray], targets: Sequence[np.ndarray], max_length: int):
    """Keep the pairs whose source and target each have at most ``max_length`` pieces.

    Long pairs cost memory quadratically in attention and teach little; they stay in dev/test.

    Returns:
        (kept sources, kept targets, number dropped).
    """
    if max_length < 1:
        raise ConfigError(f"data.max_length must be at least 1, got {max_length}")
    keep = [i for i, (s, t) in enumerate(zip(sources, targets)) if len(s) <= max_length and len(t) <= max_length]
    return [sources[i] for i in keep], [targets[i] for i in keep], len(sources) - len(keep)


def training_dataset(sources: Sequence[np.ndarray], targets: Sequence[np.ndarray], batch_size: int, *, seed: int,
                     bos_id: int = 1, eos_id: int = 2, bucket_width: int = 1, shuffle_buffer: int = 100_000,
                     shuffle: bool = True):  # fmt: skip
    """tf.data batches ``({"source", "target_in"}, target_out)`` bucketed by the longer side.

    Args:
        sources, targets: piece ids per pair, without BOS/EOS (each source non-empty).
        batch_size: pairs per batch.
        seed: seeds the per-epoch reshuffle of pairs and of batch order.
        bos_id, eos_id: the special ids (the subword models' 1 and 2).
        bucket_width: length range of one bucket.
        shuffle_buffer: pairs held by the shuffle buffer.
        shuffle: False for a fixed order (tests).
    """
    import tensorflow as tf

    from framework.data.pipeline import bucket_boundaries

    def generate():
        for source, target in zip(sources, targets):
            source = np.append(source, eos_id).astype(np.int32)
            yield ({"source": source, "target_in": np.insert(target, 0, bos_id).astype(np.int32)},
                   np.append(target, eos_id).astype(np.int32))  # fmt: skip

    spec = tf.TensorSpec([None], tf.int32)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=({"source": spec, "target_in": spec}, spec))
    dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(shuffle_buffer, len(sources)), seed=seed, reshuffle_each_iteration=True)
    lengths = [max(len(s), len(t)) + 1 for s, t in zip(sources, targets)]
    boundaries = bucket_boundaries(lengths, bucket_width)
    dataset = dataset.bucket_by_sequence_length(
        lambda inputs, out: tf.maximum(tf.shape(inputs["source"])[0], tf.shape(out)[0]),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes=({"source": [None], "target_in": [None]}, [None]),
    )
    if shuffle:
        dataset = dataset.shuffle(256, seed=seed + 1, reshuffle_each_iteration=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def measure_batches(dataset) -> dict[str, float]:
    """One pass: batches per epoch, real source/target tokens and the share of padded positions."""
    batches = source_tokens = target_tokens = total = 0
    for inputs, target_out in dataset:
        source, target = inputs["source"].numpy(), target_out.numpy()
        source_tokens += int(np.count_nonzero(source))
        target_tokens += int(np.count_nonzero(target))
        total += source.size + target.size
        batches += 1
    real = source_tokens + target_tokens
    return {"batches": batches, "source_tokens": source_tokens, "target_tokens": target_tokens,
            "padding_fraction": 0.0 if total == 0 else 1 - real / total}  # fmt: skip


def pad_sources(sources: Sequence[np.ndarray], eos_id: int = 2) -> np.ndarray:
    """Right-padded source ids [B, S] for decoding, each closed by EOS as in training."""
    width = max(len(s) for s in sources) + 1
    batch = np.zeros((len(sources), width), dtype=np.int32)
    for row, ids in enumerate(sources):
        batch[row, : len(ids)] = ids
        batch[row, len(ids)] = eos_id
    return batch


def capped_epoch(dataset, max_steps: int | None):
    """The dataset of one (possibly step-capped) epoch and its batch statistics.

    The batch count is measured by one pass and asserted, so Keras knows the epoch length (and
    the learning-rate schedule the number of steps) without another pass.
    """
    import tensorflow as tf

    stats = measure_batches(dataset)
    stats["full_batches"] = stats["batches"]
    if max_steps:
        dataset = dataset.take(max_steps)
        share = min(1.0, max_steps / max(stats["batches"], 1))
        stats["batches"] = min(stats["batches"], max_steps)
        stats["source_tokens"] = int(stats["source_tokens"] * share)
        stats["target_tokens"] = int(stats["target_tokens"] * share)
    return dataset.apply(tf.data.experimental.assert_cardinality(stats["batches"])), stats
