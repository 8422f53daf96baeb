"""A tagger's inputs computed from raw token strings with TensorFlow ops, equal to the Python
encoding (framework.data.batching.encode) on every Unicode code point.

An exported tagger takes tokens, not ids, so its graph must normalise words, split characters and
classify casing as training did. TensorFlow's string ops know an older Unicode than Python (and no
``str.isdigit``), so the character classes and the lowercase fixes are read from this Python when
the model is exported and written into the graph as code-point sets.
"""

from __future__ import annotations

import functools
import sys
import unicodedata

import tensorflow as tf

from framework.data.vocab import CASING, Vocabulary, casing_class


def lookup_table(vocabulary: Vocabulary) -> tf.lookup.StaticHashTable:
    """token -> id as ``Vocabulary.id``: unknown tokens, and a literal ``<pad>`` or ``<unk>``, get id 1."""
    if not vocabulary.specials:
        raise ValueError("lookup_table: expected a vocabulary with <pad> and <unk>")
    keys = tf.constant(list(vocabulary.tokens[2:]), dtype=tf.string)
    values = tf.range(2, len(vocabulary), dtype=tf.int32)
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=1)


def _code_points() -> range:
    return range(sys.maxunicode + 1)


def _is_surrogate(code: int) -> bool:
    return 0xD800 <= code <= 0xDFFF


@functools.cache
def _char_sets() -> dict[str, tuple[int, ...]]:
    """Code points per per-character predicate that ``casing_class`` depends on, as this Python sees them.

    ``str.islower``/``isupper`` of a word are defined through these (CPython's unicodeobject.c): a word is
    lower when it has a lowercase character and no uppercase or titlecase one; upper likewise.
    """
    sets: dict[str, list[int]] = {"digit": [], "lower": [], "upper": [], "title": []}
    for code in _code_points():
        if _is_surrogate(code):
            continue
        char = chr(code)
        if char.isdigit():
            sets["digit"].append(code)
        if char.islower():
            sets["lower"].append(code)
        if char.isupper():
            sets["upper"].append(code)
        if unicodedata.category(char) == "Lt":
            sets["title"].append(code)
    return {name: tuple(codes) for name, codes in sets.items()}


def char_class(codes: tuple[int, ...]) -> str:
    """An RE2 character class matching exactly ``codes`` (sorted), written as ranges."""
    parts, start, previous = [], None, None
    for code in codes:
        if start is None:
            start = previous = code
        elif code == previous + 1:
            previous = code
        else:
            parts.append((start, previous))
            start = previous = code
    if start is not None:
        parts.append((start, previous))
    body = "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in parts)
    return f"[{body}]"


# Uppercase letters whose lowercase ICU takes from its default locale (the process's LANG): Turkish and
# Azeri lowercase I to dotless ı, Lithuanian adds a dot above to I, J, Į before accents. str.lower has no locale.
LOCALE_SENSITIVE = "IJĮÌÍĨİ"


@functools.cache
def lowercase_fixes() -> tuple[tuple[str, str], ...]:
    """(character, Python's lowercase of it) to write before ``tf.strings.lower`` runs: the locale-sensitive
    letters, and the characters TensorFlow's ICU lowercases otherwise than this Python (those newer than
    its Unicode). Read once, from both libraries."""
    changed = [chr(code) for code in _code_points() if not _is_surrogate(code) and chr(code).lower() != chr(code)]
    with tf.init_scope():  # eagerly, also when first called while a serving function is traced
        lowered = tf.strings.lower(tf.constant(changed), encoding="utf-8").numpy()
    differ = {char for char, low in zip(changed, lowered) if low.decode("utf-8") != char.lower()}
    return tuple((char, char.lower()) for char in sorted(differ | set(LOCALE_SENSITIVE)))


