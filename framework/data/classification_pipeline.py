"""tf.data training batches for a text classifier: shuffle, bucket by length, pad right.

Bucketing texts of similar length keeps padding (wasted RNN steps) low, and right padding
is what cuDNN and the ``last`` pooling rely on: the final state is read at the last real token.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from framework.data.pipeline import bucket_boundaries


def training_dataset(
    sequences: Sequence[np.ndarray],
    targets: np.ndarray,
    weights: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    bucket_width: int = 1,
    shuffle_buffer: int = 100_000,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(words [B, T] int32, targets [B], sample weights [B] float32)``.

    Args:
        sequences: word ids per text (each non-empty).
        targets: one label id (int) or 0/1 target (float, sigmoid output) per text.
        weights: a sample weight per text (class weights; ones when unweighted).
        batch_size: texts per batch.
        seed: seeds the per-epoch reshuffle of texts and of batch order.
        bucket_width: token-length range of one bucket.
        shuffle_buffer: texts held by the shuffle buffer.
        shuffle: False for a fixed order (tests).
    """
    targets = np.asarray(targets)
    target_spec = tf.TensorSpec([], tf.as_dtype(targets.dtype))

    def generate():
        for ids, target, weight in zip(sequences, targets, weights):
            yield ids, target, np.float32(weight)

    signature = (tf.TensorSpec([None], tf.int32), target_spec, tf.TensorSpec([], tf.float32))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature).cache()
    if shuffle:
        dataset = dataset.shuffle(min(shuffle_buffer, len(sequences)), seed=seed, reshuffle_each_iteration=True)
    boundaries = bucket_boundaries([len(ids) for ids in sequences], bucket_width)
    dataset = dataset.bucket_by_sequence_length(
        lambda ids, target, weight: tf.shape(ids)[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes=([None], [], []),
    )
    if shuffle:
        dataset = dataset.shuffle(256, seed=seed + 1, reshuffle_each_iteration=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def measure_padding(dataset: tf.data.Dataset) -> dict[str, float]:
    """One pass: batches per epoch, real tokens and the share of padded positions."""
    real = total = batches = 0
    for words, _, _ in dataset:
        ids = words.numpy()
        real += int(np.count_nonzero(ids))
        total += ids.size
        batches += 1
    return {"batches": batches, "tokens": real, "padding_fraction": 0.0 if total == 0 else 1 - real / total}
