"""Tests for vocabularies, numpy batching and the tf.data training pipeline."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.batching import EncodedSentence, encode, pad_batch, padding_fraction, sorted_batches
from framework.data.pipeline import bucket_boundaries, measure_padding, training_dataset
from framework.data.readers import read_conllu
from framework.data.vocab import CASING, PAD, UNK, TaggerVocabs, Vocabulary, build_tagger_vocabs, casing_class

ROOT = Path(__file__).resolve().parents[2]
EWT_TRAIN = ROOT / "samples" / "ud_en_ewt" / "train.conllu"

WORDS = [["The", "cat", "sat"], ["the", "Dog", "sat", "down"], ["A", "cat"]]
TAGS = [["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB", "ADP"], ["DET", "NOUN"]]


def _vocabs(**overrides) -> TaggerVocabs:
    settings = {"lowercase": False, "min_freq": 1, "max_word_length": 24, **overrides}
    return build_tagger_vocabs(WORDS, TAGS, **settings)


# --- vocabularies -------------------------------------------------------------------------------


def test_vocabulary_specials_frequency_order_and_unknowns():
    vocab = Vocabulary.build(["b", "a", "c", "a", "b", "a", "d"], min_freq=2)
    assert vocab.tokens == (PAD, UNK, "a", "b")  # most frequent first, rare "c"/"d" dropped
    assert vocab.tokens[0] == PAD and vocab.id(UNK) == 1 and vocab.unk_id == 1
    assert vocab.id(PAD) == 1  # a literal "<pad>" in the input is a word, never the padding id
    assert vocab.id("c") == 1 and "c" not in vocab and "a" in vocab
    assert vocab.encode(["a", "zzz", "b"]) == [2, 1, 3]
    assert vocab.decode([3, 2, 0]) == ["b", "a", PAD]


def test_literal_specials_in_the_training_text_keep_the_special_ids():
    # PTB writes rare words as "<unk>"; a "<pad>" can occur in scraped text. Neither gets a second
    # entry, which would shadow the special (then "<unk>" in the input would not be id 1).
    vocab = Vocabulary.build(["<unk>", "<unk>", "a", "<pad>", "<pad>", "<pad>"])
    assert vocab.tokens == (PAD, UNK, "a")
    assert vocab.encode(["a", "<unk>", "<pad>", "b"]) == [2, 1, 1, 1]


def test_vocabulary_ties_break_by_text_and_max_size():
    vocab = Vocabulary.build(["z", "y", "x", "x"], max_size=2)
    assert vocab.tokens == (PAD, UNK, "x", "y")


def test_vocabulary_without_specials_has_no_unknown():
    tags = Vocabulary.build(["O", "B-X", "O"], specials=False)
    assert tags.tokens == ("O", "B-X")
    assert tags.id("O") == 0 and tags.unk_id == -1
    with pytest.raises(KeyError):
        tags.id("I-X")


def test_build_tagger_vocabs_lowercase_and_min_freq():
    vocabs = _vocabs(lowercase=True, min_freq=2)
    # "the" (twice once lowercased), "cat", "sat" (twice each; ties by text); singletons are unknown
    assert vocabs.words.tokens == (PAD, UNK, "cat", "sat", "the")
    assert vocabs.words.id(vocabs.normalise("THE")) == 4
    assert vocabs.words.id(vocabs.normalise("dog")) == 1
    assert "T" in vocabs.chars and "D" in vocabs.chars  # characters keep their case
    assert vocabs.chars.tokens[:2] == (PAD, UNK)
    assert vocabs.tags.tokens == ("DET", "NOUN", "VERB", "ADP")  # no specials: every id is a tag
    cased = _vocabs(min_freq=1)
    assert "The" in cased.words and "the" in cased.words and cased.normalise("The") == "The"


def test_tagger_vocabs_save_load_round_trip(tmp_path):
    vocabs = build_tagger_vocabs(WORDS, TAGS, lowercase=True, min_freq=2, max_word_length=7,
                                 scheme="iob2", train_scheme="iobes")  # fmt: skip
    path = tmp_path / "vocab.json"
    vocabs.save(path)
    loaded = TaggerVocabs.load(path)
    assert loaded == vocabs
    assert loaded.words.id("cat") == vocabs.words.id("cat") and loaded.words.id("nope") == 1
    assert (loaded.lowercase, loaded.max_word_length, loaded.scheme, loaded.train_scheme) == (True, 7, "iob2", "iobes")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["words"]["tokens"][:2] == [PAD, UNK] and data["tags"]["specials"] is False
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.parametrize(
    ("word", "kind"),
    [("cat", "lower"), ("EU", "upper"), ("U.S.", "upper"), ("Peter", "title"), ("McDonald", "title"),
     ("1996", "numeric"), ("12,000", "mainly_numeric"), ("F16", "mainly_numeric"), ("f16s", "lower"), ("iPod", "other"),
     ("-", "other"), ("a1B", "has_digit"), ("Ünal", "title")],
)
def test_casing_class(word, kind):
    assert casing_class(word) == kind


FEATURES = [(("DT", "NN", "VBD"),), (("DT", "NN", "VBD", "RP"),), (("DT", "NN"),)]


def test_feature_vocabularies_save_load_and_encode(tmp_path):
    vocabs = _vocabs(sentences_features=FEATURES, casing=True)
    assert vocabs.features[0].tokens == (PAD, UNK, "DT", "NN", "VBD", "RP")
    assert vocabs.feature_sizes == [6, len(CASING)]
    vocabs.save(tmp_path / "vocab.json")
    assert TaggerVocabs.load(tmp_path / "vocab.json") == vocabs
    item = encode(["The", "CAT", "ran", "42"], vocabs, features=[("DT", "NN", "VBZ", "CD")])
    assert item.features.tolist() == [
        [2, CASING.id("title")], [3, CASING.id("upper")], [1, CASING.id("lower")], [1, CASING.id("numeric")]]
    with pytest.raises(ValueError, match="expected 1 feature column"):
        encode(["The"], vocabs)
    plain = _vocabs()
    assert plain.feature_sizes == [] and encode(["The"], plain).features.shape == (1, 0)
    inputs, _ = pad_batch([encode(w, vocabs, features=f) for w, f in zip(WORDS, FEATURES)])
    assert inputs["features"].shape == (3, 4, 2)
    assert inputs["features"][2, :2, 0].tolist() == [2, 3] and not inputs["features"][2, 2:].any()
    casing_only = _vocabs(casing=True)
    assert encode(["A", "b"], casing_only).features.tolist() == [[CASING.id("upper")], [CASING.id("lower")]]


# --- encoding and padding -------------------------------------------------------------------------


def test_encode_ids_chars_truncation_and_unknown_tags():
    vocabs = _vocabs(lowercase=True, max_word_length=3)
    item = encode(["The", "Zebra", "cat"], vocabs, ["DET", "NOUN", "NEVER-SEEN"])
    assert item.words.tolist() == [vocabs.words.id("the"), 1, vocabs.words.id("cat")]
    assert item.chars.shape == (3, 3)  # "Zebra" is cut to max_word_length characters
    assert item.chars[0].tolist() == [vocabs.chars.id(c) for c in "The"]
    assert "Z" not in vocabs.chars and "b" not in vocabs.chars
    assert item.chars[1].tolist() == [1, vocabs.chars.id("e"), 1]  # "Zeb": unseen characters are unknown
    assert item.chars[2].tolist() == [vocabs.chars.id(c) for c in "cat"]
    assert item.tags.tolist() == [vocabs.tags.id("DET"), vocabs.tags.id("NOUN"), 0]
    short = encode(["A", "cat"], vocabs)
    assert short.tags is None
    assert short.chars.shape == (2, 3) and short.chars[0].tolist() == [vocabs.chars.id("A"), 0, 0]


def test_pad_batch_pads_on_the_right():
    vocabs = _vocabs(max_word_length=4)
    items = [encode(w, vocabs, t) for w, t in zip(WORDS, TAGS)]
    inputs, tags = pad_batch(items)
    assert inputs["words"].shape == (3, 4) and inputs["chars"].shape == (3, 4, 4) and tags.shape == (3, 4)
    for row, item in enumerate(items):
        n = len(item.words)
        assert inputs["words"][row, :n].tolist() == item.words.tolist()
        assert not inputs["words"][row, n:].any() and not inputs["chars"][row, n:].any()
        assert not tags[row, n:].any() and tags[row, :n].tolist() == item.tags.tolist()
        width = item.chars.shape[1]
        assert (inputs["chars"][row, :n, :width] == item.chars).all()
        assert not inputs["chars"][row, :, width:].any()
    rounded, _ = pad_batch(items, multiple=8)
    assert rounded["words"].shape == (3, 8) and rounded["chars"].shape == (3, 8, 8)
    unlabeled, no_tags = pad_batch([encode(w, vocabs) for w in WORDS])
    assert no_tags is None and unlabeled["words"].shape == (3, 4)


def test_sorted_batches_cover_every_index_once_by_length():
    lengths = [5, 1, 3, 3, 9, 2, 1]
    batches = list(sorted_batches(lengths, 3))
    assert [len(b) for b in batches] == [3, 3, 1]
    flat = np.concatenate(batches).tolist()
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
    assert flat[:2] == [1, 6]  # stable among equal lengths
    assert padding_fraction(lengths, batches) == pytest.approx(1 - sum(lengths) / (2 * 3 + 5 * 3 + 9))


def test_bucket_boundaries():
    assert bucket_boundaries([3, 7, 10], 1) == list(range(2, 11))
    assert bucket_boundaries([3, 7, 10], 4) == [5, 9]
    assert bucket_boundaries([1], 5) == [2]


# --- tf.data training pipeline -----------------------------------------------------------------------


def _numbered_items(lengths: list[int]) -> list[EncodedSentence]:
    """Sentences whose word ids spell their index, so every row can be traced back."""
    items = []
    for index, length in enumerate(lengths):
        words = np.full(length, index + 2, dtype=np.int32)
        words[:1] = 10_000 + index
        chars = np.ones((length, 2), dtype=np.int32)
        items.append(EncodedSentence(words, chars, np.arange(length, dtype=np.int32) % 3))
    return items


def _rows(dataset) -> list[tuple[int, int]]:
    """(sentence index, length) of every row of one epoch, checking right padding on the way."""
    rows = []
    for inputs, tags in dataset:
        words, chars, tags = inputs["words"].numpy(), inputs["chars"].numpy(), tags.numpy()
        assert words.shape == tags.shape == chars.shape[:2]
        for row in range(words.shape[0]):
            n = int(np.count_nonzero(words[row]))
            assert words[row, :n].all() and not words[row, n:].any(), "padding must be on the right"
            assert not chars[row, n:].any() and not tags[row, n:].any() and chars[row, :n].all()
            assert tags[row, :n].tolist() == (np.arange(n) % 3).tolist()
            rows.append((int(words[row, 0]) - 10_000, n))
    return rows


@pytest.mark.parametrize("bucket_width", [1, 3])
def test_training_dataset_yields_every_sentence_once_per_epoch(bucket_width):
    lengths = [4, 1, 7, 4, 0, 2, 9, 3, 4, 7, 1, 5, 6, 2, 2, 8, 3]  # one empty sentence, dropped
    items = _numbered_items(lengths)
    dataset = training_dataset(items, 3, seed=5, bucket_width=bucket_width)
    epochs = [_rows(dataset), _rows(dataset)]
    expected = Counter((i, n) for i, n in enumerate(lengths) if n)
    for rows in epochs:
        assert Counter(rows) == expected
    assert epochs[0] != epochs[1], "the order is reshuffled every epoch"
    assert _rows(training_dataset(items, 3, seed=5, bucket_width=bucket_width)) == epochs[0], "seeded"


def test_training_dataset_unshuffled_batches_hold_similar_lengths():
    lengths = [4, 1, 7, 4, 2, 9, 3, 4, 7, 1]
    dataset = training_dataset(_numbered_items(lengths), 4, seed=0, shuffle=False)
    for inputs, _ in dataset:
        words = inputs["words"].numpy()
        sizes = np.count_nonzero(words, axis=1)
        assert (sizes == words.shape[1]).all(), "exact-length buckets need no padding"
    assert measure_padding(dataset) == {"batches": 6, "words": sum(lengths), "padding_fraction": 0.0}


@pytest.fixture(scope="module")
def ewt_items() -> tuple[list[EncodedSentence], TaggerVocabs]:
    sentences = read_conllu(EWT_TRAIN)
    vocabs = build_tagger_vocabs([s.words for s in sentences], [s.tags for s in sentences],
                                 lowercase=False, min_freq=1, max_word_length=24)  # fmt: skip
    return [encode(s.words, vocabs, s.tags) for s in sentences], vocabs


@pytest.mark.parametrize("bucket_width", [1, 4])
def test_ewt_sample_padding_is_small(ewt_items, bucket_width):
    items, _ = ewt_items
    padding = measure_padding(training_dataset(items, 32, seed=42, bucket_width=bucket_width))
    assert padding["words"] == sum(len(item.words) for item in items)
    assert padding["batches"] >= len(items) / 32
    assert 0.0 <= padding["padding_fraction"] < 0.10


# --- prediction keeps the input order --------------------------------------------------------------


def _tiny_model(vocabs: TaggerVocabs, head: str):
    from framework.cli import plain_config
    from framework.config import TaggerModelConfig
    from framework.models.build import build_tagger

    settings = OmegaConf.load(ROOT / "conf" / "model" / "tiny.yaml")
    settings.pop("defaults")
    settings.head = head
    model_cfg = plain_config(OmegaConf.merge(OmegaConf.structured(TaggerModelConfig), settings))
    return build_tagger(model_cfg, vocabs, "none", seed=3)


def test_predict_tags_restores_input_order(ewt_items):
    from framework.evaluation.tagger_eval import predict_tags

    _, vocabs = ewt_items
    sentences = [s.words for s in read_conllu(EWT_TRAIN)[:20]]
    sentences = sentences[10:] + [("Hello",), ("a", "b", "c")] + sentences[:10]  # lengths not sorted
    model = _tiny_model(vocabs, "crf")
    batched = predict_tags(model, vocabs, sentences, batch_size=5)
    single = [predict_tags(model, vocabs, [words], batch_size=1)[0] for words in sentences]
    assert [len(tags) for tags in batched] == [len(words) for words in sentences]
    assert all(tag in vocabs.tags for tags in batched for tag in tags)
    assert batched == single
    assert len({tuple(tags) for tags in batched}) > len(sentences) // 2, "predictions differ per sentence"