def lowercase(tokens: tf.Tensor) -> tf.Tensor:
    """``str.lower`` of every token (full case mapping, final sigma) in any locale: the fixes first, so
    ICU meets only characters it lowercases as Python does. (ICU reads a token up to a NUL: the rest of a
    token holding one is lost; no reader of ours yields one. Whether Σ ends a word, ς, ICU decides from
    its neighbours by its own, older tables: beside a character newer than them it may differ.)"""
    fixes = lowercase_fixes()
    if not fixes:
        return tf.strings.lower(tokens, encoding="utf-8")
    # one pass over every token finds the few that hold such a letter; the replacements run on those only
    where = tf.where(tf.strings.regex_full_match(tokens, f"(?s).*{char_class(tuple(ord(c) for c, _ in fixes))}.*"))
    few = tf.gather_nd(tokens, where)
    for char, low in fixes:
        few = tf.strings.regex_replace(few, f"\\x{{{ord(char):x}}}", low.replace("\\", "\\\\"))
    return tf.strings.lower(tf.tensor_scatter_nd_update(tokens, where, few), encoding="utf-8")


def mismatches(vocabs) -> list[str]:
    """Code points of Unicode's planes 0 and 1 (beyond them none has a case or is a digit) whose
    lowercase or casing class the graph computes otherwise than Python, for the features ``vocabs``
    uses: checked at export, as the tests check them, for this TensorFlow and this Python."""
    if not (vocabs.lowercase or vocabs.casing):
        return []
    chars = [chr(code) for code in range(1, 0x20000) if not _is_surrogate(code)]
    wrong = set()
    if vocabs.lowercase:
        lowered = lowercase(tf.constant(chars)).numpy()
        wrong |= {c for c, low in zip(chars, lowered) if low.decode("utf-8") != c.lower()}
    if vocabs.casing:
        classes = casing_ids(tf.constant([chars])).numpy()[0]
        wrong |= {c for c, got in zip(chars, classes) if got != CASING.id(casing_class(c))}
    return [f"U+{ord(c):04X}" for c in sorted(wrong)]


def char_ids(tokens: tf.Tensor, table: tf.lookup.StaticHashTable, max_length: int) -> tf.Tensor:
    """[B, T, C] character ids of [B, T] tokens: code points, each word cut at ``max_length``, zero-padded."""
    chars = tf.strings.unicode_split(tokens, "UTF-8")[:, :, :max_length]
    return tf.ragged.map_flat_values(table.lookup, chars).to_tensor(0)


def casing_ids(tokens: tf.Tensor) -> tf.Tensor:
    """[B, T] ids in ``CASING`` of ``casing_class(word)`` for every token; 0 (<pad>) for an empty one."""
    sets = _char_sets()
    chars = tf.strings.unicode_split(tf.reshape(tokens, [-1]), "UTF-8")  # [B*T, (C)]

    def having(name: str) -> tf.RaggedTensor:
        return tf.ragged.map_flat_values(tf.strings.regex_full_match, chars, char_class(sets[name]))

    length = tf.cast(chars.row_lengths(), tf.int32)
    digits = tf.reduce_sum(tf.cast(having("digit"), tf.int32), axis=-1)
    upper_chars = having("upper")
    lower, title = (tf.reduce_any(having(name), axis=-1) for name in ("lower", "title"))
    upper, first_upper = tf.reduce_any(upper_chars, axis=-1), tf.reduce_any(upper_chars[:, :1], axis=-1)
    is_lower = lower & ~upper & ~title
    is_upper = upper & ~lower & ~title
    classes = [  # casing_class's tests, first match wins
        ("numeric", tf.equal(digits, length)),
        ("mainly_numeric", 2 * digits > length),
        ("lower", is_lower),
        ("upper", is_upper),
        ("title", first_upper),
        ("has_digit", digits > 0),
    ]
    ids = tf.fill(tf.shape(length), CASING.id("other"))
    for name, holds in reversed(classes):
        ids = tf.where(holds, CASING.id(name), ids)
    return tf.reshape(tf.where(length > 0, ids, 0), tf.shape(tokens))
