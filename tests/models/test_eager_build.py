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
    return SequenceTagger(num_words=30, num_chars=20, num_tags=5, word_dim=8, char_kind="cnn", char_dim=4,
                          char_units=6, encoder=encoder.get_config(), embedding_dropout=0.0, head="crf", seed=1)  # fmt: skip


def test_a_loaded_tagger_is_built_on_real_ids(tmp_path, no_shape_only_build):
    rng = np.random.default_rng(0)
    batch = {"words": rng.integers(1, 30, (2, 5)).astype("int32"), "chars": rng.integers(1, 20, (2, 5, 4)).astype("int32")}
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
