"""Tag ids of one chunk scheme written as tag strings of another, with TensorFlow ops, the way
``framework.data.tagschemes.convert`` does it in Python: through the chunks, read as conlleval reads
them, so an exported tagger trained in IOBES answers in the corpus's IOB2 as predict.py does."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from framework.data import tagschemes

_PREFIX_CODES = {"O": 0, "B": 1, "I": 2, "E": 3, "S": 4}


def _shift_right(values: tf.Tensor, fill) -> tf.Tensor:
    """values[:, t - 1] at t, ``fill`` at t = 0."""
    return tf.concat([tf.fill([tf.shape(values)[0], 1], fill), values[:, :-1]], axis=1)


def _shift_left(values: tf.Tensor, fill) -> tf.Tensor:
    """values[:, t + 1] at t, ``fill`` at the last position."""
    return tf.concat([values[:, 1:], tf.fill([tf.shape(values)[0], 1], fill)], axis=1)


def tag_strings(ids: tf.Tensor, mask: tf.Tensor, tags: Sequence[str], source: str, target: str) -> tf.Tensor:
    """[B, T] tag strings of ``target`` for [B, T] ids into ``tags`` (a vocabulary of ``source``);
    "" where ``mask`` is False. Padding must be at the end of each row (right-padded). Tags pass
    unchanged where ``to_input_scheme`` leaves them: one scheme, or "none" on either side."""
    names = tf.constant(list(tags))
    if source == target or "none" in (source, target):
        return tf.where(mask, tf.gather(names, ids), "")
    parsed = tagschemes.parse_tags(tags, source)  # the vocabulary's tags, each valid in the training scheme
    codes, kinds = [_PREFIX_CODES[prefix] for prefix, _ in parsed], [kind for _, kind in parsed]
    kind_names = sorted(set(kinds))
    prefix = tf.where(mask, tf.gather(tf.constant(codes), ids), 0)
    kind = tf.gather(tf.constant([kind_names.index(k) for k in kinds]), ids)
    inside = prefix > 0
    previous_prefix, previous_kind = _shift_right(prefix, 0), _shift_right(kind, -1)
    starts = inside & (  # tagschemes.spans: a chunk starts here
        (prefix == 1) | (prefix == 4) | (previous_prefix == 0) | (previous_prefix == 3) | (previous_prefix == 4)
        | (kind != previous_kind)
    )
    ends = inside & ~(_shift_left(inside, False) & ~_shift_left(starts, False))  # the chunk's last token
    if target == "iob2":
        letter = tf.where(starts, "B", "I")
    elif target == "iob1":  # B only where a chunk follows one of its own type
        letter = tf.where(starts & _shift_right(inside, False) & tf.equal(kind, previous_kind), "B", "I")
    else:  # iobes
        letter = tf.where(starts, tf.where(ends, "S", "B"), tf.where(ends, "E", "I"))
    written = tf.strings.join([letter, "-", tf.gather(tf.constant(kind_names), kind)])
    return tf.where(inside, written, tf.where(mask, "O", ""))
