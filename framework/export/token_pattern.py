"""A classifier's ``data.token_pattern`` (a Python regex) run by TensorFlow's string ops: ``re.findall``
over a batch of texts, exactly as Python's ``re`` finds the tokens.

TensorFlow's regexes are RE2, whose ``\\w``, ``\\d`` and ``\\s`` are ASCII where Python's are Unicode, so the
pattern is not passed through. Python's own parser reads it, and each of its character sets (a literal,
``.``, ``\\w``, ``[...]``, read from this Python's ``re``) is one *atom*. The code points fall into a few
groups with the same membership in every atom (for the default pattern: word characters, white space,
the apostrophe, everything else); each text is rewritten as one symbol per character, its group's, and
RE2 runs the pattern over the symbols, where every atom is a class of a few symbols. The tokens are then
cut from the text at the symbols' positions. (Written out as code-point ranges instead, a class such as
``\\w`` is some 11,000 characters of RE2, and ``\\w\\w+`` already runs RE2's DFA out of memory on SMS
messages, falling back to a slow matcher and logging a line per text.)

What RE2 cannot do as Python does (capturing groups, which change what findall returns; anchors and
lookarounds; backreferences; case-insensitive matching, whose case folding differs; a repeat of something
that can match nothing, which the two engines repeat differently; patterns that can match nothing at all)
is refused with its reason.
"""

from __future__ import annotations

import bisect
import functools
import re
import sys
from dataclasses import dataclass

import tensorflow as tf

from framework.export.string_features import SURROGATES, char_class, is_surrogate

try:  # Python's regex parser: re._parser since 3.11, sre_parse before
    from re import _constants as sre, _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

LAST = sys.maxunicode
FIRST_SYMBOL = 0xE000  # the private-use area: symbols are only ever matched by the translated pattern
MAX_SYMBOLS = 0xF8FF - FIRST_SYMBOL + 1
MATCH_END = "\x00"  # ends every token in the matched symbol text, which holds no NUL

Intervals = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive code-point ranges


class UntranslatablePattern(ValueError):
    """The pattern uses a construct that RE2 does not match as Python's ``re`` does."""


@dataclass(frozen=True)
class TokenPattern:
    """A pattern ready for ``findall``: ``symbols`` over code points (``starts[k]`` .. the next start are
    group ``groups[k]``), and ``re2``, the pattern over the groups' symbols."""

    re2: str
    starts: tuple[int, ...]
    groups: tuple[int, ...]


