"""The exported tagger's TensorFlow string ops against the Python encoding they replace, on every
code point and on tricky words: any difference would tag a served token differently from predict.py."""

from __future__ import annotations

import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from framework.data.vocab import CASING, Vocabulary, casing_class  # noqa: E402
from framework.export import string_features  # noqa: E402
from framework.export.string_features import casing_ids, char_class, char_ids, lookup_table, lowercase  # noqa: E402

# Planes 0 and 1; beyond them no character is cased or a digit (checked below). NUL is left out:
# TensorFlow's lowercasing drops it (no reader of ours yields a token holding one).
EVERY_CHARACTER = [chr(code) for code in range(1, 0x20000) if not 0xD800 <= code <= 0xDFFF]
WORDS = ["The", "cat", "DOG", "McDonald", "3.5", "1,000", "12a", "a1", "A1", "x²", "²³", "١٢٣", "Ⅻ", "ǅungla",
         "İstanbul", "ΟΔΟΣ", "ΣΑΣ", "Σ", "STRASSE", "ß", "Ａｂ", "😀", "a-B", "-", "HTTP://x.org", "iPhone",
         "ǈ", "ǈA", "aǈ", "ŉ", "ꟁ", "Ꟁ", "U.S.", "mid-1990s", "JÌ", "Į̃", "I\u0307"]  # fmt: skip
LOCALE_CHECK = """
import sys
import tensorflow as tf
from framework.export.string_features import lowercase
words = sys.argv[1:]
print(all(low.decode("utf-8") == w.lower() for w, low in zip(words, lowercase(tf.constant(words)).numpy())))
"""


def test_no_character_beyond_plane_1_has_case_or_is_a_digit():
    beyond = (chr(code) for code in range(0x20000, sys.maxunicode + 1))
    assert not [c for c in beyond if c.isdigit() or c.islower() or c.isupper() or c.istitle() or c.lower() != c]


def test_casing_classes_match_pythons_for_every_character_and_tricky_words():
    words = EVERY_CHARACTER + WORDS
    got = casing_ids(tf.constant([words, ["x"] * len(words)])).numpy()[0]
    expected = np.array([CASING.id(casing_class(word)) for word in words])
    differ = [(word, CASING.tokens[g]) for word, g, e in zip(words, got, expected) if g != e]
    assert not differ, differ[:10]


def test_an_empty_token_is_padding():
    assert casing_ids(tf.constant([["Word", ""]])).numpy().tolist() == [[CASING.id("title"), 0]]


def test_lowercase_matches_str_lower_for_every_character_and_tricky_words():
    words = EVERY_CHARACTER + WORDS + ["".join(WORDS)]
    lowered = lowercase(tf.constant(words)).numpy()
    differ = [word for word, low in zip(words, lowered) if low.decode("utf-8") != word.lower()]
    assert not differ, [hex(ord(w[0])) for w in differ[:10]]


def test_final_sigma_follows_str_lower_beside_every_character():
    """Whether Σ ends a word (ς) depends on its neighbours, cased or case-ignorable, by Python's Unicode tables;
    ICU, deciding by older ones, wrote σ after Ⱟ and ς before U+0890. Every character of planes 0 and 1 and every
    deciding one beyond, before and after a Σ, and words of several."""
    starts, kinds = string_features.sigma_context()
    beyond = [chr(code) for start, end, kind in zip(starts, starts[1:] + (sys.maxunicode + 1,), kinds)
              if kind != string_features.NEITHER for code in range(max(start, 0x20000), end)]  # fmt: skip
    texts = [text for char in EVERY_CHARACTER + beyond for text in string_features.sigma_contexts(char)]
    texts += ["ΟΔΟΣ", "ΣΑΣ", "ΣΣ", "ΣA", "A'Σ'", "AΣ.", "ΟΔΟΣ ΚΑΙ ΣΥ", "x Σ y", "AΣ\u0890A", "ⰯΣ", "Σ\u0345\u0345A"]
    lowered = lowercase(tf.constant(texts)).numpy()
    differ = [text for text, low in zip(texts, lowered) if low.decode("utf-8") != text.lower()]
    assert not differ, differ[:10]
    assert len(beyond) > 100  # variation selectors and tags: case-ignorable, beyond plane 1


@pytest.mark.parametrize("locale", ["tr_TR.UTF-8", "lt_LT.UTF-8"])
def test_lowercase_does_not_follow_the_processs_locale(locale):
    """ICU lowercases by the process's locale (LANG): I to dotless ı in Turkish, a dot above added in
    Lithuanian; str.lower, which training used, has no locale, and neither may a served model."""
    import os
    import subprocess

    env = {**os.environ, "LANG": locale, "LC_ALL": locale, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", LOCALE_CHECK, *WORDS], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.stdout.strip().splitlines()[-1:] == ["True"], done.stderr[-2000:]


def test_without_its_fixes_lowercasing_would_differ_and_the_export_would_refuse(monkeypatch):
    """The export-time check (``mismatches``) sees what the fixes repair: it is not vacuous."""
    from framework.data.vocab import TaggerVocabs

    vocabs = TaggerVocabs(Vocabulary.build(["a"]), Vocabulary.build("a"), Vocabulary(("O",), specials=False),
                          lowercase=True)  # fmt: skip
    assert string_features.mismatches(vocabs) == []
    monkeypatch.setattr(string_features, "lowercase_fixes", lambda: ())
    assert "U+2C2F" in string_features.mismatches(vocabs)  # Ⱟ, newer than TensorFlow's ICU
    monkeypatch.undo()
    monkeypatch.setattr(string_features, "final_sigmas", lambda texts: texts)  # ICU decides Σ
    assert "U+0890" in string_features.mismatches(vocabs)  # ICU's tables have it neither cased nor ignorable


def test_lookup_and_characters_follow_the_vocabulary():
    words = Vocabulary.build(["the", "cat", "the"])
    table = lookup_table(words)
    ids = table.lookup(tf.constant(["the", "cat", "dog", "<pad>", "<unk>"])).numpy().tolist()
    assert ids == [words.id(w) for w in ("the", "cat", "dog", "<pad>", "<unk>")] == [2, 3, 1, 1, 1]
    chars = Vocabulary.build("thecat")
    got = char_ids(tf.constant([["cat", "theta"], ["é", ""]]), lookup_table(chars), max_length=4).numpy()
    assert got.shape == (2, 2, 4)
    assert got[0, 1].tolist() == [chars.id(c) for c in "thet"]  # cut at max_length, as encode() does
    assert got[1, 0].tolist() == [1, 0, 0, 0] and got[1, 1].tolist() == [0, 0, 0, 0]


def test_char_class_writes_ranges_that_match_exactly_the_code_points():
    pattern = char_class((0x41, 0x42, 0x43, 0x61, 0x1F600))
    assert pattern == "[\\x{41}-\\x{43}\\x{61}\\x{1f600}]"
    chars = ["A", "C", "D", "a", "b", "😀", "😁"]
    matched = tf.strings.regex_full_match(tf.constant(chars), pattern).numpy().tolist()
    assert matched == [True, True, False, True, False, True, False]
