"""On PyTorch, a loaded model is built by running it on real inputs (framework.models.eager_build),
never by Keras' shape-only build, whose meta-device embedding lookups trip a CUDA assert on a GPU."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from framework.models.language_model import LanguageModel
from framework.models.rnn_stack import RecurrentStack
from framework.models.tagger import SequenceTagger

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's meta-device build")


@pytest.fixture
def no_shape_only_build(monkeypatch):
    """Fail any shape-only build that runs while loading."""
    from keras.src import backend

    def refuse(*args, **kwargs):
        raise AssertionError("shape-only build on PyTorch")

    return lambda: monkeypatch.setattr(backend, "compute_output_spec", refuse)


def _tagger():
    encoder = RecurrentStack(cell="lstm", units=8, num_layers=1, bidirectional=True, dropout=0.0, name="encoder")
    return SequenceTagger(num_words=30, num_chars=20, num_tags=5, word_dim=8, char_kind="cnn", char_dim=4, char_units=6,
                          encoder=encoder.get_config(), embedding_dropout=0.0, head="crf", seed=1)  # fmt: skip


def test_a_loaded_tagger_is_built_on_real_ids(tmp_path, no_shape_only_build):
    rng = np.random.default_rng(0)
    words, chars = rng.integers(1, 30, (2, 5)).astype("int32"), rng.integers(1, 20, (2, 5, 4)).astype("int32")
    batch = {"words": words, "chars": chars}
    model = _tagger()
    before = keras.ops.convert_to_numpy(model(batch))
    model.save(tmp_path / "tagger.keras")
    no_shape_only_build()
    loaded = keras.models.load_model(tmp_path / "tagger.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(batch)), before, atol=1e-6)


def test_a_loaded_language_model_is_built_on_real_ids(tmp_path, no_shape_only_build):
    ids = np.random.default_rng(1).integers(1, 20, (3, 7)).astype("int32")
    model = LanguageModel(vocab_size=20, embedding_dim=6, cell="gru", units=8, num_layers=1, dropout=0.0)
    before = keras.ops.convert_to_numpy(model(ids))
    model.save(tmp_path / "lm.keras")
    no_shape_only_build()
    loaded = keras.models.load_model(tmp_path / "lm.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(ids)), before, atol=1e-6)


def _translator():
    from framework.models.bridge import Bridge
    from framework.models.decoder import RNNDecoder
    from framework.models.encoder import RNNEncoder
    from framework.models.seq2seq import Seq2Seq

    encoder = RNNEncoder(20, 6, "lstm", 8, 1, True, 0.0, name="encoder")
    bridge = Bridge("concat_dense", "lstm", 1, 1, True, 8, 8, name="bridge")
    decoder = RNNDecoder(20, 6, "lstm", 8, 1, 0.0, "general", 16, name="decoder")
    model = Seq2Seq(encoder.get_config(), bridge.get_config(), decoder.get_config())
    model.compile(optimizer="adam")
    return model


def _translation_batch():
    rng = np.random.default_rng(2)
    source, target = rng.integers(3, 20, (4, 5)).astype("int32"), rng.integers(3, 20, (4, 4)).astype("int32")
    return {"source": source, "target_in": target[:, :-1]}, target[:, 1:]


def test_the_first_training_step_builds_on_the_real_batch(no_shape_only_build):
    model = _translator()
    batch, targets = _translation_batch()
    no_shape_only_build()
    assert np.isfinite(float(model.train_on_batch(batch, targets)))


def test_fit_builds_on_its_first_batch(no_shape_only_build):
    model = _translator()
    batch, targets = _translation_batch()
    no_shape_only_build()
    history = model.fit(batch, targets, batch_size=2, epochs=1, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 1
