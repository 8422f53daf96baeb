"""Tests for pooling over time and the text classifier: padding must never change a text's vector.

Sizes are tiny (batch 3, time 6, dim 4) so every case runs in well under a second on a CPU.
Padded positions are filled with large values on purpose: if any pooling read them, the
result would be far off, not just a rounding error away.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from framework.models.classifier import TextClassifier, probabilities
from framework.models.pooling import AttentionPooling, FinalState, SequencePooling, masked_max, masked_mean

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)

LENGTHS = (2, 6, 4)
T, D = 6, 4


def _padded_batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x [3, 6, 4] with garbage (+-50) in the padding, mask [3, 6] right-padded to LENGTHS."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(LENGTHS), T, D)).astype("float32")
    mask = np.arange(T)[None, :] < np.array(LENGTHS)[:, None]
    garbage = rng.choice([-50.0, 50.0], size=x.shape).astype("float32")
    return np.where(mask[..., None], x, garbage), mask


def test_masked_max_and_mean_ignore_padding():
    x, mask = _padded_batch()
    pooled_max = to_numpy(masked_max(ops.convert_to_tensor(x), ops.convert_to_tensor(mask)))
    pooled_mean = to_numpy(masked_mean(ops.convert_to_tensor(x), ops.convert_to_tensor(mask)))
    for row, length in enumerate(LENGTHS):
        np.testing.assert_allclose(pooled_max[row], x[row, :length].max(axis=0), rtol=1e-6)
        np.testing.assert_allclose(pooled_mean[row], x[row, :length].mean(axis=0), rtol=1e-5)


def test_masked_pooling_of_an_all_padding_row_is_zero():
    x = np.full((1, 3, 2), -7.0, dtype="float32")
    mask = np.zeros((1, 3), dtype=bool)
    assert np.all(to_numpy(masked_max(x, mask)) == 0)
    assert np.all(to_numpy(masked_mean(x, mask)) == 0)


@pytest.mark.parametrize("mode", ["max", "mean", "attention"])
def test_sequence_pooling_equals_pooling_the_unpadded_sequence(mode):
    x, mask = _padded_batch(seed=1)
    layer = SequencePooling(mode, attention_units=5)
    batch = to_numpy(layer(x, mask=mask))
    assert batch.shape == (len(LENGTHS), D)
    for row, length in enumerate(LENGTHS):
        alone = to_numpy(layer(x[row : row + 1, :length]))
        np.testing.assert_allclose(batch[row], alone[0], rtol=1e-5, atol=1e-6)


def test_attention_weights_are_a_distribution_over_real_steps():
    x, mask = _padded_batch(seed=2)
    layer = AttentionPooling(3)
    weights = to_numpy(layer.weights_over_time(ops.convert_to_tensor(x), ops.convert_to_tensor(mask)))
    assert np.all(weights[~mask] == 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_last_state_of_a_right_padded_batch_equals_the_unpadded_sequence(cell, bidirectional):
    """The final state is read at each text's last real token (and, backwards, its first)."""
    keras.utils.set_random_seed(3)
    x, mask = _padded_batch(seed=3)
    layer = FinalState(cell=cell, units=5, bidirectional=bidirectional, dropout=0.0)
    batch = to_numpy(layer(x, mask=mask))
    assert batch.shape == (len(LENGTHS), 5 * (2 if bidirectional else 1))
    for row, length in enumerate(LENGTHS):
        alone = to_numpy(layer(x[row : row + 1, :length]))
        np.testing.assert_allclose(batch[row], alone[0], rtol=1e-5, atol=1e-6)


def test_last_state_is_not_the_output_at_the_padded_end():
    """Guards the test above: without the mask, the padding garbage does change the state."""
    keras.utils.set_random_seed(4)
    x, mask = _padded_batch(seed=4)
    layer = FinalState(cell="lstm", units=5, bidirectional=False, dropout=0.0)
    masked = to_numpy(layer(x, mask=mask))
    unmasked = to_numpy(layer(x))
    assert not np.allclose(masked[0], unmasked[0], atol=1e-3)


def _classifier(pooling: str, **overrides) -> TextClassifier:
    encoder = {"name": "encoder", "cell": "lstm", "units": 6, "num_layers": 2, "bidirectional": True,
               "dropout": 0.0, "use_cudnn": "auto", "rnn_arguments": {}}  # fmt: skip
    settings = {"num_words": 30, "num_labels": 3, "word_dim": 5, "encoder": encoder, "pooling": pooling,
                "attention_units": 4, "embedding_dropout": 0.0, "dropout": 0.0, "seed": 0, **overrides}  # fmt: skip
    return TextClassifier(**settings)


WORDS = np.array([[5, 6, 0, 0, 0], [7, 8, 9, 10, 11], [12, 13, 14, 0, 0]], dtype="int32")


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
def test_classifier_logits_do_not_depend_on_padding(pooling):
    keras.utils.set_random_seed(5)
    model = _classifier(pooling)
    batch = to_numpy(model(WORDS))
    assert batch.shape == (3, 3)
    for row in range(len(WORDS)):
        length = int(np.count_nonzero(WORDS[row]))
        alone = to_numpy(model(WORDS[row : row + 1, :length]))
        np.testing.assert_allclose(batch[row], alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "attention"])
def test_classifier_round_trips_through_get_config_and_keras_file(pooling, tmp_path):
    keras.utils.set_random_seed(6)
    model = _classifier(pooling, hidden_units=7)
    expected = to_numpy(model(WORDS))
    clone = TextClassifier.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(to_numpy(reloaded(WORDS)), expected, rtol=1e-6)


def test_layers_round_trip_their_config():
    for layer in (SequencePooling("attention", 3), AttentionPooling(9), FinalState("gru", 4, True, 0.2)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_single_layer_last_pooling_has_no_separate_stack():
    model = _classifier("last", encoder={"name": "encoder", "cell": "gru", "units": 4, "num_layers": 1,
                                         "bidirectional": False, "dropout": 0.0})  # fmt: skip
    assert model.encoder is None and isinstance(model.pooling, FinalState)
    assert to_numpy(model(WORDS)).shape == (3, 3)


def test_sigmoid_head_gives_one_logit_and_two_column_probabilities():
    model = _classifier("mean", num_labels=2, output="sigmoid")
    logits = to_numpy(model(WORDS))
    assert logits.shape == (3, 1)
    probs = probabilities(logits, "sigmoid")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[:, 1], 1 / (1 + np.exp(-logits[:, 0])), rtol=1e-6)


def test_sigmoid_head_refuses_more_than_two_labels():
    from framework.errors import ConfigError

    with pytest.raises(ConfigError, match="exactly 2 labels"):
        _classifier("max", num_labels=3, output="sigmoid")
