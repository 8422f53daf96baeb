"""The tagger model: padding never changes a sentence's output, it saves and reloads, both heads decode."""

import keras
import numpy as np
import pytest

from framework.models import char_features
from framework.models.char_features import CharBiLSTM, CharCNN
from framework.models.rnn_stack import RecurrentStack
from framework.models.tagger import SequenceTagger

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)


def _tagger(head="crf", char_kind="cnn", cell="lstm"):
    encoder = RecurrentStack(cell=cell, units=8, num_layers=2, bidirectional=True, dropout=0.0, name="encoder")
    return SequenceTagger(num_words=30, num_chars=20, num_tags=5, word_dim=8, char_kind=char_kind, char_dim=4,
                          char_units=6, encoder=encoder.get_config(), embedding_dropout=0.0, head=head, seed=1)


def _batch(rng, lengths, width=6):
    words = np.zeros((len(lengths), max(lengths)), "int32")
    chars = np.zeros((len(lengths), max(lengths), width), "int32")
    for row, n in enumerate(lengths):
        words[row, :n] = rng.integers(1, 30, n)
        for t in range(n):
            k = rng.integers(1, width + 1)
            chars[row, t, :k] = rng.integers(1, 20, k)
    return {"words": words, "chars": chars}


@pytest.mark.parametrize("head,char_kind,cell", [("crf", "cnn", "lstm"), ("softmax", "bilstm", "gru"),
                                                 ("crf", "none", "gru")])
def test_padding_does_not_change_outputs(head, char_kind, cell):
    atol = 1e-5  # on a PyTorch GPU the unpadded rows run cuDNN, the padded ones the generic loop (tests/conftest.py)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = _tagger(head, char_kind, cell)
    batch = _batch(rng, [5, 3, 7])
    padded = {"words": np.pad(batch["words"], ((0, 0), (0, 4))),
              "chars": np.pad(batch["chars"], ((0, 0), (0, 4), (0, 3)))}
    logits = to_numpy(model(batch))
    logits_padded = to_numpy(model(padded))
    for row, n in enumerate([5, 3, 7]):
        np.testing.assert_allclose(logits[row, :n], logits_padded[row, :n], atol=atol)
        alone = {"words": batch["words"][row:row + 1, :n], "chars": batch["chars"][row:row + 1, :n]}
        np.testing.assert_allclose(to_numpy(model(alone))[0], logits[row, :n], atol=atol)
    tags = to_numpy(model.predict_on_batch(padded))
    assert tags.shape == padded["words"].shape
    assert (tags[padded["words"] == 0] == 0).all()


def test_save_and_reload_gives_identical_decoding(tmp_path):
    keras.utils.set_random_seed(0)
    model = _tagger("crf", "bilstm")
    batch = _batch(np.random.default_rng(1), [4, 6])
    before = to_numpy(model.predict_on_batch(batch))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(to_numpy(again.predict_on_batch(batch)), before)
    assert again.get_config()["head"] == "crf"


def test_predict_decodes_with_the_weights_of_the_moment():
    """predict_on_batch decodes with the current weights, the CRF's too: after a weight change the
    compiled predict step (traced once; under JAX a stateless step given the weights) gives what
    decoding the model's own logits gives, and not what it gave before."""
    keras.utils.set_random_seed(0)
    model = _tagger("crf", "none")
    batch = _batch(np.random.default_rng(2), [5, 3, 6])
    mask = batch["words"] != 0
    before = to_numpy(model.predict_on_batch(batch))
    rng = np.random.default_rng(3)
    for weight in (model.crf.transitions, model.crf.start_transitions, model.crf.end_transitions):
        weight.assign(rng.normal(0.0, 5.0, weight.shape).astype("float32"))  # transitions now outweigh emissions
    expected = to_numpy(model.decode(model(batch, training=False), keras.ops.convert_to_tensor(mask)))
    after = to_numpy(model.predict_on_batch(batch))
    np.testing.assert_array_equal(after, expected)
    assert (after != before).any()