def _intervals(codes) -> Intervals:
    """Sorted code points as ranges."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return tuple(ranges)


def _complement(ranges: Intervals) -> Intervals:
    """Every other code point, but for the surrogates, which no UTF-8 text holds (nor Python's \\s or \\S)."""
    result, start = [], 0
    for low, high in _union(ranges + (SURROGATES,)):
        if low > start:
            result.append((start, low - 1))
        start = high + 1
    if start <= LAST:
        result.append((start, LAST))
    return tuple(result)


def _union(ranges) -> Intervals:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


@functools.cache
def _category(category: str) -> Intervals:
    """Code points that ``re`` matches with ``category`` (e.g. ``\\w``), read from this Python."""
    text = "".join(chr(code) for code in range(LAST + 1) if not is_surrogate(code))
    return _intervals(ord(char) for char in re.findall(category, text))


_CATEGORIES = {sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W", sre.CATEGORY_DIGIT: r"\d",
               sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s", sre.CATEGORY_NOT_SPACE: r"\S"}  # fmt: skip
_REFUSED = {
    sre.AT: "anchors (^, $, \\b, \\A, \\Z): RE2's differ from Python's",
    sre.ASSERT: "lookarounds, which RE2 has not",
    sre.ASSERT_NOT: "lookarounds, which RE2 has not",
    sre.GROUPREF: "backreferences, which RE2 has not",
    sre.GROUPREF_EXISTS: "conditional groups, which RE2 has not",
}
for _name in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT"):  # Python 3.11+
    if hasattr(sre, _name):
        _REFUSED[getattr(sre, _name)] = "atomic groups and possessive repeats, which RE2 has not"
_FLAGS_REFUSED = {sre.SRE_FLAG_IGNORECASE: "case-insensitive matching (RE2 folds case otherwise)",
                  sre.SRE_FLAG_ASCII: "the ASCII flag", sre.SRE_FLAG_LOCALE: "the LOCALE flag"}  # fmt: skip


def _class_atom(items) -> Intervals:
    """The code points a ``[...]`` class matches."""
    negate = bool(items) and items[0][0] is sre.NEGATE
    ranges: list[tuple[int, int]] = []
    for op, value in items[1:] if negate else items:
        if op is sre.LITERAL:
            ranges.append((value, value))
        elif op is sre.RANGE:
            ranges.append(value)
        elif op is sre.CATEGORY:
            ranges.extend(_category(_CATEGORIES[value]))
        else:
            raise UntranslatablePattern(f"the class item {op}")
    merged = _union(ranges)
    return _complement(merged) if negate else merged


def _repeat(parts: list, low: int, high, lazy: bool) -> list:
    if high is sre.MAXREPEAT:
        count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    else:
        count = "?" if (low, high) == (0, 1) else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
    return ["(?:", *parts, f"){count}{'?' if lazy else ''}"]


def _translate(items, flags: int) -> list:
    """The pattern as RE2 text with each character set left as an atom (Intervals) for ``_render``."""
    parts: list = []
    for op, value in items:
        if op in _REFUSED:
            raise UntranslatablePattern(_REFUSED[op])
        if op is sre.LITERAL:
            parts.append(((value, value),))
        elif op is sre.NOT_LITERAL:
            parts.append(_complement(((value, value),)))
        elif op is sre.ANY:
            parts.append(_complement(() if flags & sre.SRE_FLAG_DOTALL else ((10, 10),)))
        elif op is sre.IN:
            parts.append(_class_atom(value))
        elif op is sre.CATEGORY:
            parts.append(_category(_CATEGORIES[value]))
        elif op is sre.BRANCH:
            parts.append("(?:")
            for k, branch in enumerate(value[1]):
                parts.extend((["|"] if k else []) + _translate(branch, flags))
            parts.append(")")
        elif op is sre.SUBPATTERN:
            group, add_flags, del_flags, body = value
            if group is not None:
                raise UntranslatablePattern("capturing groups: findall would return the group, not the token; "
                                            "write (?:...) instead")  # fmt: skip
            _refuse_flags(add_flags)
            parts.extend(["(?:", *_translate(body, (flags | add_flags) & ~del_flags), ")"])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = value
            if (high is sre.MAXREPEAT or high > 1) and body.getwidth()[0] == 0:
                raise UntranslatablePattern("a repeat (*, + or {m,n}) of something that can match nothing, "
                                            "which Python and RE2 repeat differently")  # fmt: skip
            parts.extend(_repeat(_translate(body, flags), low, high, lazy=op is sre.MIN_REPEAT))
        else:
            raise UntranslatablePattern(f"the regex construct {op}")
    return parts


def _refuse_flags(flags: int) -> None:
    for flag, what in _FLAGS_REFUSED.items():
        if flags & flag:
            raise UntranslatablePattern(what)


def _contains(atom: Intervals, code: int) -> bool:
    k = bisect.bisect_right(atom, (code, LAST + 1)) - 1
    return k >= 0 and atom[k][0] <= code <= atom[k][1]


def _groups(atoms: list[Intervals]) -> tuple[tuple[int, ...], tuple[int, ...], dict[Intervals, tuple[int, ...]]]:
    """Cut the code points where any atom's membership changes; number the distinct memberships."""
    cuts = sorted({0} | {low for atom in atoms for low, _ in atom} | {high + 1 for atom in atoms for _, high in atom
                                                                     if high < LAST})  # fmt: skip
    numbers: dict[tuple[bool, ...], int] = {}
    starts, groups = [], []
    for cut in cuts:
        membership = tuple(_contains(atom, cut) for atom in atoms)
        group = numbers.setdefault(membership, len(numbers))
        if groups and groups[-1] == group:
            continue
        starts.append(cut)
        groups.append(group)
    if len(numbers) > MAX_SYMBOLS:
        raise UntranslatablePattern(f"it tells {len(numbers)} sets of characters apart (at most {MAX_SYMBOLS})")
    members = {atom: tuple(g for membership, g in numbers.items() if membership[k]) for k, atom in enumerate(atoms)}
    return tuple(starts), tuple(groups), members


def _render(parts: list, members: dict[Intervals, tuple[int, ...]]) -> str:
    text = []
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        elif not members[part]:
            raise UntranslatablePattern("a character class that matches no character")
        else:
            text.append(char_class(tuple(FIRST_SYMBOL + group for group in members[part])))
    return "".join(text)


def _searched(pattern: str) -> str:
    """What findall's regex_replace runs: the pattern's match, or one skipped symbol."""
    return f"({pattern})|(?s:.)"


@functools.cache
def compile_pattern(pattern: str) -> TokenPattern:
    """``pattern`` for ``findall``, matching what Python's ``re`` matches; UntranslatablePattern otherwise."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as err:
        raise UntranslatablePattern(f"not a valid regex ({err})") from None
    _refuse_flags(parsed.state.flags)
    if parsed.getwidth()[0] == 0:
        raise UntranslatablePattern("it can match an empty string, and findall then returns empty tokens")
    parts = _translate(list(parsed), parsed.state.flags)
    starts, groups, members = _groups(list(dict.fromkeys(part for part in parts if not isinstance(part, str))))
    translated = _render(parts, members)
    try:  # RE2 caps repeat counts (1,000) and a compiled program's size: found here, not when serving
        with tf.init_scope():
            tf.strings.regex_full_match(tf.constant([""]), _searched(translated))
    except tf.errors.InvalidArgumentError as err:
        found = re.search(r", error: (.*?) \[Op:", str(err.message))  # after the translated pattern
        raise UntranslatablePattern(f"RE2 cannot compile it ({found.group(1) if found else 'no reason given'})") \
            from None
    return TokenPattern(translated, starts, groups)


def findall(texts: tf.Tensor, pattern: TokenPattern) -> tf.RaggedTensor:
    """``re.findall`` for every text of ``texts`` [B] (valid UTF-8): [B, (tokens)].

    Over the symbol text, RE2 replaces each match by itself and MATCH_END, and each symbol where the pattern
    does not match by MATCH_END alone, as findall scans (both take the leftmost-first match). Split at
    MATCH_END, a piece is a token of its length in characters, or (empty) one character skipped."""
    codes = tf.strings.unicode_decode(texts, "UTF-8")  # [B, (characters)]
    group = tf.gather(tf.constant(pattern.groups, tf.int32),
                      tf.searchsorted(tf.constant(pattern.starts, tf.int32), codes.flat_values, side="right") - 1)
    symbols = tf.strings.unicode_encode(codes.with_flat_values(group + FIRST_SYMBOL), "UTF-8")
    marked = tf.strings.regex_replace(symbols, _searched(pattern.re2), f"\\1{MATCH_END}")
    pieces = tf.strings.split(marked, MATCH_END)  # every row has a last, empty piece: the text's end
    lengths = tf.cast(tf.strings.length(pieces.flat_values, unit="UTF8_CHAR"), tf.int64)
    consumed = tf.cumsum(tf.maximum(lengths, 1), exclusive=True)  # characters before each piece, all rows on
    rows = pieces.value_rowids()
    first = tf.gather(codes.row_splits, rows) + consumed - tf.gather(consumed, tf.gather(pieces.row_splits, rows))
    characters = tf.gather(codes.flat_values, tf.ragged.range(first, first + lengths))
    tokens = pieces.with_flat_values(tf.strings.unicode_encode(characters, "UTF-8"))
    return tf.ragged.boolean_mask(tokens, pieces.with_flat_values(lengths > 0))
