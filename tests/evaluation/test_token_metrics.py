"""Tests of token-level metrics and the sentence bootstrap, with hand-computed values."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from framework.evaluation.conlleval import evaluate
from framework.evaluation.token_metrics import (
    accuracy_bootstrap,
    bootstrap_interval,
    confusion_matrix,
    per_label_scores,
    span_f1_bootstrap,
    token_accuracy,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Tokens: DT->DT ok, NN->VB wrong, VB->VB ok | NN->NN ok, NN->JJ wrong.
GOLD = [["DT", "NN", "VB"], ["NN", "NN"]]
PRED = [["DT", "VB", "VB"], ["NN", "JJ"]]


def test_token_accuracy():
    assert token_accuracy(GOLD, PRED) == pytest.approx(3 / 5)
    assert token_accuracy(GOLD, GOLD) == 1.0
    assert token_accuracy([], []) == 0.0
    with pytest.raises(ValueError):
        token_accuracy(GOLD, [["DT", "VB", "VB"], ["NN"]])


def test_per_label_scores():
    scores = per_label_scores(GOLD, PRED)
    assert list(scores) == ["DT", "JJ", "NN", "VB"]
    # DT: 1 gold, 1 predicted, 1 correct.
    assert scores["DT"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    # NN: 3 gold, predicted once (correctly): P 1, R 1/3, F1 = 2 * 1/3 / (4/3) = 1/2.
    assert scores["NN"]["precision"] == 1.0
    assert scores["NN"]["recall"] == pytest.approx(1 / 3)
    assert scores["NN"]["f1"] == pytest.approx(0.5)
    assert (scores["NN"]["support"], scores["NN"]["predicted"]) == (3, 1)
    # VB: 1 gold, predicted twice, 1 correct: P 1/2, R 1, F1 2/3.
    assert scores["VB"]["precision"] == 0.5 and scores["VB"]["recall"] == 1.0
    assert scores["VB"]["f1"] == pytest.approx(2 / 3)
    # JJ: only predicted -> everything 0, support 0.
    assert scores["JJ"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 1}


def test_confusion_matrix_default_order():
    labels, matrix = confusion_matrix(GOLD, PRED)
    # Gold frequency NN 3, DT 1, VB 1 (tie by name), JJ 0 (only predicted).
    assert labels == ["NN", "DT", "VB", "JJ"]
    assert matrix.dtype == np.int64
    assert matrix.tolist() == [
        [1, 0, 1, 1],  # NN -> NN, VB, JJ once each
        [0, 1, 0, 0],  # DT -> DT
        [0, 0, 1, 0],  # VB -> VB
        [0, 0, 0, 0],  # JJ never gold
    ]
    assert matrix.sum() == 5


def test_confusion_matrix_explicit_labels_drop_the_rest():
    labels, matrix = confusion_matrix(GOLD, PRED, labels=["VB", "NN"])
    # Only (NN,VB), (VB,VB), (NN,NN) have both labels listed; DT and JJ tokens are dropped.
    assert labels == ["VB", "NN"]
    assert matrix.tolist() == [[1, 0], [1, 1]]
    with pytest.raises(ValueError, match="distinct"):
        confusion_matrix(GOLD, PRED, labels=["NN", "NN"])


def make_corpus(num_sentences: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """A small random NER corpus with about 30% of the predicted tags changed."""
    rng = np.random.default_rng(seed)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    gold, pred = [], []
    for _ in range(num_sentences):
        sentence = [tags[i] for i in rng.integers(0, len(tags), size=rng.integers(1, 9))]
        noisy = [tags[rng.integers(0, len(tags))] if rng.random() < 0.3 else t for t in sentence]
        gold.append(sentence)
        pred.append(noisy)
    return gold, pred


def test_fast_bootstraps_equal_the_generic_one():
    # Same seed -> same resamples, so counting and re-scoring must give the same interval.
    gold, pred = make_corpus(60, seed=1)
    generic = bootstrap_interval(gold, pred, lambda g, p: evaluate(g, p).f1, n=40, seed=5)
    assert span_f1_bootstrap(gold, pred, n=40, seed=5) == pytest.approx(generic, abs=1e-12)
    generic_acc = bootstrap_interval(gold, pred, token_accuracy, n=40, seed=5)
    assert accuracy_bootstrap(gold, pred, n=40, seed=5) == pytest.approx(generic_acc, abs=1e-12)


def test_bootstrap_interval_properties():
    gold, pred = make_corpus(200, seed=2)
    point = evaluate(gold, pred).f1
    low, high = span_f1_bootstrap(gold, pred, n=300, seed=0)
    assert low < point < high
    assert span_f1_bootstrap(gold, pred, n=300, seed=0) == (low, high)
    assert span_f1_bootstrap(gold, pred, n=300, seed=1) != (low, high)
    inner_low, inner_high = span_f1_bootstrap(gold, pred, n=300, seed=0, alpha=0.5)
    assert low <= inner_low < inner_high <= high
    assert accuracy_bootstrap(gold, gold, n=50) == (1.0, 1.0)
    assert span_f1_bootstrap(gold, gold, n=50) == (1.0, 1.0)


def test_bootstrap_rejects_bad_arguments():
    gold, pred = make_corpus(5, seed=3)
    with pytest.raises(ValueError, match="empty"):
        span_f1_bootstrap([], [])
    with pytest.raises(ValueError, match="n must"):
        accuracy_bootstrap(gold, pred, n=0)
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_interval(gold, pred, token_accuracy, n=5, alpha=1.0)
    with pytest.raises(ValueError):
        span_f1_bootstrap(gold, pred[:-1])


@pytest.mark.skipif(not DATA.exists(), reason="shared CoNLL data not available")
def test_span_f1_bootstrap_is_fast_on_conll2003_testb():
    gold, current = [], []
    for line in (DATA / "conll2003" / "eng.testb").read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line.split()[3])
        elif current:
            gold.append(current)
            current = []
    if current:
        gold.append(current)
    assert len(gold) == 3453
    # Every 5th entity tag dropped to O: F1 falls, so the interval has a real width.
    pred = [[t if (i + j) % 5 else "O" for j, t in enumerate(s)] for i, s in enumerate(gold)]
    point = evaluate(gold, pred).f1
    start = time.perf_counter()
    low, high = span_f1_bootstrap(gold, pred, n=1000, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0
    assert low < point < high
    assert 0.0 < high - low < 0.05
