"""Tests for framework.evaluation.lm_eval: chunked scoring with carried state equals one full pass."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from framework.evaluation import lm_eval
from framework.models.language_model import LanguageModel

VOCAB = 17


@pytest.fixture(scope="module")
def model() -> LanguageModel:
    keras.utils.set_random_seed(2)
    return LanguageModel(VOCAB, embedding_dim=6, cell="lstm", units=10, num_layers=2, seed=2)


def _nll(model, stream: np.ndarray) -> np.ndarray:
    """-log p(stream[t + 1] | stream[: t + 1]) for every t, reading the whole stream in one call."""
    logits = np.asarray(model(stream[None, :-1]))[0].astype(np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(stream) - 1), stream[1:]]


def _brute_force(model, stream: np.ndarray) -> float:
    return float(np.mean(_nll(model, stream)))


def test_chunked_scoring_with_carried_state_equals_one_full_pass(model, monkeypatch):
    stream = np.random.default_rng(0).integers(1, VOCAB, size=300).astype("int32")
    expected = _brute_force(model, stream)
    for chunk in (7, 128, 1000):
        monkeypatch.setattr(lm_eval, "CHUNK", chunk)
        scores = lm_eval.score_stream(model, stream)
        assert scores["tokens"] == 299
        assert scores["loss"] == pytest.approx(expected, abs=1e-5)
        assert scores["perplexity"] == pytest.approx(math.exp(expected), rel=1e-5)


def test_rows_are_contiguous_texts_each_scored_from_a_fresh_state(model, monkeypatch):
    stream = np.random.default_rng(1).integers(1, VOCAB, size=250).astype("int32")
    monkeypatch.setattr(lm_eval, "ROW_TOKENS", 60)  # 249 targets -> 4 rows of 63, 63, 63, 60
    scores = lm_eval.score_stream(model, stream)
    per_row = [_nll(model, stream[start : start + 64]) for start in (0, 63, 126, 189)]
    assert scores["tokens"] == 249 == sum(len(row) for row in per_row)
    assert scores["loss"] == pytest.approx(float(np.mean(np.concatenate(per_row))), abs=1e-5)


def test_perplexity_metrics_are_named_by_split(model):
    stream = np.random.default_rng(2).integers(1, VOCAB, size=40).astype("int32")
    metrics = lm_eval.perplexity_metrics(model, stream, "dev")
    assert set(metrics) == {"dev/loss", "dev/perplexity", "dev/tokens", "dev/tokens_per_second"}
    assert math.isnan(lm_eval.score_stream(model, stream[:1])["loss"])


def test_a_loss_too_large_for_exp_is_an_infinite_perplexity(model, monkeypatch):
    """A diverged model: exp(800) overflows; the perplexity is infinite (never selected), not capped."""
    stream = np.random.default_rng(3).integers(1, VOCAB, size=40).astype("int32")
    monkeypatch.setattr(lm_eval, "token_log_likelihoods", lambda logits, targets: np.full(targets.shape, -800.0))
    scores = lm_eval.score_stream(model, stream)
    assert scores["loss"] == pytest.approx(800.0) and scores["perplexity"] == math.inf
