"""framework.data.tfds_translation without the network.

A tiny TFDS translation dataset (invented sentences) is built here with a GeneratorBasedBuilder
whose features are ``tfds.features.Translation``, exactly the feature the catalog's
wmt14_translate and ted_hrlr_translate builders use; it is prepared from memory, offline.
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

tfds = pytest.importorskip("tensorflow_datasets")

from framework.data.parallel import load_parallel_corpus  # noqa: E402
from framework.data.tfds_translation import load_from_builder, load_tfds_corpus, pairs_from_examples  # noqa: E402
from framework.errors import ConfigError, DataError  # noqa: E402

PAIRS = {
    "train": [("Ein Hund rennt.", "A dog runs."), ("Zwei Katzen schlafen.", "Two cats sleep."), ("", "Empty German.")],
    "validation": [("Ein Mann liest.", "A man reads.")],
}


def _data(**overrides):
    return OmegaConf.create({"source": "tfds", "format": "text", "tfds_name": "tiny_translate/de-en",
                             "tfds_splits": {"train": "train", "dev": "validation"}, "tfds_download": True,
                             "tfds_data_dir": None, "src_lang": "en", "tgt_lang": "de", "max_train_pairs": None,
                             **overrides})  # fmt: skip


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    class TinyTranslate(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.Translation(languages=("de", "en")),
                                         disable_shuffling=True)  # fmt: skip

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(pairs) for split, pairs in PAIRS.items()}

        def _generate_examples(self, pairs):
            for index, (de, en) in enumerate(pairs):
                yield index, {"de": de, "en": en}

    prepared = TinyTranslate(data_dir=str(tmp_path_factory.mktemp("tfds")))
    prepared.download_and_prepare()
    return prepared


def test_load_from_builder_reads_pairs_in_either_direction(builder):
    splits = load_from_builder(builder, _data())
    assert set(splits) == {"train", "dev"}
    assert splits["train"].sources == ["A dog runs.", "Two cats sleep."]  # the pair with an empty side is skipped
    assert splits["train"].targets == ["Ein Hund rennt.", "Zwei Katzen schlafen."]
    assert splits["dev"].origin == "tfds:tiny_translate/validation"
    reverse = load_from_builder(builder, _data(src_lang="de", tgt_lang="en", tfds_splits={"test": "validation"}))
    assert (reverse["test"].sources, reverse["test"].targets) == (["Ein Mann liest."], ["A man reads."])


def test_the_corpus_loader_goes_through_tfds(builder, monkeypatch):
    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: builder)
    corpus = load_parallel_corpus(_data())
    assert len(corpus.train) == 2 and len(corpus.dev) == 1 and len(corpus.test) == 0


def test_unknown_split_and_missing_language_are_one_line_errors(builder):
    with pytest.raises(ConfigError, match="has no split 'dev' \\(it has train, validation\\)"):
        load_from_builder(builder, _data(tfds_splits={"dev": "dev"}))
    split = pairs_from_examples([{"de": b"Zwei\nZeilen ", "en": "Two\r\nlines"}], "en", "de", "tfds:x/train")
    assert (split.sources, split.targets) == (["Two lines"], ["Zwei Zeilen"])  # one line each, for the .txt files
    with pytest.raises(DataError, match="tfds:x/train: example 0: expected features 'en' and 'fr', found de, en"):
        pairs_from_examples([{"de": b"Hallo", "en": b"Hello"}], "en", "fr", "tfds:x/train")


def test_catalog_dataset_without_network_is_a_config_error_about_the_internet(offline_tfds, tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_tfds_corpus(_data(tfds_name="wmt14_translate/de-en", tfds_data_dir=str(tmp_path)))
    message = str(caught.value)
    assert "internet" in message and "'wmt14_translate/de-en'" in message and "ConnectionError" in message
    assert "data=multi30k_en_de" in message  # points at the offline, file-based alternative
    assert offline_tfds == [("wmt14_translate/de-en", str(tmp_path))]


def test_tfds_config_needs_a_name():
    with pytest.raises(ConfigError, match="data.tfds_name"):
        load_tfds_corpus(_data(tfds_name=None))