def test_word_dropout_only_in_training():
    keras.utils.set_random_seed(0)
    encoder = RecurrentStack(cell="lstm", units=4, num_layers=1, dropout=0.0, name="encoder")
    model = SequenceTagger(num_words=30, num_chars=20, num_tags=3, word_dim=4, char_kind="none",
                           encoder=encoder.get_config(), embedding_dropout=0.0, word_dropout=0.9, head="softmax")
    batch = _batch(np.random.default_rng(2), [6, 6])
    np.testing.assert_allclose(to_numpy(model(batch)), to_numpy(model(batch)))
    assert not np.allclose(to_numpy(model(batch, training=True)), to_numpy(model(batch)))


@pytest.mark.parametrize("layer", [CharCNN(20, 4, 6, 3), CharBiLSTM(20, 4, 3)])
def test_char_features_shape_and_padded_words(layer):
    chars = np.array([[[3, 4, 0], [0, 0, 0]]], "int32")  # one real word, one padded word
    out = to_numpy(layer(chars))
    assert out.shape == (1, 2, layer.compute_output_shape((1, 2, 3))[-1])
    assert np.isfinite(out).all()


def _repeated_words():
    """Two sentences of four positions: words 'ab', 'cde' and 'ab' again, then padding."""
    chars = np.zeros((2, 4, 3), "int32")
    chars[0, 0, :2] = chars[0, 2, :2] = chars[1, 1, :2] = [3, 4]
    chars[0, 1] = chars[1, 0] = [5, 6, 7]
    return chars


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX runs the character BiLSTM per token")
def test_char_bilstm_runs_once_per_distinct_word_with_the_per_token_features(monkeypatch):
    layer = CharBiLSTM(20, 4, 3)
    chars = _repeated_words()
    monkeypatch.setattr(char_features, "DISTINCT_WORDS", False)
    per_token = to_numpy(layer(chars))
    rows = []
    original = layer.rnn.call
    monkeypatch.setattr(layer.rnn, "call", lambda x, **kwargs: rows.append(x.shape[0]) or original(x, **kwargs))
    monkeypatch.setattr(char_features, "DISTINCT_WORDS", True)
    np.testing.assert_allclose(to_numpy(layer(chars)), per_token, atol=1e-6)
    assert rows == [3]  # 'ab', 'cde' and the padded position, not all 8 positions


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.GradientTape")
def test_char_bilstm_per_distinct_word_has_the_per_token_gradients(monkeypatch):
    import tensorflow as tf

    layer = CharBiLSTM(20, 4, 3)
    chars = tf.constant(_repeated_words())
    weights = tf.constant(np.random.default_rng(0).standard_normal((2, 4, 6)), tf.float32)

    def gradients(distinct):
        monkeypatch.setattr(char_features, "DISTINCT_WORDS", distinct)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(chars) * weights)
        return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, layer.trainable_variables)]

    for shared, alone in zip(gradients(True), gradients(False), strict=True):
        np.testing.assert_allclose(shared, alone, atol=1e-6)


def test_feature_embeddings_feed_the_encoder_and_ignore_padding():
    keras.utils.set_random_seed(0)
    encoder = RecurrentStack(cell="lstm", units=8, num_layers=1, bidirectional=True, dropout=0.0, name="encoder")
    model = SequenceTagger(num_words=30, num_chars=20, num_tags=5, word_dim=8, char_kind="none",
                           encoder=encoder.get_config(), embedding_dropout=0.0, head="crf", seed=1,
                           feature_sizes=[7, 9], feature_dim=3)  # fmt: skip
    rng = np.random.default_rng(0)
    batch = _batch(rng, [5, 3])
    features = np.zeros((2, 5, 2), "int32")
    features[0, :5] = rng.integers(1, 7, (5, 2))
    features[1, :3] = rng.integers(1, 7, (3, 2))
    batch["features"] = features
    logits = to_numpy(model(batch))
    other = dict(batch, features=np.where(features > 0, 1 + features % 6, 0))
    assert not np.allclose(to_numpy(model(other))[0], logits[0]), "the features change the emissions"
    padded = {key: np.pad(value, [(0, 0), (0, 2)] + [(0, 0)] * (value.ndim - 2)) for key, value in batch.items()}
    np.testing.assert_allclose(to_numpy(model(padded))[:, :5], logits, atol=1e-5)
    assert model.get_config()["feature_sizes"] == [7, 9]
