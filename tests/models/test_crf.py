"""Tests for the linear-chain CRF layer, checked against brute-force enumeration.

Sizes are tiny (L=3 tags, T=4 steps, so at most 3**4 = 81 sequences per sentence) so every
quantity can be computed exactly by enumerating all tag sequences in numpy.
"""

from __future__ import annotations

import itertools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from framework.models.crf import CRF

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)

L, T = 3, 4
LENGTHS = (1, 3, 4)


def _batch(seed: int = 1234):
    """Random potentials [3, 4, 3], mask [3, 4] (lengths 1, 3, 4), tags [3, 4] (-1 padded)."""
    rng = np.random.default_rng(seed)
    potentials = rng.normal(scale=1.5, size=(len(LENGTHS), T, L)).astype("float32")
    mask = np.arange(T)[None, :] < np.array(LENGTHS)[:, None]
    tags = np.where(mask, rng.integers(0, L, size=mask.shape), -1)
    return potentials, mask, tags


def _crf(seed: int = 7, **kwargs) -> CRF:
    """A CRF with random (non-zero) transitions, start and end scores."""
    rng = np.random.default_rng(seed)
    crf = CRF(L, **kwargs)
    crf.transitions.assign(rng.normal(size=(L, L)).astype("float32"))
    crf.start_transitions.assign(rng.normal(size=(L,)).astype("float32"))
    crf.end_transitions.assign(rng.normal(size=(L,)).astype("float32"))
    return crf


def _weights(crf: CRF):
    return (
        to_numpy(crf.transitions).astype("float64"),
        to_numpy(crf.start_transitions).astype("float64"),
        to_numpy(crf.end_transitions).astype("float64"),
    )


def _score(seq, potentials_row, transitions, start, end) -> float:
    """Brute-force score of one tag sequence (a tuple of length n) of one sentence."""
    total = start[seq[0]] + end[seq[-1]]
    total += sum(potentials_row[t, tag] for t, tag in enumerate(seq))
    total += sum(transitions[a, b] for a, b in zip(seq[:-1], seq[1:]))
    return float(total)


def _enumerate(potentials_row, length, weights, allowed=None):
    """All (sequence, score) pairs of one sentence, optionally only those ``allowed`` accepts."""
    seqs = itertools.product(range(L), repeat=length)
    return [(s, _score(s, potentials_row, *weights)) for s in seqs if allowed is None or allowed(s)]


def _logsumexp(values) -> float:
    values = to_numpy(values).astype("float64")
    top = values.max()
    return float(top + np.log(np.exp(values - top).sum()))


def _pad(seq) -> list[int]:
    return list(seq) + [0] * (T - len(seq))


def test_log_likelihood_matches_brute_force_for_every_sequence():
    potentials, mask, tags = _batch()
    crf = _crf()
    weights = _weights(crf)
    for b, length in enumerate(LENGTHS):
        pairs = _enumerate(potentials[b].astype("float64"), length, weights)
        log_z = _logsumexp([score for _, score in pairs])
        # Every sequence of this sentence in one batch; int mask exercises the cast.
        batch_tags = np.array([_pad(s) for s, _ in pairs])
        repeat = len(pairs)
        got = crf.log_likelihood(
            np.repeat(potentials[b : b + 1], repeat, 0),
            batch_tags,
            np.repeat(mask[b : b + 1].astype("int32"), repeat, 0),
        )
        got = to_numpy(got)
        assert got.dtype == np.float32
        # Gold score of each sequence minus the partition function.
        np.testing.assert_allclose(got, [score - log_z for _, score in pairs], atol=1e-4)
        # Normalisation: the probabilities of all sequences sum to one.
        assert _logsumexp(got) == pytest.approx(0.0, abs=1e-4)
    # The mixed-length batch at once, with -1 tags at padded positions.
    expected = []
    for b, length in enumerate(LENGTHS):
        pairs = _enumerate(potentials[b].astype("float64"), length, weights)
        gold = _score(tuple(tags[b, :length]), potentials[b], *weights)
        expected.append(gold - _logsumexp([score for _, score in pairs]))
    got = crf.log_likelihood(potentials, tags, mask)
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-4)
    nll = crf.negative_log_likelihood(potentials, tags, mask)
    np.testing.assert_allclose(to_numpy(nll), -to_numpy(expected), atol=1e-4)


