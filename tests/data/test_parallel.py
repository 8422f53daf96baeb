"""Parallel corpora: aligned files and TSV, every bad input as a one-line error, and the batches."""

from __future__ import annotations

import re

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.parallel import (capped_epoch, filter_by_length, load_parallel_corpus, pad_sources, read_aligned,
                                     read_tsv, training_dataset)  # fmt: skip
from framework.errors import ConfigError, DataError


def _write(path, content: str | bytes):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _pair(tmp_path, source: str | bytes, target: str | bytes):
    return _write(tmp_path / "x.en", source), _write(tmp_path / "x.de", target)


def test_aligned_files_keep_raw_sentences(tmp_path):
    src, tgt = _pair(tmp_path, "\ufeffA dog runs.\r\nTwo  cats.\n", "Ein Hund rennt.\nZwei Katzen.")
    split = read_aligned(src, tgt)
    assert split.sources == ["A dog runs.", "Two  cats."]  # BOM and CR dropped, spacing kept
    assert split.targets == ["Ein Hund rennt.", "Zwei Katzen."]  # no final newline needed
    assert len(split) == 2 and split.head(1).sources == ["A dog runs."] and split.head(None) is split


def test_mismatched_line_counts_name_both_files_both_counts_and_the_line(tmp_path):
    src, tgt = _pair(tmp_path, "a\nb\nc\n", "x\ny\n")
    with pytest.raises(DataError) as caught:
        read_aligned(src, tgt)
    message = str(caught.value)
    assert message.startswith(f"{src}:3: ")
    assert f"{src} has 3 lines but {tgt} has 2" in message and "line-aligned" in message
    with pytest.raises(DataError, match=re.escape(f"{tgt}:3: no aligned line")):
        read_aligned(*_pair(tmp_path, "a\nb\n", "x\ny\nz\nw\n"))


@pytest.mark.parametrize("side", ["source", "target"])
def test_an_empty_side_names_its_file_and_line(tmp_path, side):
    lines = ["one", "two", "three"]
    blank = [*lines[:1], "   ", *lines[2:]]
    src, tgt = _pair(tmp_path, "\n".join(blank if side == "source" else lines) + "\n",
                     "\n".join(blank if side == "target" else lines) + "\n")  # fmt: skip
    empty, other = (src, tgt) if side == "source" else (tgt, src)
    with pytest.raises(DataError) as caught:
        read_aligned(src, tgt)
    assert str(caught.value) == f"{empty}:2: empty sentence (its translation on line 2 of {other} is 'two')"


def test_non_utf8_missing_and_empty_files(tmp_path):
    src, tgt = _pair(tmp_path, b"fine\nnot \xe9 utf8\n", "a\nb\n")
    with pytest.raises(DataError, match=re.escape(f"{src}:2: not UTF-8: byte 0xe9 at column 5")):
        read_aligned(src, tgt)
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'none.de'}: file not found")):
        read_aligned(tgt, tmp_path / "none.de")
    empty = _write(tmp_path / "empty.de", "\n\n")
    with pytest.raises(DataError, match=re.escape(f"{empty}: file is empty")):
        read_aligned(tgt, empty)


def test_tsv_pairs_and_errors(tmp_path):
    good = _write(tmp_path / "good.tsv", "A dog.\tEin Hund.\nA cat.\tEine Katze.\n")
    split = read_tsv(good)
    assert (split.sources, split.targets) == (["A dog.", "A cat."], ["Ein Hund.", "Eine Katze."])
    cases = {
        "A dog.\tEin Hund.\nno tab here\n": "2: expected 2 tab-separated fields (source<TAB>target), found 1",
        "a\tb\tc\n": "1: expected 2 tab-separated fields (source<TAB>target), found 3",
        "a\tb\n \tb\n": "2: empty source side",
        "a\tb\na\t\n": "2: empty target side",
    }
    for content, expected in cases.items():
        path = _write(tmp_path / "bad.tsv", content)
        with pytest.raises(DataError) as caught:
            read_tsv(path)
        assert str(caught.value) == f"{path}:{expected}"


