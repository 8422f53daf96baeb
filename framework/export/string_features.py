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


SURROGATES = (0xD800, 0xDFFF)  # no UTF-8 text holds one


def is_surrogate(code: int) -> bool:
    return SURROGATES[0] <= code <= SURROGATES[1]


@functools.cache
def planes_0_and_1() -> tuple[str, ...]:
    """Every character of Unicode's planes 0 and 1 but NUL, the ones the export-time checks try."""
    return tuple(chr(code) for code in range(1, 0x20000) if not is_surrogate(code))


@functools.cache
def _char_sets() -> dict[str, tuple[int, ...]]:
    """Code points per per-character predicate that ``casing_class`` depends on, as this Python sees them.

    ``str.islower``/``isupper`` of a word are defined through these (CPython's unicodeobject.c): a word is
    lower when it has a lowercase character and no uppercase or titlecase one; upper likewise.
    """
    sets: dict[str, list[int]] = {"digit": [], "lower": [], "upper": [], "title": []}
    for code in _code_points():
        if is_surrogate(code):
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
    changed = [chr(code) for code in _code_points() if not is_surrogate(code) and chr(code).lower() != chr(code)]
    with tf.init_scope():  # eagerly, also when first called while a serving function is traced
        lowered = tf.strings.lower(tf.constant(changed), encoding="utf-8").numpy()
    differ = {char for char, low in zip(changed, lowered) if low.decode("utf-8") != char.lower()}
    return tuple((char, char.lower()) for char in sorted(differ | set(LOCALE_SENSITIVE)))


SIGMA, SMALL_SIGMA, FINAL_SIGMA = "\u03a3", "\u03c3", "\u03c2"
NEITHER, CASE_IGNORABLE, CASED = 0, 1, 2  # what final sigma's context rule reads of a character