def test_viterbi_matches_brute_force_argmax():
    potentials, mask, _ = _batch()
    crf = _crf()
    weights = _weights(crf)
    tags, scores = crf.viterbi_decode(potentials, mask)
    tags, scores = to_numpy(tags), to_numpy(scores)
    assert tags.dtype == np.int32 and tags.shape == (len(LENGTHS), T)
    for b, length in enumerate(LENGTHS):
        best_seq, best_score = max(_enumerate(potentials[b], length, weights), key=lambda p: p[1])
        assert tags[b].tolist() == _pad(best_seq)
        assert scores[b] == pytest.approx(best_score, abs=1e-4)
    assert (tags[~mask] == 0).all()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function and XLA traces")
def test_graph_mode_with_unknown_time_and_xla_match_eager():
    """A None time dimension under tf.function (as in fit) and XLA give the eager results."""
    potentials, mask, tags = _batch()
    crf = _crf()
    eager = (crf.log_likelihood(potentials, tags, mask), *crf.viterbi_decode(potentials, mask))
    signature = [
        tf.TensorSpec([None, None, L], tf.float32),
        tf.TensorSpec([None, None], tf.int64),
        tf.TensorSpec([None, None], tf.bool),
    ]

    def both(p, t, m):
        return (crf.log_likelihood(p, t, m), *crf.viterbi_decode(p, m))

    for fn in (tf.function(both, input_signature=signature), tf.function(both, jit_compile=True)):
        for got, want in zip(fn(potentials, tags, mask), eager):
            np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)
    # T == 1 (the loops run one no-op step rather than zero), against brute force.
    weights = _weights(crf)
    graph_ll, graph_dec, _ = tf.function(both, input_signature=signature)(
        potentials[:, :1], tags[:, :1], mask[:, :1]
    )
    for b in range(len(LENGTHS)):
        pairs = _enumerate(potentials[b], 1, weights)
        log_z = _logsumexp([score for _, score in pairs])
        assert float(graph_ll[b]) == pytest.approx(pairs[tags[b, 0]][1] - log_z, abs=1e-4)
        assert int(graph_dec[b, 0]) == max(pairs, key=lambda p: p[1])[0][0]


# Forbid 0 -> 2, 2 -> 2 and 1 -> 0, starting with 1, ending with 0.
ALLOWED_TRANSITIONS = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 0]], dtype=bool)
ALLOWED_START = np.array([1, 0, 1], dtype=bool)
ALLOWED_END = np.array([0, 1, 1], dtype=bool)


def _is_allowed(seq) -> bool:
    pairs_ok = all(ALLOWED_TRANSITIONS[a, b] for a, b in zip(seq[:-1], seq[1:]))
    return bool(ALLOWED_START[seq[0]] and ALLOWED_END[seq[-1]] and pairs_ok)


def _constrained_crf() -> CRF:
    """A constrained CRF whose raw weights favour exactly the forbidden moves."""
    crf = _crf(
        allowed_transitions=ALLOWED_TRANSITIONS,
        allowed_start=ALLOWED_START,
        allowed_end=ALLOWED_END.tolist(),  # nested lists are accepted too
    )
    crf.transitions.assign(to_numpy(crf.transitions) + 3.0 * ~ALLOWED_TRANSITIONS)
    crf.start_transitions.assign(to_numpy(crf.start_transitions) + 3.0 * ~ALLOWED_START)
    crf.end_transitions.assign(to_numpy(crf.end_transitions) + 3.0 * ~ALLOWED_END)
    return crf