def _data(**overrides):
    settings = {"source": "files", "format": "text", "max_train_pairs": None, **{f"{split}_{side}": None
                for split in ("train", "dev", "test") for side in ("src", "tgt")}, "train": None, "dev": None,
                "test": None, **overrides}  # fmt: skip
    return OmegaConf.create(settings)


def test_load_corpus_from_aligned_files_or_tsv(tmp_path):
    src, tgt = _pair(tmp_path, "a\nb\nc\n", "x\ny\nz\n")
    corpus = load_parallel_corpus(_data(train_src=str(src), train_tgt=str(tgt), dev_src=str(src), dev_tgt=str(tgt),
                                        max_train_pairs=2))  # fmt: skip
    assert corpus.train.sources == ["a", "b"] and len(corpus.dev) == 3 and len(corpus.test) == 0
    tsv = _write(tmp_path / "all.tsv", "a\tx\nb\ty\n")
    corpus = load_parallel_corpus(_data(format="tsv", train=str(tsv), dev=str(tsv), test=str(tsv)))
    assert corpus.test.targets == ["x", "y"]
    with pytest.raises(ConfigError, match="data.dev_tgt: no file given, but its other side is set"):
        load_parallel_corpus(_data(train_src=str(src), train_tgt=str(tgt), dev_src=str(src)))
    with pytest.raises(ConfigError, match="data.dev_src and data.dev_tgt: a translator needs a dev split"):
        load_parallel_corpus(_data(train_src=str(src), train_tgt=str(tgt)))
    with pytest.raises(ConfigError, match="data.train: a translator needs a train split"):
        load_parallel_corpus(_data(format="tsv", dev=str(tsv)))


def _ids(*lengths):
    return [np.arange(3, 3 + n, dtype=np.int32) for n in lengths]


def test_length_filter_keeps_pairs_within_the_limit_on_both_sides():
    sources, targets, dropped = filter_by_length(_ids(3, 9, 4, 2), _ids(3, 2, 6, 5), 5)
    assert [len(s) for s in sources] == [3, 2] and [len(t) for t in targets] == [3, 5] and dropped == 2
    with pytest.raises(ConfigError, match="data.max_length"):
        filter_by_length(_ids(1), _ids(1), 0)


def test_training_batches_are_right_padded_with_bos_and_eos_in_place():
    sources, targets = _ids(2, 3, 7, 8), _ids(4, 3, 6, 9)
    dataset = training_dataset(sources, targets, batch_size=2, seed=0, bucket_width=5, shuffle=False)
    batches = [(inputs["source"].numpy(), inputs["target_in"].numpy(), out.numpy()) for inputs, out in dataset]
    assert len(batches) == 2
    seen = 0
    for source, target_in, target_out in batches:
        assert source.shape[0] == 2 and target_in.shape == target_out.shape
        for row in range(2):
            n_src = int(np.count_nonzero(source[row]))
            assert source[row, n_src - 1] == 2 and np.all(source[row, n_src:] == 0)  # EOS then right padding
            n_tgt = int(np.count_nonzero(target_out[row]))
            assert target_in[row, 0] == 1 and target_out[row, n_tgt - 1] == 2  # BOS in, EOS out
            np.testing.assert_array_equal(target_in[row, 1:n_tgt], target_out[row, : n_tgt - 1])
            seen += 1
    assert seen == 4
    # bucketing: the two short pairs share a batch, the two long ones the other
    assert sorted(b[0].shape[1] for b in batches) == [4, 9]
    capped, stats = capped_epoch(dataset, 1)
    assert stats["full_batches"] == 2 and stats["batches"] == 1 and len(list(capped)) == 1
    assert 0.0 <= stats["padding_fraction"] < 1.0


def test_pad_sources_closes_each_source_with_eos():
    batch = pad_sources(_ids(2, 0, 3))
    np.testing.assert_array_equal(batch, [[3, 4, 2, 0], [2, 0, 0, 0], [3, 4, 5, 2]])