@functools.cache
def sigma_context() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(starts, kinds): each code point from ``starts[k]`` to the next start is of ``kinds[k]``, as this
    Python's ``str.lower`` sees it around a capital sigma (read from str.lower itself: after a letter, Σ
    followed by a cased character stays σ; followed by a case-ignorable one and a letter, σ too)."""
    starts: list[int] = []
    kinds: list[int] = []
    for code in _code_points():
        char = "" if is_surrogate(code) else chr(code)
        if not char:
            kind = NEITHER
        elif f"A{SIGMA}{char}".lower()[1] == SMALL_SIGMA:
            kind = CASED
        else:
            kind = CASE_IGNORABLE if f"A{SIGMA}{char}A".lower()[1] == SMALL_SIGMA else NEITHER
        if not kinds or kinds[-1] != kind:
            starts.append(code)
            kinds.append(kind)
    return tuple(starts), tuple(kinds)


def final_sigmas(texts: tf.Tensor) -> tf.Tensor:
    """``texts`` [N] with every Σ written as ``str.lower`` writes it: ς where it ends a word (a cased
    character before it and none after it, case-ignorable ones skipped both ways), σ elsewhere. ICU
    decides this by its own, older tables: next to a character newer than them it decides otherwise."""
    starts, kinds = sigma_context()
    codes = tf.strings.unicode_decode(texts, "UTF-8")
    flat = codes.flat_values
    kind = tf.gather(tf.constant(kinds, tf.int32), tf.searchsorted(tf.constant(starts, tf.int32), flat,
                                                                     side="right") - 1)  # fmt: skip
    solid = tf.cast(kind != CASE_IGNORABLE, tf.int64)  # the characters the rule does not skip
    before = tf.cumsum(solid, exclusive=True)  # solid characters before each, counted across all rows
    row_first = tf.cumsum(tf.reduce_sum(codes.with_flat_values(solid), axis=1), exclusive=True)  # per row
    row_end = row_first + tf.reduce_sum(codes.with_flat_values(solid), axis=1)
    rows = codes.value_rowids()
    solid_kinds = tf.boolean_mask(kind, solid > 0)
    count = tf.shape(solid_kinds, out_type=tf.int64)[0]
    solid_kinds = tf.concat([solid_kinds, [NEITHER]], 0)  # index ``count``: what an index out of range reads

    def solid_kind(index: tf.Tensor) -> tf.Tensor:
        return tf.gather(solid_kinds, tf.clip_by_value(index, 0, count))

    previous_cased = (before > tf.gather(row_first, rows)) & tf.equal(solid_kind(before - 1), CASED)
    following = before + 1  # a Σ is solid itself: the next solid character's index
    next_cased = (following < tf.gather(row_end, rows)) & tf.equal(solid_kind(following), CASED)
    final = previous_cased & ~next_cased
    lowered = tf.where(flat == ord(SIGMA), tf.where(final, ord(FINAL_SIGMA), ord(SMALL_SIGMA)), flat)
    return tf.strings.unicode_encode(codes.with_flat_values(lowered), "UTF-8")


def lowercase(tokens: tf.Tensor) -> tf.Tensor:
    """``str.lower`` of every token (full case mapping, final sigma) in any locale: Σ and the fixes first,
    so ICU meets only characters it lowercases as Python does. (ICU reads a token up to a NUL: the rest of
    a token holding one is lost; no reader of ours yields one.)"""
    fixes = lowercase_fixes()
    # one pass over every token finds the few that hold Σ or such a letter; the replacements run on those only
    special = char_class(tuple(sorted({ord(c) for c, _ in fixes} | {ord(SIGMA)})))
    where = tf.where(tf.strings.regex_full_match(tokens, f"(?s).*{special}.*"))
    few = final_sigmas(tf.gather_nd(tokens, where))
    for char, low in fixes:
        few = tf.strings.regex_replace(few, f"\\x{{{ord(char):x}}}", low.replace("\\", "\\\\"))
    return tf.strings.lower(tf.tensor_scatter_nd_update(tokens, where, few), encoding="utf-8")


def sigma_contexts(char: str) -> tuple[str, ...]:
    """Texts that put ``char`` after a capital sigma (the cased and case-ignorable tests) and before one."""
    return f"A{SIGMA}{char}", f"A{SIGMA}{char}A", f"{char}{SIGMA}", f"A{char}{SIGMA}"


def lowercase_mismatches() -> list[str]:
    """Code points of Unicode's planes 0 and 1 (beyond them none has a case) that the graph lowercases
    otherwise than ``str.lower``, alone or (the cased and case-ignorable ones, which decide final sigma)
    beside a capital sigma: checked at export, for this TensorFlow and this Python; the tests put every
    character beside one."""
    starts, kinds = sigma_context()
    deciding = {code for start, end, kind in zip(starts, starts[1:] + (sys.maxunicode + 1,), kinds)
                if kind != NEITHER for code in range(start, min(end, 0x20000))}  # fmt: skip
    pairs = [(char, text) for char in planes_0_and_1()
             for text in (char, *(sigma_contexts(char) if ord(char) in deciding else ()))]  # fmt: skip
    lowered = lowercase(tf.constant([text for _, text in pairs])).numpy()
    wrong = {char for (char, text), low in zip(pairs, lowered) if low.decode("utf-8") != text.lower()}
    return [f"U+{ord(char):04X}" for char in sorted(wrong)]


def mismatches(vocabs) -> list[str]:
    """Code points of planes 0 and 1 whose lowercase (``lowercase_mismatches``) or casing class the graph
    computes otherwise than Python, for the features ``vocabs`` uses (beyond plane 1 none is a digit)."""
    wrong = set(lowercase_mismatches()) if vocabs.lowercase else set()
    if vocabs.casing:
        chars = planes_0_and_1()
        classes = casing_ids(tf.constant([chars])).numpy()[0]
        wrong |= {f"U+{ord(c):04X}" for c, got in zip(chars, classes) if got != CASING.id(casing_class(c))}
    return sorted(wrong, key=lambda name: int(name[2:], 16))


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