def test_constraints_shape_viterbi_and_likelihood():
    potentials, mask, _ = _batch()
    crf = _constrained_crf()
    weights = _weights(crf)
    # Without the constraints, the same weights decode at least one forbidden sequence.
    free = CRF(L)
    free.set_weights(crf.get_weights())
    free_tags = to_numpy(free.viterbi_decode(potentials, mask)[0])
    assert not all(_is_allowed(tuple(free_tags[b, :n])) for b, n in enumerate(LENGTHS))

    tags = to_numpy(crf.viterbi_decode(potentials, mask)[0])
    gold = np.zeros_like(tags)
    expected = []
    for b, length in enumerate(LENGTHS):
        decoded = tuple(tags[b, :length])
        assert _is_allowed(decoded), decoded
        pairs = _enumerate(potentials[b], length, weights, _is_allowed)
        assert decoded == max(pairs, key=lambda p: p[1])[0]
        # Gold: the lowest-scoring allowed sequence, so it differs from the decoded one.
        seq, score = min(pairs, key=lambda p: p[1])
        gold[b] = _pad(seq)
        expected.append(score - _logsumexp([s for _, s in pairs]))
    got = to_numpy(crf.log_likelihood(potentials, gold, mask))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # A forbidden gold sequence gets (practically) zero probability: 0 -> 2 is forbidden.
    forbidden = to_numpy(crf.log_likelihood(potentials[2:], np.array([[0, 2, 1, 1]]), mask[2:]))
    assert forbidden[0] < -1e3


def test_constraint_shapes_are_checked():
    with pytest.raises(ValueError, match="allowed_transitions"):
        CRF(L, allowed_transitions=np.ones((L, L + 1), dtype=bool))
    with pytest.raises(ValueError, match="allowed_end"):
        CRF(L, allowed_end=[True] * (L + 1))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="gradients taken with tf.GradientTape")
def test_gradients_are_marginals_and_sgd_reduces_nll():
    potentials, mask, tags = _batch()
    crf = _crf()
    weights = _weights(crf)
    x = tf.Variable(potentials)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(crf.negative_log_likelihood(x, tags, mask))
    grads = tape.gradient(loss, [x, *crf.trainable_variables])
    assert all(g is not None and np.isfinite(to_numpy(g)).all() for g in grads)
    assert np.abs(to_numpy(grads[1])).sum() > 0  # transitions receive gradient
    # d NLL / d potentials[b, t, j] = p(y_t = j) - [gold_t = j]; 0 at padded positions.
    expected = np.zeros_like(potentials)
    for b, length in enumerate(LENGTHS):
        pairs = _enumerate(potentials[b], length, weights)
        probs = np.exp(np.array([s for _, s in pairs]) - _logsumexp([s for _, s in pairs]))
        for (seq, _), p in zip(pairs, probs):
            expected[b, np.arange(length), list(seq)] += p
        expected[b, np.arange(length), tags[b, :length]] -= 1.0
    np.testing.assert_allclose(to_numpy(grads[0]), expected, atol=1e-4)

    variables = [x, *crf.trainable_variables]
    losses = []
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(crf.negative_log_likelihood(x, tags, mask))
        for var, grad in zip(variables, tape.gradient(loss, variables)):
            var.assign_sub(0.5 * grad)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


@keras.saving.register_keras_serializable(package="rnnseq_test")
class _NLLTagger(keras.Model):
    """A functional tagger whose loss is the CRF's NLL; records whether it traced eagerly."""

    eager_flags: list[bool] = []

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        type(self).eager_flags.append(tf.executing_eagerly())
        mask = ops.not_equal(x, 0)
        return ops.mean(self.get_layer("crf").negative_log_likelihood(y_pred, y, mask))


def _tagger(model_class=keras.Model, **crf_kwargs):
    """Token ids [B, T] (0 = padding) -> embedding -> dense -> CRF -> potentials [B, T, L]."""
    tokens = keras.Input((None,), dtype="int32")
    hidden = keras.layers.Embedding(10, 8, mask_zero=True)(tokens)
    potentials = keras.layers.Dense(L)(hidden)
    return model_class(tokens, CRF(L, name="crf", **crf_kwargs)(potentials), name="tagger")


