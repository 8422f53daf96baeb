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
