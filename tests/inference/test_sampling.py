"""Tests for framework.inference.sampling: filters keep exactly the right tokens, seeds reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from framework.inference.sampling import (
    SamplingSettings,
    filtered_probabilities,
    sample_tokens,
    softmax,
    top_k_filter,
    top_p_filter,
)

# probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 in a shuffled order
PROBS = np.array([0.0625, 0.25, 0.5, 0.0625, 0.125])
LOGITS = np.log(PROBS)


def _kept(filtered: np.ndarray) -> set[int]:
    return set(np.flatnonzero(np.isfinite(filtered)).tolist())


def test_top_k_keeps_the_k_largest():
    assert _kept(top_k_filter(LOGITS, 1)) == {2}
    assert _kept(top_k_filter(LOGITS, 3)) == {1, 2, 4}
    assert _kept(top_k_filter(LOGITS, 0)) == set(range(5))  # 0 = off
    assert _kept(top_k_filter(LOGITS, 9)) == set(range(5))


def test_top_k_works_per_row():
    rows = np.stack([LOGITS, LOGITS[::-1]])
    filtered = top_k_filter(rows, 2)
    assert _kept(filtered[0]) == {1, 2} and _kept(filtered[1]) == {2, 3}


@pytest.mark.parametrize(
    "p, expected",
    [(0.5, {2}), (0.51, {1, 2}), (0.75, {1, 2}), (0.8, {1, 2, 4}), (0.875, {1, 2, 4}), (1.0, {0, 1, 2, 3, 4})],
)
def test_top_p_keeps_the_smallest_set_reaching_p(p, expected):
    assert _kept(top_p_filter(LOGITS, p)) == expected


def test_top_p_always_keeps_the_most_likely_token():
    assert _kept(top_p_filter(LOGITS, 1e-9)) == {2}


def test_filtered_probabilities_renormalise_over_the_kept_tokens():
    probs = filtered_probabilities(LOGITS, SamplingSettings(temperature=1.0, top_k=2))
    np.testing.assert_allclose(probs, [0, 1 / 3, 2 / 3, 0, 0])
    probs = filtered_probabilities(LOGITS, SamplingSettings(temperature=1.0, top_p=0.8))
    np.testing.assert_allclose(probs, [0, 0.25 / 0.875, 0.5 / 0.875, 0, 0.125 / 0.875])


def test_temperature_sharpens_and_flattens():
    cold = filtered_probabilities(LOGITS, SamplingSettings(temperature=0.5))
    hot = filtered_probabilities(LOGITS, SamplingSettings(temperature=2.0))
    np.testing.assert_allclose(cold, softmax(LOGITS * 2))
    assert cold[2] > PROBS[2] > hot[2]


def test_temperature_zero_is_greedy_and_the_limit_of_small_temperatures():
    rows = np.random.default_rng(0).normal(size=(6, 30))
    greedy = sample_tokens(rows, SamplingSettings(temperature=0.0), [np.random.default_rng(i) for i in range(6)])
    np.testing.assert_array_equal(greedy, rows.argmax(axis=-1))
    tiny = sample_tokens(rows, SamplingSettings(temperature=1e-6), [np.random.default_rng(i) for i in range(6)])
    np.testing.assert_array_equal(tiny, greedy)


def test_sampling_is_reproducible_per_seed_and_follows_the_distribution():
    settings = SamplingSettings(temperature=1.0)

    def draw(seed):
        rng = np.random.default_rng(seed)
        return np.array([sample_tokens(LOGITS[None], settings, [rng])[0] for _ in range(4000)])

    first, again, other = draw(7), draw(7), draw(8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_allclose(np.bincount(first, minlength=5) / len(first), PROBS, atol=0.03)


def test_filtered_tokens_are_never_sampled():
    settings = SamplingSettings(temperature=1.5, top_k=3, top_p=0.7)
    rngs = [np.random.default_rng(i) for i in range(500)]
    tokens = sample_tokens(np.tile(LOGITS, (500, 1)), settings, rngs)
    assert set(tokens.tolist()) <= {1, 2}  # top-k {1,2,4}, then at temperature 1.5 top-p 0.7 drops 4


def test_row_generators_must_match_rows():
    with pytest.raises(ValueError, match="generators"):
        sample_tokens(np.zeros((2, 4)), SamplingSettings(), [np.random.default_rng(0)])


@pytest.mark.parametrize("kwargs", [{"temperature": -1.0}, {"top_k": -1}, {"top_p": 0.0}, {"top_p": 1.5}])
def test_invalid_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        SamplingSettings(**kwargs)
