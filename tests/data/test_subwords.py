"""Sentencepiece subwords: fixed special ids, train-split-only vocabulary, round trip, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.parallel import read_aligned
from framework.data.subwords import (BOS_ID, EOS_ID, JOINT_FILE, PAD_ID, SOURCE_FILE, TARGET_FILE, UNK_ID,
                                     SubwordModel, Subwords, build_subwords, train_sentencepiece)  # fmt: skip
from framework.errors import ConfigError, DataError

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "multi30k"


@pytest.fixture(scope="module")
def train():
    return read_aligned(SAMPLE / "train.en", SAMPLE / "train.de").head(800)


def _data(**overrides):
    return OmegaConf.create({"subword_model": "unigram", "vocab_size": 500, "character_coverage": 1.0,
                             "joint_vocab": True, "src_lang": "en", "tgt_lang": "de", **overrides})  # fmt: skip


@pytest.mark.parametrize("kind", ["unigram", "bpe"])
def test_special_ids_match_the_model_and_round_trip_restores_the_text(train, kind):
    model = SubwordModel(train_sentencepiece(train.sources + train.targets, 500, kind))
    processor = model.processor
    assert (processor.pad_id(), processor.bos_id(), processor.eos_id(), processor.unk_id()) == (0, 1, 2, 3)
    assert (PAD_ID, BOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    assert model.pieces([0, 1, 2, 3]) == ["<pad>", "<s>", "</s>", "<unk>"]
    assert 100 < len(model) <= 500
    dev = read_aligned(SAMPLE / "val.en", SAMPLE / "val.de")
    # sentencepiece normalises (NFKC, runs of spaces), so take lines that are already normal
    sentences = [s for s in train.sources[:50] + dev.targets[:50] if "  " not in s and "\xa0" not in s]
    for sentence, ids in zip(sentences, model.encode(sentences)):
        assert ids.dtype == np.int32 and ids.min() > EOS_ID  # no BOS/EOS/padding added by encode
        assert model.decode(ids) == sentence
        assert model.decode([BOS_ID, *ids, EOS_ID, PAD_ID, PAD_ID]) == sentence  # specials are dropped


def test_vocabulary_comes_from_the_train_split_only(train):
    model = SubwordModel(train_sentencepiece(train.sources, 300))
    seen = set("".join(train.sources))
    unseen = next(c for c in "ßжλ€" if c not in seen)
    ids = model.encode([f"A {unseen} dog."])[0]
    assert UNK_ID in ids.tolist()
    assert model.encode(["A dog."])[0].tolist().count(UNK_ID) == 0


def test_joint_and_separate_models_save_and_load(train, tmp_path):
    joint = build_subwords(_data(), train.sources, train.targets)
    assert joint.joint and joint.source is joint.target
    joint.save(tmp_path / "joint")
    assert (tmp_path / "joint" / JOINT_FILE).is_file()
    again = Subwords.load(tmp_path / "joint")
    sentence = train.targets[0]
    assert again.target.encode([sentence])[0].tolist() == joint.target.encode([sentence])[0].tolist()
    assert again.settings["trained_on"] == "train split" and again.settings["source_size"] == len(joint.source)
    separate = build_subwords(_data(joint_vocab=False, subword_model="bpe", vocab_size=400), train.sources,
                              train.targets)  # fmt: skip
    separate.save(tmp_path / "separate")
    assert (tmp_path / "separate" / SOURCE_FILE).is_file() and (tmp_path / "separate" / TARGET_FILE).is_file()
    loaded = Subwords.load(tmp_path / "separate")
    assert not loaded.joint and loaded.source is not loaded.target
    assert loaded.target.decode(loaded.target.encode(["Ein Hund."])[0]) == "Ein Hund."
    (tmp_path / "separate" / TARGET_FILE).unlink()
    with pytest.raises(DataError, match="expected the run's sentencepiece model here"):
        Subwords.load(tmp_path / "separate")


def test_bad_settings_are_config_errors(train):
    with pytest.raises(ConfigError, match="data.vocab_size must be at least 8"):
        train_sentencepiece(train.sources, 4)
    with pytest.raises(ConfigError, match="subword_model"):
        train_sentencepiece(train.sources, 100, "word")
