"""Tests for framework.data.text_corpus: reading, held-out split, tokenisers, vocabulary, windows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from framework.data.text_corpus import (
    EOL,
    CharTokenizer,
    LMVocab,
    SentencePieceTokenizer,
    WordTokenizer,
    build_lm_vocab,
    evaluation_chunks,
    hold_out_tail,
    load_text_corpus,
    make_windows,
    read_text_lines,
    token_stream,
    train_sentencepiece,
)
from framework.errors import ConfigError, DataError

POE = Path(__file__).resolve().parents[2] / "samples" / "poetry" / "edgar_allan_poe.txt"
VERSE = [
    "Once upon a midnight dreary, while I pondered, weak and weary,",
    "Over many a quaint and curious volume of forgotten lore—",
    "",
    "While I nodded, nearly napping, suddenly there came a tapping,",
    "As of some one gently rapping, rapping at my chamber door.",
]


def _file(tmp_path: Path, data: str | bytes, name: str = "poems.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _data(path: Path, **overrides) -> SimpleNamespace:
    settings = dict(name="toy", train=str(path), dev=None, test=None, dev_fraction=0.25, tokenizer="word",
                    lowercase=True, split_punctuation=True, min_freq=1, max_vocab=None, piece_model="unigram",
                    vocab_size=60, bptt=5)  # fmt: skip
    settings.update(overrides)
    return SimpleNamespace(**settings)


# ------------------------------------------------------------------------------------- reading
def test_whitespace_only_lines_are_blank_and_runs_collapse(tmp_path):
    path = _file(tmp_path, "\n\u2009\u2009\nA line\n \t\n\u2009\n\nB line  \n\n")
    assert read_text_lines(path) == ["A line", "", "B line"]


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found") as info:
        read_text_lines(tmp_path / "nope.txt")
    assert info.value.line is None


def test_empty_and_blank_only_files_are_data_errors(tmp_path):
    for text in ("", "\n\u2009\n  \n"):
        with pytest.raises(DataError, match="file is empty") as info:
            read_text_lines(_file(tmp_path, text))
        assert str(info.value).startswith(str(tmp_path / "poems.txt") + ": ")


def test_non_utf8_byte_names_file_and_line(tmp_path):
    path = _file(tmp_path, b"first line\nsecond line\nbad \xff byte\n")
    with pytest.raises(DataError) as info:
        read_text_lines(path)
    assert str(info.value) == f"{path}:3: not valid UTF-8 (byte 0xff at column 5)"


def test_hold_out_tail_takes_the_last_lines_without_a_leading_blank():
    lines = [f"line {i}" for i in range(8)] + ["", "line 8", "line 9"]
    train, dev = hold_out_tail(lines, 0.3, "x.txt")
    assert dev == ["line 8", "line 9"]  # the tail minus the stanza break at the cut
    assert train == [f"line {i}" for i in range(8)]


def test_hold_out_tail_rejects_bad_fractions_and_tiny_files():
    with pytest.raises(ConfigError, match="dev_fraction"):
        hold_out_tail(["a", "b"], 0.0, "x.txt")
    with pytest.raises(DataError, match="too few"):
        hold_out_tail(["only one line"], 0.1, "x.txt")


def test_load_text_corpus_uses_a_dev_file_when_given(tmp_path):
    train = _file(tmp_path, "\n".join(VERSE), "train.txt")
    dev = _file(tmp_path, "a dev line\n", "dev.txt")
    corpus = load_text_corpus(_data(train, dev=str(dev), test=str(dev)))
    assert corpus.train == VERSE and corpus.dev == ["a dev line"] and corpus.test == ["a dev line"]


def test_shipped_poe_split_holds_out_the_last_tenth():
    corpus = load_text_corpus(_data(POE, dev_fraction=0.1))
    lines = read_text_lines(POE)
    assert corpus.train == lines[: len(corpus.train)]
    assert corpus.dev == lines[-len(corpus.dev) :]
    assert 70 <= len(corpus.dev) <= 81
    assert not any("\u2009" in line for line in lines)


# ---------------------------------------------------------------------------------- tokenisers
def test_word_tokenizer_lowercases_splits_punctuation_and_keeps_inner_marks():
    tokens = WordTokenizer(lowercase=True).tokenize_line("LO! Death hath rear'd a Time-eaten throne,")
    assert tokens == ["lo", "!", "death", "hath", "rear'd", "a", "time-eaten", "throne", ","]
    assert WordTokenizer(lowercase=False, split_punctuation=False).tokenize_line("LO! Death,") == ["LO!", "Death,"]


def test_word_tokenizer_marks_line_ends_and_decodes_them_as_newlines():
    tokenizer = WordTokenizer(lowercase=True)
    tokens = tokenizer.encode_lines(["The woods are lovely, dark and deep.", "", "But I have promises"])
    assert tokens.count(EOL) == 3 and tokens[-1] == EOL
    assert tokenizer.decode(tokens) == "the woods are lovely, dark and deep.\n\nbut i have promises\n"


def test_char_tokenizer_uses_newline_as_end_of_line():
    tokenizer = CharTokenizer(lowercase=False)
    tokens = tokenizer.encode_lines(["Ab", "c"])
    assert tokens == ["A", "b", "\n", "c", "\n"]
    assert tokenizer.decode(tokens) == "Ab\nc\n"


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_sentencepiece_round_trip_on_a_tiny_corpus(model_type):
    proto = train_sentencepiece(VERSE * 3, vocab_size=80, model_type=model_type, lowercase=False)
    tokenizer = SentencePieceTokenizer(proto, lowercase=False)
    assert 8 <= tokenizer.processor.get_piece_size() <= 80
    tokens = tokenizer.encode_lines(VERSE)
    assert tokens.count(EOL) == len(VERSE)
    assert tokenizer.decode(tokens) == "\n".join(VERSE) + "\n"


def test_sentencepiece_is_trained_on_train_only_and_reloaded_from_the_run_dir(tmp_path):
    train = _file(tmp_path, "\n".join(VERSE * 4 + ["zyzzyx jujube"]), "train.txt")
    data = _data(train, tokenizer="sentencepiece", dev_fraction=0.05)
    corpus = load_text_corpus(data)
    assert corpus.dev == ["zyzzyx jujube"]
    vocab = build_lm_vocab(data, corpus.train)
    pieces = "".join(vocab.vocab.tokens)
    assert not set("zxj") & set(pieces)  # dev-only characters never reached the model
    vocab.save(tmp_path)
    again = LMVocab.load(tmp_path)
    assert (tmp_path / "sentencepiece.model").is_file()
    assert again.vocab == vocab.vocab
    np.testing.assert_array_equal(again.encode_lines(corpus.train), vocab.encode_lines(corpus.train))
    assert again.decode_ids(again.encode_lines(VERSE[:2])) == "\n".join(VERSE[:2]).lower() + "\n"


def test_sentencepiece_vocab_size_is_checked():
    with pytest.raises(ConfigError, match="vocab_size"):
        train_sentencepiece(VERSE, vocab_size=2, model_type="unigram", lowercase=True)


# ---------------------------------------------------------------------------------- vocabulary
def test_vocab_comes_from_train_only_and_round_trips(tmp_path):
    vocab = build_lm_vocab(_data(tmp_path / "unused"), ["the raven", "the door"])
    assert vocab.vocab.tokens[:2] == ("<pad>", "<unk>") and EOL in vocab.vocab
    ids = vocab.encode_lines(["the lenore"])
    assert list(vocab.vocab.decode(ids)) == ["the", "<unk>", EOL]
    vocab.save(tmp_path)
    assert LMVocab.load(tmp_path).vocab == vocab.vocab


def test_prompt_ids_start_a_line_and_leave_the_last_line_open():
    vocab = build_lm_vocab(_data(Path("x")), ["the woods are dark"])
    assert vocab.vocab.decode(vocab.encode_prompt("the woods")) == [EOL, "the", "woods"]
    assert vocab.vocab.decode(vocab.encode_prompt("")) == [EOL]
    assert vocab.vocab.decode(vocab.encode_prompt("dark\n")) == [EOL, "dark", EOL]


# ------------------------------------------------------------------------------------- windows
def test_windows_shift_targets_by_one_and_pad_the_tail():
    inputs, targets = make_windows(np.arange(1, 13, dtype=np.int32), bptt=5)
    np.testing.assert_array_equal(inputs, [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 0, 0, 0, 0]])
    np.testing.assert_array_equal(targets, [[2, 3, 4, 5, 6], [7, 8, 9, 10, 11], [12, 0, 0, 0, 0]])


def test_evaluation_chunks_score_every_target_once_in_order():
    stream = np.arange(1, 40, dtype=np.int32)
    chunks = evaluation_chunks(stream, streams=3, bptt=4)
    inputs = np.concatenate([c[0] for c in chunks], axis=1)
    targets = np.concatenate([c[1] for c in chunks], axis=1)
    real = targets != 0
    assert sorted(targets[real].tolist()) == list(range(2, 40))
    np.testing.assert_array_equal(targets[real] - 1, inputs[real])  # each target follows its input
    for row in targets:  # contiguous text per row, so carried state is the true left context
        kept = row[row != 0]
        np.testing.assert_array_equal(np.diff(kept), np.ones(len(kept) - 1))


def test_token_stream_starts_with_an_end_of_line_context():
    vocab = build_lm_vocab(_data(Path("x")), ["a b"])
    stream = token_stream(vocab, ["a b"])
    assert stream[0] == vocab.eol_id and list(vocab.vocab.decode(stream[1:])) == ["a", "b", EOL]
