"""A classifier's token pattern translated to RE2 and run by TensorFlow against Python's ``re.findall``:
on every code point, on tricky texts and for every construct the translation takes; and what it refuses."""

from __future__ import annotations

import re
import sys

import pytest

tf = pytest.importorskip("tensorflow")

from framework.export.string_features import lowercase  # noqa: E402
from framework.export.token_pattern import UntranslatablePattern, compile_pattern, findall  # noqa: E402
from framework.schemas.classification import DEFAULT_TOKEN_PATTERN  # noqa: E402

TEXTS = [
    "Hello, world! It's 42 — naïve café's  x\ty\nz", "", "   ", "ΟΔΟΣ 日本語 ١٢٣ x_y __ a'b'c' 'q '' ",
    "WINNER!! Call 09061701461 to claim £900 :) 😀😀 ok?", "İstanbul'da STRASSE ß ǅungla Ⅻ ²³ ½",
    "abcabc ac ab aab\r\n\u00a0\u2003\u3000end", "can't won't o'clock rock'n'roll 'tis",
]  # fmt: skip
PATTERNS = [
    DEFAULT_TOKEN_PATTERN, r"\w+", r"\d+|[^\W\d]+", r"[a-z]{2,3}?", r"(?s).", r".", r"[^ ]+", r"\S+",
    r"(?:ab|a)c?", r"a+?", r"[\w'-]+", r"[^\w\s]", r"\D{2}", r"(?x) \w+  # verbose, with a comment", r"[£$]\d+",
    r"[\u00c0-\u024f]+", r"(?s:.)(?:\w)", r"[^a]", "\\\\|\\w", r"(?:\d{1,3}(?:,\d{3})+|\d+)",
    r"\w\w+", r"\w{2,20}", r"[^\W\d_]{1,40}|\d+", r"(?:[ab]c|a)+?c", r"a{1,2}(?:b|[ab]+)*", r"[]a-]+|[^]\s]",
    r"(?-s:.)+|\n", r"[\s\S]{3}", "\n+|[^\n]+",
]  # fmt: skip


def _tokens(ragged) -> list[list[str]]:
    return [[token.decode("utf-8") for token in row] for row in ragged.to_list()]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_findall_in_the_graph_is_pythons(pattern):
    assert _tokens(findall(tf.constant(TEXTS), compile_pattern(pattern))) == [re.findall(pattern, t) for t in TEXTS]


def test_the_default_pattern_on_every_code_point_alone_and_between_letters_lowercased():
    """The whole tokenizer of a default classifier: str.lower, then the pattern (NUL: the server refuses it)."""
    chars = [chr(code) for code in range(1, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
    texts = chars + [f"a{char}a" for char in chars[: 0x20000 - 0x800]]  # in context: planes 0 and 1
    got = _tokens(findall(lowercase(tf.constant(texts)), compile_pattern(DEFAULT_TOKEN_PATTERN)))
    wrong = [t for t, tokens in zip(texts, got) if tokens != re.findall(DEFAULT_TOKEN_PATTERN, t.lower())]
    assert wrong == []


def test_re2s_own_word_class_is_ascii():
    """Why the pattern is not passed to RE2 as it is: its \\w would cut 'café' short."""
    assert tf.strings.regex_replace("café", r"\w+", "<\\0>").numpy().decode() == "<caf>é"
    assert _tokens(findall(tf.constant(["café"]), compile_pattern(r"\w+"))) == [["café"]]


def test_texts_of_every_length_in_one_batch_and_long_ones():
    """Token positions are counted per text: rows of other lengths, empty rows and a long text in one batch."""
    texts = ["", "a", "x" * 5000 + " y'z " + "é" * 3000, "", "Ωμέγα, ω!", "   "]
    pattern = DEFAULT_TOKEN_PATTERN
    assert _tokens(findall(tf.constant(texts), compile_pattern(pattern))) == [re.findall(pattern, t) for t in texts]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(\w+)", "capturing groups"), (r"\w+|(x)", "capturing groups"), (r"\bx\w*", "anchors"),
        (r"^\w+", "anchors"), (r"x(?=y)", "lookarounds"), (r"(?<!x)y", "lookarounds"),
        (r"(?:a)(?P<b>b)(?P=b)", "capturing groups"), (r"(?i)hello", "case-insensitive"),
        (r"(?i:a)b", "case-insensitive"), (r"(?a)\w+", "ASCII"), (r"\w*", "empty string"), (r"a|", "empty string"),
        (r"a*+b", "atomic groups and possessive"), (r"(?>ab)", "atomic groups"), (r"[", "not a valid regex"),
        (r"\w{1001}", "RE2 cannot compile it"), (r"(?:|a?b)*b", "a repeat"), (r"(?:a?)+b", "a repeat"),
        (r"a(?:b*){2,3}", "a repeat"), (r"[^\s\S]", "matches no character"),
    ],
)  # fmt: skip
def test_what_re2_cannot_match_as_python_is_refused(pattern, reason):
    with pytest.raises(UntranslatablePattern, match=re.escape(reason)):
        compile_pattern(pattern)
