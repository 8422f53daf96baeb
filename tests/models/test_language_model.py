"""Tests for the language model and its stateful generator (framework.models.language_model,
framework.inference.generation): one step with carried states equals re-reading the prefix."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from framework.config import RNNConfig
from framework.data.text_corpus import WordTokenizer, build_lm_vocab
from framework.errors import ConfigError
from framework.inference.generation import banned_ids, generate, with_prompt_as_typed
from framework.inference.sampling import SamplingSettings
from framework.models.language_model import LanguageModel, build_language_model

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)

VOCAB = 23


def _model(cell: str, tie: bool = False, layers: int = 2) -> LanguageModel:
    keras.utils.set_random_seed(3)
    return LanguageModel(VOCAB, embedding_dim=8, cell=cell, units=12, num_layers=layers, tie_embeddings=tie, seed=3)


def _prefix(batch: int = 3, length: int = 9) -> np.ndarray:
    return np.random.default_rng(1).integers(1, VOCAB, size=(batch, length)).astype("int32")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("tie", [False, True])
def test_one_step_generator_matches_reading_the_whole_prefix(cell, tie):
    model, ids = _model(cell, tie), _prefix()
    full = to_numpy(model(ids))  # [B, T, V]: next-token logits after every prefix
    states, stepped = None, []
    for t in range(ids.shape[1]):
        logits, states = model.step(ids[:, t], states)
        stepped.append(to_numpy(logits))
    np.testing.assert_allclose(np.stack(stepped, axis=1), full, atol=1e-5)
    assert len(states) == 2 and len(states[0]) == (2 if cell == "lstm" else 1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_prompt_run_then_steps_matches_the_full_sequence(cell):
    model, ids = _model(cell), _prefix(2, 10)
    logits, states = model.run(ids[:, :6])  # the prompt, read once
    for t in range(6, 10):
        step_logits, states = model.step(ids[:, t], states)
        expected = to_numpy(model(ids[:, : t + 1]))[:, -1]
        np.testing.assert_allclose(to_numpy(step_logits), expected, atol=1e-5)


def test_next_token_distribution_matches_after_generation():
    """The distribution the generator samples from equals the full-prefix softmax."""
    vocab = _vocab()
    model = _vocab_model(vocab, "lstm")
    sample = generate(model, vocab, "the woods", 6, SamplingSettings(temperature=0.0), [0])[0]
    context = vocab.encode_prompt("the woods") + list(sample.token_ids)
    full = to_numpy(model(np.asarray([context], dtype="int32")))[0]
    for position, token in enumerate(sample.token_ids):
        logits = full[len(vocab.encode_prompt("the woods")) - 1 + position].astype(np.float64)
        logits[banned_ids(vocab)] = -np.inf
        assert token == int(np.argmax(logits))  # greedy = argmax of the full-prefix distribution


def _vocab():
    data = SimpleNamespace(tokenizer="word", lowercase=True, split_punctuation=True, min_freq=1, max_vocab=None)
    vocab = build_lm_vocab(data, ["the woods are lovely dark and deep", "but i have promises to keep",
                                  "and miles to go before i sleep"])  # fmt: skip
    assert isinstance(vocab.tokenizer, WordTokenizer) and len(vocab) <= VOCAB
    return vocab


def _vocab_model(vocab, cell: str = "gru") -> LanguageModel:
    keras.utils.set_random_seed(5)
    return LanguageModel(len(vocab), embedding_dim=8, cell=cell, units=12, num_layers=2, seed=5)


def test_generation_is_deterministic_per_seed_and_differs_across_seeds():
    vocab = _vocab()
    model = _vocab_model(vocab)
    settings = SamplingSettings(temperature=1.5)
    first = generate(model, vocab, "", 30, settings, [11, 12])
    again = generate(model, vocab, "", 30, settings, [11])
    assert first[0].token_ids == again[0].token_ids and first[0].text == again[0].text
    assert first[0].token_ids != first[1].token_ids
    assert len(first[0].token_ids) == 30
    assert not set(first[0].token_ids) & set(banned_ids(vocab))  # never padding or <unk>


def test_temperature_to_zero_equals_greedy():
    vocab = _vocab()
    model = _vocab_model(vocab)
    greedy = generate(model, vocab, "and miles", 12, SamplingSettings(temperature=0.0), [0, 1])
    cold = generate(model, vocab, "and miles", 12, SamplingSettings(temperature=1e-6), [5, 6])
    assert greedy[0].token_ids == greedy[1].token_ids == cold[0].token_ids == cold[1].token_ids
    assert greedy[0].text.startswith("and miles")


def test_the_prompt_is_shown_as_typed_not_as_the_vocabulary_saw_it():
    vocab = _vocab()  # lowercasing word vocabulary: "Zanzibar" is <unk> to it
    model = _vocab_model(vocab)
    sample = generate(model, vocab, "And Zanzibar <&> ", 6, SamplingSettings(temperature=0.0), [0])[0]
    context = vocab.encode_prompt("And Zanzibar <&> ")[1:]
    shown, decoded = vocab.decode_ids(context), vocab.decode_ids(context + list(sample.token_ids))
    assert "<unk>" in shown and decoded.startswith(shown)  # what the model saw
    assert sample.text == "And Zanzibar <&>" + decoded[len(shown):]  # what the user sees


@pytest.mark.parametrize("prompt, shown, decoded, expected", [
    ("The Woods", "the woods", "the woods are dark", "The Woods are dark"),  # words: joined by a space
    ("the wo", "the wo", "the woods", "the woods"),  # characters: no space inserted
    ("a b", "x y", "z w", "z w"),  # not a prefix (cannot happen): the decoded text as it is
])
def test_with_prompt_as_typed(prompt, shown, decoded, expected):
    assert with_prompt_as_typed(prompt, shown, decoded) == expected


def test_save_and_reload_give_the_same_logits(tmp_path):
    for tie in (False, True):
        model, ids = _model("lstm", tie), _prefix()
        model.compile(optimizer="adam")
        model.fit(ids, ids, epochs=1, verbose=0)
        model.save(tmp_path / "lm.keras")
        loaded = keras.models.load_model(tmp_path / "lm.keras")
        np.testing.assert_allclose(to_numpy(loaded(ids)), to_numpy(model(ids)), atol=1e-6)
        assert loaded.get_config()["tie_embeddings"] is tie


def test_padding_targets_do_not_count_in_the_loss():
    model, ids = _model("gru"), _prefix(2, 6)
    targets = np.roll(ids, -1, axis=1)
    padded = targets.copy()
    padded[:, -2:] = 0
    logits = model(ids)
    loss_all = float(model.compute_loss(ids, targets, logits))
    loss_padded = float(model.compute_loss(ids, padded, logits))
    manual = float(np.mean(to_numpy(keras.losses.sparse_categorical_crossentropy(targets[:, :-2], logits[:, :-2],
                                                                        from_logits=True))))  # fmt: skip
    assert abs(loss_padded - manual) < 1e-5 and loss_all != loss_padded


def _config(**rnn) -> SimpleNamespace:
    settings = {"bidirectional": False, **rnn}
    return SimpleNamespace(
        embedding=SimpleNamespace(dim=8, dropout=0.1), rnn=RNNConfig(**settings), tie_embeddings=False,
        output_dropout=0.1,
    )  # fmt: skip


def test_build_refuses_bidirectional_and_non_cudnn_settings():
    with pytest.raises(ConfigError, match="bidirectional"):
        build_language_model(_config(bidirectional=True), VOCAB)
    with pytest.raises(ConfigError, match="cuDNN"):
        build_language_model(_config(recurrent_dropout=0.2), VOCAB)
    model = build_language_model(_config(cell="gru", units=6, layers=3), VOCAB)
    assert [layer.name for layer in model.rnns] == ["gru_0", "gru_1", "gru_2"]
