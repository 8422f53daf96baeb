"""Tests for framework.data.corpus: reading a tagging corpus from config, scheme detection, dev carving."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from framework.config import TaggingDataConfig
from framework.data.corpus import load_tagging_corpus, split_off_dev
from framework.data.readers import Sentence
from framework.errors import DataError

IOB2_TRAIN = "John B-PER\nSmith I-PER\nlives O\n\nin O\nParis B-LOC\n\nMary B-PER\nleft O\n"


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _data(**overrides):
    """A plain tagging data config, as the recipes see it (enums as strings)."""
    node = OmegaConf.structured(TaggingDataConfig(name="toy", task="ner"))
    plain = OmegaConf.create(OmegaConf.to_container(node, enum_to_str=True))
    plain.scheme, plain.train_scheme = "auto", "iobes"
    for key, value in overrides.items():
        plain[key] = value
    return plain


# --- scheme: auto -------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["dev", "test"])
def test_auto_scheme_dev_or_test_tag_invalid_in_the_train_scheme_names_its_file_and_line(tmp_path, split):
    train = _file(tmp_path, "train.txt", IOB2_TRAIN)
    dev = _file(tmp_path, "dev.txt", "Bob B-PER\n\nhi O\n")
    bad = _file(tmp_path, f"{split}_bad.txt", "Ann B-PER\nsaw O\n\nBob O\nSmith S-PER\n")
    data = _data(train=train, **{"dev": dev, split: bad})
    with pytest.raises(DataError) as info:
        load_tagging_corpus(data)
    assert str(info.value) == f"{bad}:5: expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'S-PER'"
    assert info.value.line == 5


def test_auto_scheme_conllu_dev_tag_invalid_in_the_train_scheme_names_its_line(tmp_path):
    def conllu(*tags: str, extra: str = "") -> str:
        rows = [f"{i}\tw{i}\tw{i}\t{tag}\t_\t_\t0\troot\t_\t_" for i, tag in enumerate(tags, 1)]
        return extra + "\n".join(rows) + "\n"

    train = _file(tmp_path, "train.conllu", conllu("B-PER", "I-PER", "O"))
    dev = _file(tmp_path, "dev.conllu", conllu("B-PER", "E-PER", extra="# sent_id = 1\n"))
    with pytest.raises(DataError, match=r"^.*dev\.conllu:3: expected an IOB2 tag .* found 'E-PER'$"):
        load_tagging_corpus(_data(format="conllu", train=train, dev=dev))


def test_auto_scheme_reads_dev_and_test_in_the_detected_scheme(tmp_path):
    train = _file(tmp_path, "train.txt", "Ann S-PER\nleft O\n\nBob B-PER\nSmith E-PER\n")
    dev = _file(tmp_path, "dev.txt", "Ann S-PER\n")
    corpus = load_tagging_corpus(_data(train=train, dev=dev, train_scheme="iob2"))
    assert corpus.scheme == "iobes" and corpus.train_scheme == "iob2"
    assert [s.tags for s in corpus.dev] == [("B-PER",)]


def test_auto_scheme_is_detected_from_the_whole_train_file_before_dev_is_carved_off(tmp_path):
    """The only IOBES tag sits in the sentence carved off as dev: the scheme must still be iobes
    (detecting from what remains in train said iob2, and converting the dev sentence then failed)."""
    sentences = [f"w{i} O\n" for i in range(9)]
    sentences.insert(3, "Ann S-PER\n")  # the sentence split_seed 13 carves off 10
    train = _file(tmp_path, "train.txt", "\n".join(sentences))
    corpus = load_tagging_corpus(_data(train=train, dev_fraction=0.1))
    assert [s.words for s in corpus.dev] == [("Ann",)], "split_seed 13 carves the S-PER sentence off as dev"
    assert corpus.scheme == "iobes"
    assert [s.tags for s in corpus.dev] == [("S-PER",)]


def test_tfds_tag_invalid_in_the_scheme_names_split_and_example(tmp_path, monkeypatch):
    import framework.data.tfds_source as tfds_source

    splits = {
        "train": [Sentence(("John", "lives"), ("B-PER", "O"), 0)],
        "dev": [Sentence(("Bob",), ("B-PER",), 0), Sentence(("hi", "Ann"), ("O", "S-PER"), 1)],
    }
    monkeypatch.setattr(tfds_source, "load_tfds_splits", lambda data: splits)
    splits_config = {"train": "train", "dev": "val"}
    data = _data(source="tfds", tfds_name="toyner", tfds_tag_feature="ner", tfds_splits=splits_config)
    with pytest.raises(DataError) as info:
        load_tagging_corpus(data)
    expected = "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'S-PER'"
    assert str(info.value) == f"tfds:toyner/val: example 1, token 2: {expected}"


# --- dev carved off train -----------------------------------------------------------------------


def test_one_sentence_train_without_dev_is_a_data_error_naming_the_train_file(tmp_path):
    train = _file(tmp_path, "train.txt", "John B-PER\nlives O\n")
    with pytest.raises(DataError) as info:
        load_tagging_corpus(_data(train=train, dev_fraction=0.1))
    assert str(info.value) == f"{train}: has 1 sentence: carving a dev split off it needs at least 2 (or set data.dev)"
    assert info.value.line is None


def test_carving_dev_keeps_at_least_one_training_sentence(tmp_path):
    train = _file(tmp_path, "train.txt", "John B-PER\n\nMary B-PER\n")
    corpus = load_tagging_corpus(_data(train=train, dev_fraction=0.9))  # round(2 * 0.9) = 2 would take both
    assert len(corpus.train) == 1 and len(corpus.dev) == 1
    assert {corpus.train[0].words, corpus.dev[0].words} == {("John",), ("Mary",)}


def test_split_off_dev_takes_the_seeded_fraction():
    sentences = [Sentence((f"w{i}",), ("O",), 2 * i + 1) for i in range(10)]
    train, dev = split_off_dev(sentences, 0.2, 13, "train.txt")
    assert (len(train), len(dev)) == (8, 2) and sorted(train + dev, key=lambda s: s.line) == sentences
    assert split_off_dev(sentences, 0.2, 13, "train.txt") == (train, dev)


def test_tfds_ud_with_a_tag_field_that_tfds_does_not_read_is_a_config_error():
    """data.tag_field picks the CoNLL-U column of local files; on the TFDS path it would be ignored
    (the tags come from data.tfds_tag_feature), so a differing value is refused before any download."""
    from omegaconf import OmegaConf

    from framework.data.corpus import load_tagging_corpus
    from framework.errors import ConfigError

    data = OmegaConf.create({"source": "tfds", "feature_columns": [], "tag_field": "xpos",
                             "tfds_name": "universal_dependencies/en_ewt", "tfds_tag_feature": "upos"})
    with pytest.raises(ConfigError, match="set data.tfds_tag_feature=xpos"):
        load_tagging_corpus(data)
