"""sacrebleu scoring: the corpus scores and signatures, statistics-based BLEU and bootstrap intervals."""

from __future__ import annotations

import pytest
from sacrebleu.metrics import BLEU

from framework.evaluation.translation_metrics import (bleu_from_statistics, bootstrap_bleu, corpus_scores,
                                                      sentence_statistics)  # fmt: skip

REFS = ["The cat sat on the mat.", "A dog runs in the park.", "Two men play football.", "It rains today.",
        "She reads a long book.", "We eat bread and cheese."] * 5  # fmt: skip
GOOD = ["The cat sat on the mat.", "A dog runs in a park.", "Two men play soccer.", "It rains today.",
        "She reads a book.", "We eat bread and cheese."] * 5  # fmt: skip


def test_corpus_scores_are_sacrebleu_with_signatures():
    scores = corpus_scores(GOOD, REFS, "test")
    assert scores["test/bleu"] == pytest.approx(BLEU().corpus_score(GOOD, [REFS]).score)
    assert scores["test/bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert scores["test/chrf_signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no")
    assert "tok:tercom" in scores["test/ter_signature"]
    perfect = corpus_scores(REFS, REFS, "x")
    assert perfect["x/bleu"] == pytest.approx(100.0) and perfect["x/ter"] == 0.0 and perfect["x/length_ratio"] == 1.0
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        corpus_scores(["a", "b"], ["a"], "x")


def test_statistics_reproduce_corpus_bleu_and_the_interval_brackets_it():
    stats = sentence_statistics(GOOD, REFS)
    assert stats.shape == (30, 10)
    assert bleu_from_statistics(stats) == pytest.approx(BLEU().corpus_score(GOOD, [REFS]).score)
    low, high = bootstrap_bleu(GOOD, REFS, samples=300, seed=1)
    assert low <= corpus_scores(GOOD, REFS, "x")["x/bleu"] <= high and high - low < 40
    assert (low, high) == bootstrap_bleu(GOOD, REFS, samples=300, seed=1)



def test_a_low_score_is_inside_its_interval_and_resamples_are_smoothed_like_it():
    """No matching 3-gram: unsmoothed, a resample scored 0 where sacrebleu's BLEU (smooth exp) is
    30.2, and the interval of a low-scoring system could exclude its own score."""
    stats = sentence_statistics(["the dog is here now"], ["the dog sleeps here now"])
    assert bleu_from_statistics(stats) == pytest.approx(BLEU().corpus_score(["the dog is here now"],
                                                                            [["the dog sleeps here now"]]).score)
    assert bleu_from_statistics(stats) > 30
    hyps = ["a man is walking down the street today"] + ["the dog is here now"] * 19
    refs = ["a man is walking down the street"] + ["a cat sleeps on the sofa"] * 19
    low, high = bootstrap_bleu(hyps, refs, samples=300, seed=0)
    assert low <= corpus_scores(hyps, refs, "x")["x/bleu"] <= high
