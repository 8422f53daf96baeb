"""Tests for classification data: TSV/CSV readers, bad input as file:line, the stratified split,
the train-only vocabulary, and the bucketed training batches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.classification_pipeline import training_dataset
from framework.data.text_files import decode_utf8
from framework.data.text_classification import (TextEncoder, balanced_class_weights, build_encoder, load_corpus,
                                                pad_right, read_corpus_files, read_examples, read_split,
                                                stratified_split, write_split)  # fmt: skip
from framework.errors import ConfigError, DataError
from framework.schemas.classification import ClassificationDataConfig

ROOT = Path(__file__).resolve().parents[2]
SMS_SAMPLE = ROOT / "samples" / "sms_spam" / "sms_spam.tsv"


def _write(tmp_path: Path, text: str | bytes, name: str = "data.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _data(**overrides):
    """A plain data config, as the recipes see it (enums as strings)."""
    node = OmegaConf.structured(ClassificationDataConfig(name="test"))
    plain = OmegaConf.create(OmegaConf.to_container(node, enum_to_str=True))
    for key, value in overrides.items():
        plain[key] = value
    return plain


# --- readers ------------------------------------------------------------------------------------


def test_read_tsv_keeps_text_and_line_numbers(tmp_path):
    path = _write(tmp_path, "ham\tOk lar...\nspam\tFREE entry! Txt WIN\n\n")
    examples = read_examples(path)
    assert [(e.label, e.text, e.line) for e in examples] == [
        ("ham", "Ok lar...", 1),
        ("spam", "FREE entry! Txt WIN", 2),
    ]


def test_read_csv_with_header_columns_and_quoted_multiline_field(tmp_path):
    text = 'id,text,label\n1,"hello, world",pos\n2,"two\nlines",neg\n3,plain,pos\n'
    path = _write(tmp_path, text, "data.csv")
    examples = read_examples(path, format="csv", header=True, columns=3, label_column=2, text_column=1)
    assert [e.label for e in examples] == ["pos", "neg", "pos"]
    assert examples[0].text == "hello, world" and examples[1].text == "two\nlines"
    assert [e.line for e in examples] == [2, 3, 5]  # a record's first line


def test_read_shipped_sample():
    examples = read_examples(SMS_SAMPLE, labels=["ham", "spam"])
    assert len(examples) == 1000
    assert Counter(e.label for e in examples) == {"ham": 848, "spam": 152}


BAD_INPUTS = [
    ("missing", None, None, "file not found"),
    ("empty", b"", None, "file is empty"),
    ("fields", "ham\tfine\nspam\ttoo\tmany\n", 2, "expected 2 fields"),
    ("one_field", "ham\tfine\nno tab here\n", 2, "found 1"),
    ("utf8", b"ham\tfine\nham\tok\nspam\tbad \xff byte\n", 3, "not UTF-8: byte 0xff at column 10"),
    ("empty_text", "ham\tfine\nspam\t   \n", 2, "empty text"),
    ("empty_label", "ham\tfine\n\ttext\n", 2, "empty label"),
    ("label", "ham\tfine\nspam\tok\neggs\twhat\n", 3, "label 'eggs' is not one of"),
    ("blank_line", "ham\tfine\n\nspam\tok\n", 2, "found 1"),
]


@pytest.mark.parametrize("case, content, line, message", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_a_data_error_naming_file_and_line(tmp_path, case, content, line, message):
    path = tmp_path / "missing.tsv" if content is None else _write(tmp_path, content)
    with pytest.raises(DataError) as caught:
        read_examples(path, labels=["ham", "spam"])
    where = str(path) if line is None else f"{path}:{line}"
    assert str(caught.value).startswith(f"{where}: ")
    assert message in str(caught.value)
    assert caught.value.line == line


def test_csv_wrong_field_count_names_the_line(tmp_path):
    path = _write(tmp_path, 'label,text\npos,"a, b"\nneg,x,extra\n', "data.csv")
    with pytest.raises(DataError, match=r"data\.csv:3: expected 2 fields"):
        read_examples(path, format="csv", header=True)


def test_csv_unclosed_quote_is_reported_not_swallowed(tmp_path):
    """Non-strict csv read an unclosed quote as one field holding the rest of the file."""
    path = _write(tmp_path, 'label,text\npos,fine\nneg,"never closed\npos,ok\nneg,fine\n', "data.csv")
    with pytest.raises(DataError) as caught:
        read_examples(path, format="csv", header=True)
    assert str(caught.value) == f'{path}:3: unclosed quote: expected a closing " before the end of the file'


def test_csv_field_over_the_csv_limit_and_bad_quoting_are_data_errors(tmp_path):
    path = _write(tmp_path, 'label,text\npos,ok\nneg,"' + "x" * 140_000 + '"\n', "data.csv")
    with pytest.raises(DataError, match=r"data\.csv:3: a field is longer than 131072 characters"):
        read_examples(path, format="csv", header=True)
    path = _write(tmp_path, 'label,text\npos,ok\nneg,"say "hi" now"\n', "data.csv")
    with pytest.raises(DataError, match=r"data\.csv:3: not valid CSV: ',' expected after '\"'"):
        read_examples(path, format="csv", header=True)


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"\xef\xbb\xbf \r\n\t\n"],
                         ids=["bom", "bom_newline", "bom_whitespace"])  # fmt: skip
def test_a_file_of_only_a_bom_and_whitespace_is_empty(tmp_path, content):
    path = _write(tmp_path, content)
    for fmt in ("tsv", "csv"):
        with pytest.raises(DataError) as caught:
            read_examples(path, format=fmt)
        assert str(caught.value) == f"{path}: file is empty"
    assert decode_utf8(_write(tmp_path, b"\xef\xbb\xbfham\tok\n")) == "ham\tok\n"


def test_header_only_file_has_no_examples(tmp_path):
    path = _write(tmp_path, "label\ttext\n")
    with pytest.raises(DataError, match="no examples"):
        read_examples(path, header=True)


def test_column_outside_the_row_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="text_column=2"):
        read_examples(_write(tmp_path, "a\tb\n"), text_column=2)


# --- stratified split ---------------------------------------------------------------------------


def test_stratified_split_keeps_class_proportions_in_every_split():
    labels = ["ham"] * 848 + ["spam"] * 152
    train, dev, test = stratified_split(labels, (0.8, 0.1, 0.1), seed=13)
    assert sorted(train + dev + test) == list(range(1000))  # disjoint and complete
    for part, fraction in ((train, 0.8), (dev, 0.1), (test, 0.1)):
        counts = Counter(labels[i] for i in part)
        assert abs(counts["ham"] - 848 * fraction) <= 1
        assert abs(counts["spam"] - 152 * fraction) <= 1


def test_stratified_split_is_deterministic_per_seed():
    labels = [("a", "b", "c")[i % 3] for i in range(300)]
    assert stratified_split(labels, (0.6, 0.2, 0.2), 7) == stratified_split(labels, (0.6, 0.2, 0.2), 7)
    assert stratified_split(labels, (0.6, 0.2, 0.2), 7) != stratified_split(labels, (0.6, 0.2, 0.2), 8)


def test_stratified_split_keeps_a_training_example_of_a_tiny_class():
    train, dev, test = stratified_split(["a"] * 20 + ["b"], (0.5, 0.25, 0.25), seed=0)
    assert 20 in train


@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.2), (0.0, 0.5, 0.5), (0.9, -0.1, 0.2)])
def test_bad_fractions_are_a_config_error(fractions):
    with pytest.raises(ConfigError, match="fractions"):
        stratified_split(["a", "b"], fractions, seed=0)


def test_load_corpus_records_the_split_and_reuses_it(tmp_path):
    corpus = load_corpus(_data(file=str(SMS_SAMPLE), labels=["ham", "spam"]))
    assert {name: sum(counts.values()) for name, counts in corpus.record["counts"].items()} == \
        {"train": 800, "dev": 100, "test": 100}  # fmt: skip
    assert corpus.record["counts"]["test"] == {"ham": 85, "spam": 15}
    assert corpus.record["seed"] == 13 and corpus.record["fractions"]["dev"] == 0.1
    write_split(corpus, tmp_path)
    recorded = read_split(tmp_path)
    assert recorded["lines"]["test"] == [e.line for e in corpus.test]
    again = load_corpus(_data(file=str(SMS_SAMPLE), split_seed=99), recorded)  # the record wins over the seed
    assert [e.line for e in again.test] == [e.line for e in corpus.test]


def test_a_recorded_split_of_an_edited_file_is_refused(tmp_path):
    copy = _write(tmp_path, SMS_SAMPLE.read_text(encoding="utf-8"), "sms.tsv")
    corpus = load_corpus(_data(file=str(copy), labels=["ham", "spam"]))
    assert len(corpus.record["sha256"]) == 64
    copy.write_text("ham\ta line added on top\n" + SMS_SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DataError, match=r"sms.tsv: changed since the run recorded its split"):
        load_corpus(_data(file=str(copy), labels=["ham", "spam"]), corpus.record)


def test_load_corpus_from_split_files(tmp_path):
    train = _write(tmp_path, "a\tx y\nb\ty z\na\tx\n", "train.tsv")
    dev = _write(tmp_path, "b\tz\n", "dev.tsv")
    corpus = load_corpus(_data(train=str(train), dev=str(dev)))
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (3, 1, 0)
    assert corpus.record["mode"] == "files"


def test_files_read_up_front_are_the_ones_split(tmp_path):
    """The train recipe reads and checks every named file before the TensorFlow import
    (``read_corpus_files``); load_corpus then splits what was read, not the files again."""
    train = _write(tmp_path, "a\tx y\nb\ty z\na\tx\n", "train.tsv")
    dev = _write(tmp_path, "b\tz\n", "dev.tsv")
    data = _data(train=str(train), dev=str(dev))
    files = read_corpus_files(data)
    assert list(files) == [str(train), str(dev)] and [e.text for e in files[str(train)]] == ["x y", "y z", "x"]
    train.write_text("a\tchanged on disk\n", encoding="utf-8")
    assert [e.text for e in load_corpus(data, files=files).train] == ["x y", "y z", "x"]
    with pytest.raises(ConfigError, match="set data.file"):
        read_corpus_files(_data())
    with pytest.raises(DataError, match=r"bad\.tsv:2: "):
        read_corpus_files(_data(file=str(_write(tmp_path, "a\tx\nb\n", "bad.tsv"))))


def test_a_resumed_run_splits_the_file_read_up_front_by_its_recorded_split(tmp_path):
    data = _data(file=str(SMS_SAMPLE), labels=["ham", "spam"])
    corpus = load_corpus(data)
    write_split(corpus, tmp_path)
    again = load_corpus(_data(file=str(SMS_SAMPLE), labels=["ham", "spam"], split_seed=99), read_split(tmp_path),
                        read_corpus_files(data))  # fmt: skip
    assert [e.line for e in again.test] == [e.line for e in corpus.test]  # the record, not the new seed


def test_dev_label_unseen_in_train_names_its_line(tmp_path):
    train = _write(tmp_path, "a\tx\nb\ty\n", "train.tsv")
    dev = _write(tmp_path, "a\tx\nc\tz\n", "dev.tsv")
    with pytest.raises(DataError, match=r"dev\.tsv:2: label 'c' does not occur in the training split"):
        load_corpus(_data(train=str(train), dev=str(dev)))


def test_no_dev_split_is_a_config_error():
    with pytest.raises(ConfigError, match="dev split"):
        load_corpus(_data(file=str(SMS_SAMPLE), train_fraction=0.9, dev_fraction=0.0, test_fraction=0.1))


# --- tokens, vocabulary, weights, batches -------------------------------------------------------


def _corpus_encoder(**overrides) -> tuple:
    corpus = load_corpus(_data(file=str(SMS_SAMPLE), labels=["ham", "spam"], **overrides))
    return corpus, build_encoder(corpus.train, _data(labels=["ham", "spam"], **overrides))


def test_tokens_are_lowercased_regex_words_and_symbols_cut_to_max_length():
    _, encoder = _corpus_encoder(max_length=5)
    assert encoder.tokenize("WINNER!! Call NOW, don't wait") == ["winner", "!", "!", "call", "now"]
    cased = build_encoder([], _data(labels=["a", "b"], lowercase=False))
    assert cased.tokenize("Don't STOP") == ["Don't", "STOP"]


def test_vocabulary_comes_from_train_only():
    corpus, encoder = _corpus_encoder()
    train_tokens = {t for e in corpus.train for t in encoder.tokenize(e.text)}
    assert set(encoder.words.tokens[2:]) == train_tokens
    unseen = next(t for e in corpus.test for t in encoder.tokenize(e.text) if t not in train_tokens)
    assert encoder.words.id(unseen) == encoder.words.unk_id


def test_min_freq_drops_rare_training_words():
    _, all_words = _corpus_encoder()
    _, frequent = _corpus_encoder(min_freq=3)
    assert len(frequent.words) < len(all_words.words)


def test_encoder_round_trips_and_never_encodes_an_empty_text(tmp_path):
    _, encoder = _corpus_encoder()
    encoder.save(tmp_path / "vocab.json")
    loaded = TextEncoder.load(tmp_path / "vocab.json")
    assert loaded.encode("free entry now").tolist() == encoder.encode("free entry now").tolist()
    assert loaded.labels.tokens == ("ham", "spam") and loaded.positive_label == "spam"
    only_spaces = TextEncoder(encoder.words, encoder.labels, token_pattern=r"[a-z]+")
    assert only_spaces.encode("123 !!").tolist() == [encoder.words.unk_id]


def test_positive_label_defaults_to_the_rarer_class():
    corpus = load_corpus(_data(file=str(SMS_SAMPLE)))
    assert build_encoder(corpus.train, _data()).positive_label == "spam"


def test_balanced_class_weights_equalise_class_totals():
    ids = np.array([0] * 8 + [1] * 2)
    weights = balanced_class_weights(ids, 2)
    np.testing.assert_allclose(weights, [10 / 16, 10 / 4])
    np.testing.assert_allclose(weights[ids].mean(), 1.0)
    assert weights[ids][ids == 0].sum() == pytest.approx(weights[ids][ids == 1].sum())


def test_pad_right_rounds_the_length_up():
    batch = pad_right([np.array([3, 4]), np.array([5, 6, 7])], multiple=4)
    assert batch.tolist() == [[3, 4, 0, 0], [5, 6, 7, 0]]


def test_training_batches_are_right_padded_buckets_with_weights():
    sequences = [np.arange(2, 2 + n, dtype=np.int32) for n in (1, 2, 3, 9, 10, 2, 3, 1)]
    targets = np.arange(len(sequences), dtype=np.int32) % 2
    weights = np.linspace(0.5, 1.2, len(sequences)).astype(np.float32)
    dataset = training_dataset(sequences, targets, weights, batch_size=3, seed=0, bucket_width=4)
    seen = 0
    for words, labels, batch_weights in dataset:
        words = words.numpy()
        lengths = (words > 0).sum(axis=1)
        assert np.all(lengths > 0)
        for row, length in enumerate(lengths):  # right padding: no zero before a real token
            assert np.all(words[row, :length] > 0) and np.all(words[row, length:] == 0)
        assert lengths.max() - lengths.min() < 4  # one bucket per batch
        assert labels.shape == batch_weights.shape == (len(words),)
        seen += len(words)
    assert seen == len(sequences)


def test_dev_and_test_texts_seen_in_train_are_counted(tmp_path):
    train = _write(tmp_path, "a\tfree  prize now\nb\tsee you\n", "train.tsv")
    dev = _write(tmp_path, "a\tfree prize now\nb\tsee you later\n", "dev.tsv")
    test = _write(tmp_path, "b\tsee you\na\tfree prize now\n", "test.tsv")
    corpus = load_corpus(_data(train=str(train), dev=str(dev), test=str(test)))
    assert corpus.record["in_train"] == {"dev": 1, "test": 2}  # word for word, whitespace aside
