"""Span scoring of tagger output in the input files' scheme."""

import pytest

from framework.evaluation.tagger_eval import conlleval_ready, score_tagging


def test_iobes_spans_are_scored_as_their_chunks_not_as_conlleval_reads_raw_iobes():
    # Two one-token PER chunks predicted as one two-token chunk: no chunk is right. Raw conlleval
    # has no rule for S- and would read both sides as a single PER chunk (F1 1.0).
    gold = [["S-PER", "S-PER", "O"]]
    pred = [["B-PER", "E-PER", "O"]]
    scores = score_tagging(gold, pred, "ner", "test", bootstrap=20, scheme="iobes").metrics
    assert scores["test/precision"] == 0.0 and scores["test/recall"] == 0.0 and scores["test/f1"] == 0.0
    assert scores["test/f1_ci_high"] == 0.0
    assert scores["test/accuracy"] == pytest.approx(1 / 3)


def test_iobes_and_iob2_score_the_same_chunks_alike():
    iob2_gold, iob2_pred = [["B-LOC", "I-LOC", "O", "B-PER"]], [["B-LOC", "I-LOC", "O", "B-ORG"]]
    iobes_gold, iobes_pred = [["B-LOC", "E-LOC", "O", "S-PER"]], [["B-LOC", "E-LOC", "O", "S-ORG"]]
    as_iob2 = score_tagging(iob2_gold, iob2_pred, "ner", "dev", bootstrap=0, scheme="iob2").metrics
    as_iobes = score_tagging(iobes_gold, iobes_pred, "ner", "dev", bootstrap=0, scheme="iobes").metrics
    for key in ("dev/precision", "dev/recall", "dev/f1", "dev/macro_f1", "dev/f1/LOC", "dev/f1/PER"):
        assert as_iobes[key] == as_iob2[key], key
    assert as_iob2["dev/f1"] == pytest.approx(0.5)


def test_conlleval_ready_leaves_other_schemes_alone():
    gold, pred = [["I-PER", "I-PER"]], [["B-PER", "I-PER"]]
    assert conlleval_ready(gold, pred, "iob1") == (gold, pred)
    assert conlleval_ready([["S-X", "B-Y", "E-Y"]], [["O", "O", "O"]], "iobes") == (
        [["B-X", "B-Y", "I-Y"]], [["O", "O", "O"]])
