"""Luong's general score q · (W k), computed with the query projected instead of the keys."""

import numpy as np
import pytest
from keras import ops

from framework.models.attention import Attention


@pytest.mark.parametrize("targets", [1, 4])
def test_general_scores_are_the_query_against_the_projected_keys(targets):
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, targets, 3)).astype("float32")
    keys = rng.normal(size=(2, 5, 6)).astype("float32")
    attention = Attention("general", query_dim=3)
    scores = ops.convert_to_numpy(attention.scores(query, keys))
    kernel = attention.key_projection.get_weights()[0]  # [Dk, Dq]: the Dense that projects keys
    expected = np.einsum("btq,bsq->bts", query, keys @ kernel)
    assert scores.shape == (2, targets, 5)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    mask = np.array([[True] * 5, [True, True, False, False, False]])
    weights = ops.convert_to_numpy(attention(query, keys, mask)[1])
    assert np.allclose(weights[1, :, 2:], 0.0) and np.allclose(weights.sum(-1), 1.0)


@pytest.mark.parametrize("kind", ["dot", "general", "additive"])
def test_keys_projected_once_score_like_keys_projected_per_call(kind):
    # Decoding projects the source's keys once (project_keys) and scores every output token against
    # them; the scores must be those the layer computes from the keys alone.
    rng = np.random.default_rng(1)
    query = rng.normal(size=(2, 1, 6)).astype("float32")
    keys = rng.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    attention = Attention(kind, query_dim=6, units=4)
    context, weights = (ops.convert_to_numpy(x) for x in attention(query, keys, mask))
    projected = attention.project_keys(keys)
    assert (projected is None) == (kind != "additive")
    if projected is not None:
        assert tuple(projected.shape) == (2, 5, 4)
    kept = attention(query, keys, mask, projected_keys=projected)
    context_kept, weights_kept = (ops.convert_to_numpy(x) for x in kept)
    np.testing.assert_allclose(weights_kept, weights, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(context_kept, context, rtol=1e-6, atol=1e-7)
