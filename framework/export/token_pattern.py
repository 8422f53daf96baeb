"""A classifier's ``data.token_pattern`` (a Python regex) as RE2, which TensorFlow's string ops speak,
and ``re.findall`` over a batch of texts built from those ops.

The pattern is not rewritten as text: Python's own parser reads it, and every piece is written out again
in RE2 syntax, the classes (``\\w``, ``\\d``, ``\\s``, ``[...]``) as explicit code-point ranges read from this
Python's ``re`` (RE2's ``\\w`` is ASCII, Python's Unicode). What RE2 cannot do as Python does (capturing
groups, which change what findall returns; anchors and lookarounds; backreferences; case-insensitive
matching, whose case folding differs; patterns that can match nothing) is refused with its reason.
"""

from __future__ import annotations

import functools
import re
import sys

import tensorflow as tf

from framework.export.string_features import char_class

try:  # Python's regex parser: re._parser since 3.11, sre_parse before
    from re import _constants as sre, _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

SEPARATOR = "\x00"  # ends every token in the marked text; a text that holds one is refused by the server
_SURROGATES = (0xD800, 0xDFFF)  # no UTF-8 text holds one, and RE2 takes no such code point


class UntranslatablePattern(ValueError):
    """The pattern uses a construct that RE2 does not match as Python's ``re`` does."""


@functools.cache
def _category_codes(category: str) -> tuple[int, ...]:
    """Code points that ``re`` matches with ``category`` (e.g. ``\\w``), read from this Python."""
    text = "".join(chr(code) for code in range(sys.maxunicode + 1) if not _SURROGATES[0] <= code <= _SURROGATES[1])
    return tuple(ord(char) for char in re.findall(category, text))


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


def _ranges_of(codes: set[int]) -> tuple[int, ...]:
    return tuple(sorted(code for code in codes if not _SURROGATES[0] <= code <= _SURROGATES[1]))


def _class_codes(items) -> set[int]:
    """The code points a ``[...]`` class matches."""
    negate = bool(items) and items[0][0] is sre.NEGATE
    codes: set[int] = set()
    for op, value in items[1:] if negate else items:
        if op is sre.LITERAL:
            codes.add(value)
        elif op is sre.RANGE:
            codes.update(range(value[0], value[1] + 1))
        elif op is sre.CATEGORY:
            codes.update(_category_codes(_CATEGORIES[value]))
        else:
            raise UntranslatablePattern(f"the class item {op}")
    if negate:
        codes = set(range(sys.maxunicode + 1)) - codes
    return codes


def _code_class(codes: set[int]) -> str:
    ranges = _ranges_of(codes)
    if not ranges:
        raise UntranslatablePattern("a character class that matches no character")
    return char_class(ranges)


def _repeat(body: str, low: int, high, lazy: bool) -> str:
    if high is sre.MAXREPEAT:
        count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    else:
        count = "?" if (low, high) == (0, 1) else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
    return f"(?:{body}){count}{'?' if lazy else ''}"


def _translate(items, flags: int) -> str:
    parts = []
    for op, value in items:
        if op in _REFUSED:
            raise UntranslatablePattern(_REFUSED[op])
        if op is sre.LITERAL:
            parts.append(f"\\x{{{value:x}}}")
        elif op is sre.NOT_LITERAL:
            parts.append(_code_class(set(range(sys.maxunicode + 1)) - {value}))
        elif op is sre.ANY:
            parts.append("(?s:.)" if flags & sre.SRE_FLAG_DOTALL else "[^\\n]")
        elif op is sre.IN:
            parts.append(_code_class(_class_codes(value)))
        elif op is sre.CATEGORY:
            parts.append(_code_class(set(_category_codes(_CATEGORIES[value]))))
        elif op is sre.BRANCH:
            parts.append("(?:" + "|".join(_translate(branch, flags) for branch in value[1]) + ")")
        elif op is sre.SUBPATTERN:
            group, add_flags, del_flags, body = value
            if group is not None:
                raise UntranslatablePattern("capturing groups: findall would return the group, not the token; "
                                            "write (?:...) instead")  # fmt: skip
            _refuse_flags(add_flags)
            parts.append("(?:" + _translate(body, (flags | add_flags) & ~del_flags) + ")")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = value
            parts.append(_repeat(_translate(body, flags), low, high, lazy=op is sre.MIN_REPEAT))
        else:
            raise UntranslatablePattern(f"the regex construct {op}")
    return "".join(parts)


def _refuse_flags(flags: int) -> None:
    for flag, what in _FLAGS_REFUSED.items():
        if flags & flag:
            raise UntranslatablePattern(what)


@functools.cache
def re2_pattern(pattern: str) -> str:
    """``pattern`` in RE2 syntax, matching what Python's ``re`` matches; UntranslatablePattern otherwise."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as err:
        raise UntranslatablePattern(f"not a valid regex ({err})") from None
    _refuse_flags(parsed.state.flags)
    if parsed.getwidth()[0] == 0:
        raise UntranslatablePattern("it can match an empty string, and findall then returns empty tokens")
    translated = _translate(list(parsed), parsed.state.flags)
    try:  # RE2 caps repeat counts (1,000) and a compiled program's size: found here, not when serving
        with tf.init_scope():
            tf.strings.regex_full_match(tf.constant([""]), translated)
    except tf.errors.InvalidArgumentError as err:
        found = re.search(r", error: (.*?) \[Op:", str(err.message))  # after the (long) translated pattern
        reason = found.group(1) if found else "no reason given"
        raise UntranslatablePattern(f"RE2 cannot compile it ({reason})") from None
    return translated


def findall(texts: tf.Tensor, pattern: str) -> tf.RaggedTensor:
    """``re.findall(pattern, text)`` for every text of ``texts`` [B] (``pattern`` in RE2, from
    ``re2_pattern``): [B, (tokens)]. Where the pattern matches, its match is kept and ends with the
    separator; where not, one character is skipped, as findall scans (both take the leftmost-first match)."""
    marked = tf.strings.regex_replace(texts, f"({pattern})|(?s:.)", f"\\1{SEPARATOR}")
    pieces = tf.strings.split(marked, SEPARATOR)
    return tf.ragged.boolean_mask(pieces, tf.strings.length(pieces) > 0)
