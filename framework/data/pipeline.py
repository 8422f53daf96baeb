"""tf.data training pipeline: cache, shuffle, bucket by length, pad on the right, prefetch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from framework.data.batching import EncodedSentence

_SPEC = (
    {
        "words": tf.TensorSpec([None], tf.int32),
        "chars": tf.TensorSpec([None, None], tf.int32),
        "features": tf.TensorSpec([None, None], tf.int32),
    },
    tf.TensorSpec([None], tf.int32),
)


def bucket_boundaries(lengths: Sequence[int], width: int) -> list[int]:
    """Bucket upper bounds every ``width`` tokens up to the longest sentence."""
    longest = int(max(lengths))
    return list(range(width + 1, longest + 1, width)) or [longest + 1]


def training_dataset(
    items: Sequence[EncodedSentence],
    batch_size: int,
    *,
    seed: int,
    bucket_width: int = 1,
    shuffle_buffer: int = 100_000,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """Batches of ``({"words": [B,T], "chars": [B,T,C], "features": [B,T,F]}, tags [B,T])``, sentences
    of similar length together.

    Empty sentences are dropped first: an all-padding row breaks cuDNN's right-padding check.
    Shuffling is seeded and reshuffles every epoch; the batch order is shuffled too, so buckets
    of long and short sentences alternate.
    """
    items = [item for item in items if len(item.words) > 0]

    def generate():
        for item in items:
            features = item.features if item.features is not None else np.zeros((len(item.words), 0), np.int32)
            yield {"words": item.words, "chars": item.chars, "features": features}, item.tags

    dataset = tf.data.Dataset.from_generator(generate, output_signature=_SPEC).cache()
    if shuffle:
        dataset = dataset.shuffle(min(shuffle_buffer, len(items)), seed=seed, reshuffle_each_iteration=True)
    boundaries = bucket_boundaries([len(item.words) for item in items], bucket_width)
    dataset = dataset.bucket_by_sequence_length(
        lambda inputs, tags: tf.shape(inputs["words"])[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes=({"words": [None], "chars": [None, None], "features": [None, None]}, [None]),
    )
    if shuffle:
        dataset = dataset.shuffle(256, seed=seed + 1, reshuffle_each_iteration=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def skip_epochs(dataset: tf.data.Dataset, epochs: int) -> None:
    """Advance ``dataset``'s seeded per-epoch reshuffles past ``epochs`` epochs, for a resumed run.

    tf.data draws a shuffle's seeds when an iterator is made (not when it is read), from a
    generator that starts again in every process: without this, the first epoch after a resume
    would replay the order of the run's first epoch. Keras 3's ``fit`` makes two iterators an
    epoch over a dataset of known length (the one it reads, and one made when the epoch ends that
    the next epoch replaces) and one otherwise; the same number are made here, reading nothing.
    ``tests/training/test_tagger_run.py`` checks that a resumed run repeats an uninterrupted one.
    """
    known = int(dataset.cardinality()) >= 0
    for _ in range(epochs * (2 if known else 1)):
        iter(dataset)


def measure_padding(dataset: tf.data.Dataset) -> dict[str, float]:
    """One pass over ``dataset``: batches, real words and the share of padded word positions."""
    real = total = batches = 0
    for inputs, _ in dataset:
        words = inputs["words"].numpy()
        real += int(np.count_nonzero(words))
        total += words.size
        batches += 1
    return {"batches": batches, "words": real, "padding_fraction": 0.0 if total == 0 else 1 - real / total}


def cap_epoch(dataset: tf.data.Dataset, stats: dict, max_steps: int | None) -> tuple[tf.data.Dataset, dict]:
    """Cap an epoch at ``max_steps`` batches (debug runs) and tell Keras the epoch's length.

    ``stats`` (from a measuring pass, with ``batches``) gains ``full_batches``; its ``batches``
    becomes the capped count, which the learning-rate schedule and the progress bar use.
    """
    stats = {**stats, "full_batches": stats["batches"]}
    if max_steps:
        dataset = dataset.take(max_steps)
        stats["batches"] = min(stats["batches"], max_steps)
    return dataset.apply(tf.data.experimental.assert_cardinality(stats["batches"])), stats
