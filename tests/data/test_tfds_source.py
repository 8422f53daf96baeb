"""Tests for framework.data.tfds_source without the network.

A tiny TFDS dataset is built from CoNLL-2003-format sentences written here (invented text, no
CoNLL-2003 data) with tensorflow-datasets' own ConllDatasetBuilder and prepared from local files.
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

tfds = pytest.importorskip("tensorflow_datasets")

from framework.data.readers import Sentence  # noqa: E402
from framework.data.tfds_source import (  # noqa: E402
    label_names_of,
    load_from_builder,
    load_tfds_splits,
    prepare_builder,
    sentences_from_examples,
)
from framework.errors import ConfigError, DataError  # noqa: E402

TRAIN = """-DOCSTART- -X- -X- O

Alice NNP B-NP B-PER
visited VBD B-VP O
Paris NNP B-NP B-LOC
. . O O

Bob NNP B-NP B-PER
Smith NNP I-NP I-PER
joined VBD B-VP O
Acme NNP B-NP B-ORG
Corp NNP I-NP I-ORG

"""
DEV = """Lisbon NNP B-NP B-LOC
rocks VBZ B-VP O
"""
EXPECTED = {
    "train": [
        (("Alice", "visited", "Paris", "."), ("B-PER", "O", "B-LOC", "O")),
        (("Bob", "Smith", "joined", "Acme", "Corp"), ("B-PER", "I-PER", "O", "B-ORG", "I-ORG")),
    ],
    "dev": [(("Lisbon", "rocks"), ("B-LOC", "O"))],
}


def _data_cfg(**overrides):
    settings = {
        "tfds_name": "conll2003",
        "tfds_tag_feature": "ner",
        "tfds_splits": {"train": "train", "dev": "dev"},
        "tfds_download": True,
        "tfds_data_dir": None,
        **overrides,
    }
    return OmegaConf.create(settings)


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    from tensorflow_datasets.core.dataset_builders.conll import conll_dataset_builder_utils as conll_lib

    root = tmp_path_factory.mktemp("tfds")
    (root / "train.txt").write_text(TRAIN, encoding="utf-8")
    (root / "dev.txt").write_text(DEV, encoding="utf-8")

    class TinyConll(tfds.dataset_builders.ConllDatasetBuilder):
        VERSION = tfds.core.Version("1.0.0")
        BUILDER_CONFIGS = [conll_lib.CONLL_2003_CONFIG]

        def _info(self):
            # file order kept, so the test can compare lists (TFDS shuffles by key otherwise)
            return tfds.core.DatasetInfo(builder=self, features=self.builder_config.features_dict,
                                         disable_shuffling=True)  # fmt: skip

        def _split_generators(self, dl_manager):
            return {
                "train": self._generate_examples(root / "train.txt"),
                "dev": self._generate_examples(root / "dev.txt"),
            }

    prepared = TinyConll(data_dir=str(root / "prepared"))
    prepared.download_and_prepare()
    return prepared


def test_load_from_builder_reads_sentences_with_string_tags(builder):
    splits = load_from_builder(builder, _data_cfg())
    assert set(splits) == {"train", "dev"}
    for split, expected in EXPECTED.items():
        got = [(s.words, s.tags) for s in splits[split]]
        assert got == expected
        assert all(isinstance(w, str) for s in splits[split] for w in s.words + s.tags)
    # the empty example TFDS yields after the file's last blank line is dropped
    assert len(splits["train"]) == 2 and all(s.words for s in splits["train"])


def test_other_tag_features_and_split_names(builder):
    splits = load_from_builder(builder, _data_cfg(tfds_tag_feature="chunks", tfds_splits={"test": "dev"}))
    assert list(splits) == ["test"]
    assert [(s.words, s.tags) for s in splits["test"]] == [(("Lisbon", "rocks"), ("B-NP", "B-VP"))]
    assert label_names_of(builder, "ner")[:3] == ["O", "B-PER", "I-PER"]
    assert label_names_of(builder, "tokens") is None


def test_tagging_corpus_reads_a_prepared_dataset_from_data_tfds_data_dir_offline(builder):
    """The offline path end to end: data.source=tfds with data.tfds_data_dir pointing at a prepared
    copy and data.tfds_download=false reads it without any download."""
    from framework.config import TaggingDataConfig
    from framework.data.corpus import load_tagging_corpus

    node = OmegaConf.structured(TaggingDataConfig(name="tiny", task="ner"))
    data = OmegaConf.create(OmegaConf.to_container(node, enum_to_str=True))
    data.update(source="tfds", tfds_name=builder.name, tfds_tag_feature="ner", tfds_download=False,
                tfds_splits={"train": "train", "dev": "dev"}, tfds_data_dir=str(builder.data_dir_root),
                scheme="iob2", train_scheme="iob2")  # fmt: skip
    corpus = load_tagging_corpus(data)
    assert [(s.words, s.tags) for s in corpus.train] == EXPECTED["train"]
    assert [(s.words, s.tags) for s in corpus.dev] == EXPECTED["dev"]
    elsewhere = str(builder.data_dir) + "-elsewhere"
    with pytest.raises(ConfigError) as info:  # a folder without a prepared copy, and no download
        load_tagging_corpus(OmegaConf.merge(data, {"tfds_data_dir": elsewhere}))
    assert str(info.value).startswith(f"tensorflow-datasets has no prepared copy of '{builder.name}' in {elsewhere};")


def test_unknown_split_is_a_config_error(builder):
    with pytest.raises(ConfigError, match="has no split 'validation'"):
        load_from_builder(builder, _data_cfg(tfds_splits={"dev": "validation"}))


def test_sentences_from_examples_text_tags_and_errors():
    examples = [{"tokens": [b"a", b"b"], "upos": [b"DET", b"NOUN"]}, {"tokens": [], "upos": []}]
    assert sentences_from_examples(examples, "upos", None, "tfds:x/train") == [
        Sentence(("a", "b"), ("DET", "NOUN"), 0)
    ]
    with pytest.raises(DataError, match=r"tfds:x/train: example 0: 2 tokens but 1 tags"):
        sentences_from_examples([{"tokens": [b"a", b"b"], "upos": [b"DET"]}], "upos", None, "tfds:x/train")
    with pytest.raises(DataError, match="expected features 'tokens' and 'ner'"):
        sentences_from_examples([{"tokens": [b"a"]}], "ner", None, "tfds:x/train")


def test_catalog_dataset_without_network_is_a_config_error_about_the_internet(offline_tfds, tmp_path, caplog):
    with caplog.at_level("INFO", logger="framework.data.tfds_source"), pytest.raises(ConfigError) as info:
        load_tfds_splits(_data_cfg(tfds_data_dir=str(tmp_path)))
    # before the download starts (offline, TFDS's retries can take minutes), the log says what it needs
    assert "downloading 'conll2003' and preparing it in /nowhere/tensorflow_datasets (needs the internet" in caplog.text
    message = str(info.value)
    assert "internet" in message and "'conll2003'" in message and "ConnectionError" in message
    assert "data=conll2003" in message  # points at the offline, file-based alternative
    assert offline_tfds == [("conll2003", str(tmp_path))]


def test_a_prepared_copy_is_not_downloaded_again(fake_tfds, caplog):
    def download():
        raise AssertionError("a prepared copy was downloaded again")

    calls = fake_tfds(True, download)
    with caplog.at_level("INFO", logger="framework.data.tfds_source"):
        assert prepare_builder("conll2003", None, True, "use local files").is_prepared()
    assert calls == [("conll2003", None)] and "downloading" not in caplog.text


def test_unknown_catalog_name_is_a_config_error(monkeypatch):
    def fake_builder(name, data_dir=None):
        raise tfds.core.registered.DatasetNotFoundError(name)

    monkeypatch.setattr(tfds, "builder", fake_builder)
    with pytest.raises(ConfigError, match="could not prepare 'no_such_corpus'"):
        load_tfds_splits(_data_cfg(tfds_name="no_such_corpus"))


def test_tfds_config_needs_name_and_tag_feature():
    with pytest.raises(ConfigError, match="tfds_name and data.tfds_tag_feature"):
        load_tfds_splits(_data_cfg(tfds_tag_feature=None))


def test_feature_columns_are_refused_for_tfds_sources():
    from framework.data.corpus import load_tagging_corpus

    with pytest.raises(ConfigError, match="data.feature_columns reads columns of local files"):
        load_tagging_corpus(_data_cfg(source="tfds", feature_columns=[1]))


# One sentence with a multiword token (2-3) and an empty node (4.1), in the layout of UD EWT.
UD_TRAIN = """# sent_id = tiny-1
# text = We gonna win.
1\tWe\twe\tPRON\tPRP\t_\t2\tnsubj\t_\t_
2-3\tgonna\t_\t_\t_\t_\t_\t_\t_\t_
2\tgon\tgo\tVERB\tVBG\t_\t0\troot\t_\t_
3\tna\tto\tPART\tTO\t_\t4\tmark\t_\t_
4\twin\twin\tVERB\tVB\t_\t2\txcomp\t_\t_
4.1\twon\twin\tVERB\tVBD\t_\t_\t_\t2:conj\t_
5\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

