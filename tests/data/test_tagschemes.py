"""Tests for framework.data.tagschemes: hand-written cases, exhaustive properties, real corpora."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from framework.data.readers import read_columns, read_conllu
from framework.data.tagschemes import (
    SCHEMES,
    allowed_transitions,
    convert,
    detect_scheme,
    spans,
    tag_error,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="real corpora not present")


@functools.lru_cache(maxsize=None)
def _tags(relative: str, tag_column: int = -1, scheme: str = "none") -> tuple[tuple[str, ...], ...]:
    """Tag sequences of a real corpus file, read once per test session."""
    return tuple(sentence.tags for sentence in read_columns(DATA / relative, tag_column=tag_column, scheme=scheme))


# --- tag_error -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "scheme"),
    [("O", "iob1"), ("B-PER", "iob1"), ("I-PER", "iob2"), ("E-PER", "iobes"), ("S-PER", "iobes"),
     ("B-creative-work", "iob2"), ("NN", "none"), ("-LRB-", "none"), ("B-", "none")],
)
def test_tag_error_accepts_valid_tags(tag, scheme):
    assert tag_error(tag, scheme) is None


@pytest.mark.parametrize(
    ("tag", "scheme", "message"),
    [
        ("X-PER", "iob2", "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'X-PER'"),
        ("E-PER", "iob1", "expected an IOB1 tag (O, B-TYPE or I-TYPE), found 'E-PER'"),
        ("S-LOC", "iob2", "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'S-LOC'"),
        ("B-", "iob2", "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'B-'"),
        ("o", "iobes", "expected an IOBES tag (O, B-TYPE, I-TYPE, E-TYPE or S-TYPE), found 'o'"),
        ("BPER", "iobes", "expected an IOBES tag (O, B-TYPE, I-TYPE, E-TYPE or S-TYPE), found 'BPER'"),
        ("NN", "iob1", "expected an IOB1 tag (O, B-TYPE or I-TYPE), found 'NN'"),
        ("", "none", "expected a non-empty tag, found ''"),
    ],
)
def test_tag_error_explains_invalid_tags(tag, scheme, message):
    assert tag_error(tag, scheme) == message


def test_unknown_scheme_is_rejected_everywhere():
    for call in (lambda: tag_error("O", "bio"), lambda: convert(["O"], "iob2", "bilou"),
                 lambda: spans(["O"], "IOB2"), lambda: allowed_transitions(["O"], "bio")):
        with pytest.raises(ValueError, match="unknown tag scheme"):
            call()


# --- spans and convert on hand-written cases -----------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "scheme", "expected"),
    [
        ("I-PER I-PER B-PER O I-LOC I-ORG", "iob1", [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5), ("ORG", 5, 6)]),
        ("B-PER I-PER B-PER O B-LOC B-ORG", "iob2", [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5), ("ORG", 5, 6)]),
        # conlleval reading of ill-formed IOB2: I- after O / at start / after another type starts a chunk
        ("I-PER I-PER O I-LOC I-ORG", "iob2", [("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 5)]),
        ("B-PER E-PER S-PER O B-LOC I-LOC E-LOC", "iobes", [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 7)]),
        # ill-formed IOBES: E- ends a chunk, I- after E- or O starts one, an unclosed B- ends at O/end
        ("E-PER I-PER B-LOC O B-ORG I-ORG", "iobes", [("PER", 0, 1), ("PER", 1, 2), ("LOC", 2, 3), ("ORG", 4, 6)]),
        ("B-creative-work I-creative-work", "iob2", [("creative-work", 0, 2)]),
        ("O O", "iob2", []),
        ("", "iob1", []),
    ],
)
def test_spans_read_chunks_like_conlleval(tags, scheme, expected):
    assert spans(tags.split(), scheme) == expected


@pytest.mark.parametrize(
    ("tags", "source", "target", "expected"),
    [
        ("I-PER I-PER B-PER O I-LOC", "iob1", "iob2", "B-PER I-PER B-PER O B-LOC"),
        ("B-PER I-PER B-PER O B-LOC", "iob2", "iob1", "I-PER I-PER B-PER O I-LOC"),
        ("I-PER I-LOC I-LOC", "iob1", "iob2", "B-PER B-LOC I-LOC"),
        ("B-PER B-LOC I-LOC", "iob2", "iob1", "I-PER I-LOC I-LOC"),
        ("B-PER I-PER B-PER O B-LOC I-LOC I-LOC", "iob2", "iobes", "B-PER E-PER S-PER O B-LOC I-LOC E-LOC"),
        ("B-PER E-PER S-PER O B-LOC I-LOC E-LOC", "iobes", "iob2", "B-PER I-PER B-PER O B-LOC I-LOC I-LOC"),
        ("S-PER S-PER", "iobes", "iob1", "I-PER B-PER"),
        ("I-PER O I-PER I-LOC", "iob2", "iob2", "I-PER O I-PER I-LOC"),  # same scheme: identity
        ("I-PER O I-PER I-LOC", "iob2", "iobes", "S-PER O S-PER S-LOC"),
        ("O B-MISC I-MISC", "iob1", "iob1", "O B-MISC I-MISC"),
        ("O B-MISC I-MISC", "iob1", "iob2", "O B-MISC I-MISC"),
        ("B-PER O", "iobes", "iob2", "B-PER O"),
    ],
)
def test_convert_hand_written_cases(tags, source, target, expected):
    assert convert(tags.split(), source, target) == expected.split()


def test_convert_none_only_to_none():
    assert convert(["NN", "VB"], "none", "none") == ["NN", "VB"]
    for source, target in (("none", "iob2"), ("iobes", "none")):
        with pytest.raises(ValueError, match="'none' has no chunks"):
            convert(["O"], source, target)
    with pytest.raises(ValueError, match="has no chunks"):
        spans(["O"], "none")


def test_convert_rejects_tags_outside_the_source_scheme():
    with pytest.raises(ValueError, match=r"tag 1: expected an IOB2 tag .* found 'E-PER'"):
        convert(["B-PER", "E-PER"], "iob2", "iobes")
    with pytest.raises(ValueError, match="found 'S-PER'"):
        convert(["S-PER"], "iob1", "iob1")


# --- exhaustive properties over short sequences --------------------------------------------------

_TYPES = ("A", "B")


def _labels(scheme: str) -> list[str]:
    prefixes = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}[scheme]
    return ["O"] + [f"{prefix}-{kind}" for kind in _TYPES for prefix in prefixes]


def _sequences(scheme: str, max_length: int = 4):
    for length in range(1, max_length + 1):
        yield from itertools.product(_labels(scheme), repeat=length)


@pytest.mark.parametrize("source", ["iob1", "iob2", "iobes"])
def test_conversion_preserves_chunks_for_every_short_sequence(source):
    for tags in _sequences(source):
        chunks = spans(tags, source)
        for target in ("iob1", "iob2", "iobes"):
            converted = convert(tags, source, target)
            assert spans(converted, target) == chunks, (tags, target)
            back = convert(converted, target, source)
            if _well_formed(tags, source):  # lossless: well-formed input comes back unchanged
                assert back == list(tags), (tags, target)
            assert convert(back, source, target) == converted, (tags, target)  # canonical forms are stable


def _well_formed(tags: tuple[str, ...], scheme: str) -> bool:
    """A sequence is well-formed iff writing its chunks back in the same scheme reproduces it."""
    other = "iobes" if scheme != "iobes" else "iob2"
    return convert(convert(tags, scheme, other), other, scheme) == list(tags)


def _accepted(tags, index, masks) -> bool:
    transitions, start, end = masks
    ids = [index[tag] for tag in tags]
    return bool(start[ids[0]] and end[ids[-1]] and all(transitions[a, b] for a, b in zip(ids, ids[1:])))


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "iobes"])
def test_masks_accept_exactly_the_well_formed_sequences(scheme):
    labels = ["<pad>"] + _labels(scheme)
    index = {label: position for position, label in enumerate(labels)}
    masks = allowed_transitions(labels, scheme)
    accepted = 0
    for tags in _sequences(scheme):
        assert _accepted(tags, index, masks) == _well_formed(tags, scheme), tags
        accepted += _well_formed(tags, scheme)
    assert 0 < accepted < sum(1 for _ in _sequences(scheme))


# --- allowed_transitions on hand-written cases ---------------------------------------------------


def test_iob2_masks_forbid_inside_without_begin():
    labels = ["<pad>", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    transitions, start, end = allowed_transitions(labels, "iob2")
    at = labels.index
    assert not transitions[at("O"), at("I-PER")]
    assert not transitions[at("B-LOC"), at("I-PER")]
    assert transitions[at("B-PER"), at("I-PER")] and transitions[at("I-PER"), at("I-PER")]
    assert transitions[at("I-PER"), at("B-LOC")] and transitions[at("O"), at("B-PER")]
    assert start.tolist() == [True, True, True, False, True, False]
    assert end.all()
    assert transitions[at("<pad>"), :].all() and transitions[:, at("<pad>")].all()
    # IOB-shaped labels outside the scheme (S- in IOB2) are treated like <pad>: never constrained.
    transitions, start, end = allowed_transitions(["O", "S-PER", "I-PER"], "iob2")
    assert transitions[1].all() and transitions[:, 1].all() and start[1] and end[1]
    assert not transitions[0, 2] and not start[2]


def test_iobes_masks():
    labels = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "E-LOC", "<pad>"]
    transitions, start, end = allowed_transitions(labels, "iobes")
    at = labels.index
    assert transitions[at("B-PER")].tolist() == [False, False, True, True, False, False, False, True]
    assert transitions[at("I-PER")].tolist() == [False, False, True, True, False, False, False, True]
    for closed in ("O", "E-PER", "S-PER", "E-LOC"):
        assert transitions[at(closed)].tolist() == [True, True, False, False, True, True, False, True]
    assert start.tolist() == [True, True, False, False, True, True, False, True]
    assert end.tolist() == [True, False, False, True, True, False, True, True]
    assert transitions[at("<pad>")].all()


def test_iob1_masks_forbid_begin_without_same_type_before():
    labels = ["O", "B-PER", "I-PER", "I-LOC"]
    transitions, start, end = allowed_transitions(labels, "iob1")
    assert transitions[:, 1].tolist() == [False, True, True, False]
    assert transitions[:, [0, 2, 3]].all()
    assert start.tolist() == [True, False, True, True] and end.all()


def test_none_masks_allow_everything():
    for mask in allowed_transitions(["NN", "VB", "<pad>"], "none"):
        assert mask.dtype == np.bool_ and mask.all()
    transitions, start, end = allowed_transitions(["NN", "VB", "<pad>"], "none")
    assert transitions.shape == (3, 3) and start.shape == end.shape == (3,)


# --- detect_scheme -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequences", "expected"),
    [
        ([["B-PER", "I-PER", "O"], ["O", "B-LOC"]], "iob2"),
        ([["B-PER", "I-PER", "O"], ["O", "I-LOC"]], "iob1"),
        ([["I-PER", "B-PER"]], "iob1"),
        ([["B-PER", "I-LOC"]], "iob1"),
        ([["B-PER", "E-PER", "O"], ["I-LOC"]], "iobes"),
        ([["S-PER"]], "iobes"),
        ([["O", "O"]], "iob2"),
        ([["B-PER", "NN"]], "none"),
        ([["NOUN", "VERB"]], "none"),
        ([[], []], "none"),
        ([], "none"),
    ],
)
def test_detect_scheme_hand_written(sequences, expected):
    assert detect_scheme(iter(sequences)) == expected


def test_schemes_constant():
    assert SCHEMES == ("none", "iob1", "iob2", "iobes")


# --- real corpora --------------------------------------------------------------------------------


@needs_data
def test_conll2003_round_trips_and_entity_counts():
    gold = _tags("conll2003/eng.train", -1, "iob2")
    for target in ("iob1", "iobes"):
        assert all(convert(convert(tags, "iob2", target), target, "iob2") == list(tags) for tags in gold)
    counts = Counter(kind for tags in gold for kind, _, _ in spans(tags, "iob2"))
    assert counts == {"LOC": 7140, "PER": 6600, "ORG": 6321, "MISC": 3438}


@needs_data
def test_conll2003_original_iob1_round_trip_differs_only_at_two_ill_formed_b_tags():
    original = _tags("conll2003_original/eng.train", -1, "iob1")
    changed = [(tags, convert(convert(tags, "iob1", "iob2"), "iob2", "iob1")) for tags in original]
    changed = [(tags, back) for tags, back in changed if back != list(tags)]
    # The original eng.train has B-MISC after O twice ("the Atlanta Games", "for Urdu-speaking
    # Moslems"); canonical IOB1 writes those as I-MISC, every other sentence comes back unchanged.
    assert len(changed) == 2
    for tags, back in changed:
        diffs = [(a, b) for a, b in zip(tags, back) if a != b]
        assert diffs == [("B-MISC", "I-MISC")]


def _gold_violations(sequences, scheme: str) -> tuple[int, int]:
    """Count gold transitions/starts/ends the masks forbid, over labels sorted plus a pad label."""
    labels = ["<pad>"] + sorted({tag for tags in sequences for tag in tags})
    index = {label: position for position, label in enumerate(labels)}
    transitions, start, end = allowed_transitions(labels, scheme)
    violations = 0
    for tags in sequences:
        ids = [index[tag] for tag in tags]
        violations += (not start[ids[0]]) + (not end[ids[-1]])
        violations += sum(not transitions[a, b] for a, b in zip(ids, ids[1:]))
    return violations, int(transitions.sum())


@needs_data
def test_masks_allow_every_gold_sequence_of_the_corpora():
    ner = _tags("conll2003/eng.train", -1, "iob2")
    iobes = [convert(tags, "iob2", "iobes") for tags in ner]
    violations, allowed = _gold_violations(iobes, "iobes")
    assert violations == 0 and allowed < 18 * 18  # 17 IOBES labels + pad; many transitions forbidden
    assert _gold_violations(ner, "iob2")[0] == 0
    assert _gold_violations(_tags("conll2000/train.txt", -1, "iob2"), "iob2")[0] == 0
    assert _gold_violations(_tags("wnut17/wnut17train.conll", -1, "iob2"), "iob2")[0] == 0
    # The two ill-formed B-MISC of the original IOB1 file are the only forbidden transitions.
    assert _gold_violations(_tags("conll2003_original/eng.train", -1, "iob1"), "iob1")[0] == 2


@needs_data
def test_detect_scheme_on_real_corpora():
    assert detect_scheme(_tags("conll2003/eng.train", -1, "iob2")) == "iob2"
    assert detect_scheme(_tags("conll2003_original/eng.train", -1, "iob1")) == "iob1"
    assert detect_scheme(_tags("conll2003_original/eng.testb", 2, "iob1")) == "iob1"  # chunk column
    assert detect_scheme(_tags("wnut17/emerging.test.annotated", -1, "iob2")) == "iob2"
    assert detect_scheme(convert(tags, "iob2", "iobes") for tags in _tags("conll2000/test.txt", -1, "iob2")) == "iobes"
    ewt = read_conllu(DATA / "ud_en_ewt" / "en_ewt-ud-dev.conllu")
    assert detect_scheme(sentence.tags for sentence in ewt) == "none"