def _toy_data(n: int = 16, seed: int = 0):
    """Random sentences of lengths 1..T over tokens 1..9; the gold tag is token % L."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, size=n)
    mask = np.arange(T)[None, :] < lengths[:, None]
    tokens = np.where(mask, rng.integers(1, 10, size=(n, T)), 0).astype("int32")
    return tokens, (tokens % L).astype("int32")


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="checks TensorFlow's graph tracing")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_in_graph_mode_reduces_loss(jit_compile, without_op_determinism):
    """fit traces the NLL into a graph; with XLA too, as ``jit_compile="auto"`` does on GPU."""
    keras.utils.set_random_seed(0)
    tokens, tags = _toy_data()
    model = _tagger(_NLLTagger)
    model.compile(optimizer=keras.optimizers.Adam(0.05), run_eagerly=False, jit_compile=jit_compile)
    assert model.jit_compile is jit_compile
    _NLLTagger.eager_flags.clear()
    history = model.fit(tokens, tags, batch_size=8, epochs=2, verbose=0, shuffle=False)
    assert _NLLTagger.eager_flags and not any(_NLLTagger.eager_flags)  # traced, not eager
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[1] < losses[0]
    assert np.abs(to_numpy(model.get_layer("crf").transitions)).sum() > 0


def test_config_round_trip_and_keras_file_reload(tmp_path):
    crf = CRF(L, allowed_transitions=ALLOWED_TRANSITIONS, allowed_start=ALLOWED_START, name="c")
    config = json.loads(json.dumps(crf.get_config()))
    clone = CRF.from_config(config)
    assert clone.get_config() == crf.get_config()
    assert clone.allowed_transitions == ALLOWED_TRANSITIONS.tolist() and clone.allowed_end is None

    keras.utils.set_random_seed(1)
    model = _tagger(allowed_transitions=ALLOWED_TRANSITIONS, allowed_end=ALLOWED_END)
    rng = np.random.default_rng(3)
    for var in model.get_layer("crf").trainable_variables:
        var.assign(rng.normal(size=var.shape).astype("float32"))
    tokens, _ = _toy_data(8, seed=5)
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    mask = tokens != 0
    before = model.get_layer("crf").viterbi_decode(model.predict(tokens, verbose=0), mask)
    after = loaded.get_layer("crf").viterbi_decode(loaded.predict(tokens, verbose=0), mask)
    np.testing.assert_array_equal(to_numpy(after[0]), to_numpy(before[0]))
    np.testing.assert_allclose(to_numpy(after[1]), to_numpy(before[1]), atol=1e-6)
    assert loaded.get_layer("crf").get_config()["allowed_end"] == ALLOWED_END.tolist()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_potentials_match_float32(dtype):
    potentials, mask, tags = _batch()
    crf = _crf()
    low = ops.cast(potentials, dtype)
    rounded = to_numpy(ops.cast(low, "float32"))  # the same values, held in float32
    ll_low = crf.log_likelihood(low, tags, mask)
    assert keras.backend.standardize_dtype(ll_low.dtype) == "float32"
    ll_rounded = crf.log_likelihood(rounded, tags, mask)
    np.testing.assert_allclose(to_numpy(ll_low), to_numpy(ll_rounded), atol=1e-5)
    # Against the unrounded float32 potentials: only the input rounding differs.
    ll_exact = crf.log_likelihood(potentials, tags, mask)
    np.testing.assert_allclose(to_numpy(ll_low), to_numpy(ll_exact), atol=0.1)
    dec_low, best_low = crf.viterbi_decode(low, mask)
    dec32, best32 = crf.viterbi_decode(rounded, mask)
    np.testing.assert_array_equal(to_numpy(dec_low), to_numpy(dec32))
    assert keras.backend.standardize_dtype(best_low.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(best_low), to_numpy(best32), atol=1e-5)


class _LikelihoodInside(keras.layers.Layer):
    """A mixed-precision layer computing the CRF likelihood inside its own call (autocast on)."""

    def __init__(self, crf: CRF):
        super().__init__(dtype="mixed_float16")
        self.crf = crf

    def call(self, potentials, tags, mask):
        return self.crf.log_likelihood(potentials, tags, mask)


def test_mixed_precision_keeps_weights_and_likelihood_in_float32():
    potentials, mask, tags = _batch()
    crf = _crf()
    mixed = CRF(L, dtype="mixed_float16")
    mixed.set_weights(crf.get_weights())
    out = mixed(potentials, mask=mask)
    # call() is the identity, autocast to the compute dtype
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert mixed.transitions.dtype == "float32"
    rounded = to_numpy(ops.cast(out, "float32"))
    want = to_numpy(crf.log_likelihood(rounded, tags, mask))
    # Inside a float16 layer's call, the CRF weights must not be autocast to float16.
    got = _LikelihoodInside(mixed)(potentials, tags, mask)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(got), want, atol=1e-5)