"""


def test_ud_through_tfds_gives_the_tokens_and_tags_of_the_file_reader(tmp_path):
    """TFDS's CoNLL-U builder keeps multiword ranges and empty nodes as tokens; read through it,
    the sentence must hold what read_conllu reads from the same file."""
    pytest.importorskip("conllu")
    from tensorflow_datasets.core.dataset_builders.conll import conllu_dataset_builder_utils as ud

    from framework.data.readers import read_conllu

    (tmp_path / "train.conllu").write_text(UD_TRAIN, encoding="utf-8")

    class TinyUD(tfds.dataset_builders.ConllUDatasetBuilder):
        VERSION = tfds.core.Version("1.0.0")
        BUILDER_CONFIGS = [tfds.dataset_builders.ConllUBuilderConfig(
            name="en_tiny", features=ud.UNIVERSAL_DEPENDENCIES_FEATURES, language="en")]

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=self.builder_config.features_dict)

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(tmp_path / "train.conllu")}

    builder = TinyUD(data_dir=str(tmp_path / "prepared"))
    builder.download_and_prepare()
    for feature in ("upos", "xpos"):
        cfg = _data_cfg(tfds_name="universal_dependencies/en_tiny", tfds_tag_feature=feature,
                        tfds_splits={"train": "train"})
        (sentence,) = load_from_builder(builder, cfg)["train"]
        (expected,) = read_conllu(tmp_path / "train.conllu", tag_field=feature)
        assert (sentence.words, sentence.tags) == (expected.words, expected.tags)
        assert sentence.words == ("We", "gon", "na", "win", ".")
