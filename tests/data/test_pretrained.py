"""Tests for framework.data.pretrained.load_vectors: GloVe and word2vec text files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framework.data.pretrained import load_vectors
from framework.data.vocab import Vocabulary
from framework.errors import DataError

VOCAB = Vocabulary(("<pad>", "<unk>", "the", "Paris", "paris", "Berlin", "unseen"))

ROWS = {
    "the": [0.1, 0.2, 0.3],
    "paris": [1.0, 1.5, -2.0],
    "Paris": [4.0, 5.0, 6.0],
    "berlin": [-1.0, 0.0, 0.25],
    "elsewhere": [9.0, 9.0, 9.0],
}


def _write(path: Path, rows: dict[str, list[float]], header: bool = False) -> Path:
    lines = [f"{len(rows)} 3"] if header else []
    lines += [" ".join([word, *map(str, values)]) for word, values in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("header", [False, True], ids=["glove", "word2vec"])
def test_rows_are_copied_with_lowercase_fallback(tmp_path, header):
    path = _write(tmp_path / "vectors.txt", ROWS, header)
    matrix, found = load_vectors(str(path), VOCAB, 3)
    assert matrix.shape == (len(VOCAB), 3) and matrix.dtype == np.float32
    assert not matrix[0].any(), "the padding row is zero"
    np.testing.assert_array_equal(matrix[VOCAB.id("the")], np.float32(ROWS["the"]))
    np.testing.assert_array_equal(matrix[VOCAB.id("paris")], np.float32(ROWS["paris"]))
    # an exact match wins over the lowercase fallback, whichever comes first in the file
    np.testing.assert_array_equal(matrix[VOCAB.id("Paris")], np.float32(ROWS["Paris"]))
    np.testing.assert_array_equal(matrix[VOCAB.id("Berlin")], np.float32(ROWS["berlin"]))  # via lowercase
    assert found == 4  # the, Paris, paris, Berlin; not <unk> or "unseen"
    bound = np.sqrt(3.0 / 3)
    for token in ("<unk>", "unseen"):
        row = matrix[VOCAB.id(token)]
        assert row.any() and (np.abs(row) <= bound).all(), "missing words get small random rows"


def test_random_rows_are_seeded(tmp_path):
    path = _write(tmp_path / "vectors.txt", {"the": [1.0, 2.0, 3.0]})
    first, _ = load_vectors(str(path), VOCAB, 3, seed=7)
    again, _ = load_vectors(str(path), VOCAB, 3, seed=7)
    other, _ = load_vectors(str(path), VOCAB, 3, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[VOCAB.id("unseen")], other[VOCAB.id("unseen")])


def test_trailing_space_and_crlf_are_tolerated(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_bytes(b"the 1 2 3 \r\nBerlin 4 5 6\r\n")
    matrix, found = load_vectors(str(path), VOCAB, 3)
    assert found == 2
    np.testing.assert_array_equal(matrix[VOCAB.id("the")], [1, 2, 3])
    np.testing.assert_array_equal(matrix[VOCAB.id("Berlin")], [4, 5, 6])


def test_row_with_the_wrong_dimension_names_file_and_line(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("2 3\nthe 0.1 0.2 0.3\nparis 1 2\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_vectors(str(path), VOCAB, 3)
    assert info.value.line == 3
    assert str(info.value) == f"{path}:3: expected a word and 3 numbers, found 2 numbers"


def test_dimension_mismatch_on_the_first_row_of_a_glove_file(tmp_path):
    path = _write(tmp_path / "vectors.txt", {"the": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(DataError, match=r"vectors\.txt:1: expected a word and 3 numbers, found 4 numbers"):
        load_vectors(str(path), VOCAB, 3)


def test_non_numeric_value_and_bad_bytes(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("the 0.1 x 0.3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"vectors\.txt:1: expected numbers after the word"):
        load_vectors(str(path), VOCAB, 3)
    path.write_bytes(b"the 1 2 3\n\xff 1 2 3\n")
    with pytest.raises(DataError, match=r"vectors\.txt:2: not valid UTF-8"):
        load_vectors(str(path), VOCAB, 3)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_vectors(str(tmp_path / "nope.txt"), VOCAB, 3)


def test_words_with_spaces_take_all_but_the_last_dim_fields(tmp_path):
    """glove.840B.300d has words such as ". . ." followed by its 300 numbers."""
    vocab = Vocabulary(("<pad>", "<unk>", "the", ". . .", "at name@domain.com"))
    path = tmp_path / "vectors.txt"
    path.write_text("the 1 2 3\n. . . 4 5 6\nat name@domain.com -1 0 1 \n", encoding="utf-8")
    matrix, found = load_vectors(str(path), vocab, 3)
    assert found == 3
    np.testing.assert_array_equal(matrix[vocab.id(". . .")], [4, 5, 6])
    np.testing.assert_array_equal(matrix[vocab.id("at name@domain.com")], [-1, 0, 1])
    path.write_text("the 1 2 3\n. . . 4 x 6\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"vectors\.txt:2: expected numbers after the word"):
        load_vectors(str(path), vocab, 3)


def test_a_first_vector_of_another_dimension_is_still_refused(tmp_path):
    """A file of 4-dimensional vectors read as 3: not the word "the 0.1" with three numbers."""
    path = tmp_path / "vectors.txt"
    path.write_text("the 0.1 0.2 0.3 0.4\n. . . 1 2 3 4\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"vectors\.txt:1: expected a word and 3 numbers, found 4 numbers"):
        load_vectors(str(path), VOCAB, 3)
    path.write_text("2 4\nthe 0.1 0.2 0.3 0.4\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_vectors(str(path), VOCAB, 3)
    assert str(info.value) == f"{path}:1: the word2vec header says 4 numbers a vector, expected 3 (model.embedding.dim)"


def test_a_bom_before_the_word2vec_header_or_the_first_word_is_dropped(tmp_path):
    path = tmp_path / "vectors.txt"
    for text in ("1 3\nthe 1 2 3\n", "the 1 2 3\n"):
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        matrix, found = load_vectors(str(path), VOCAB, 3)
        assert found == 1
        np.testing.assert_array_equal(matrix[VOCAB.id("the")], [1, 2, 3])


@pytest.mark.parametrize(("content", "what"), [(b"", "file is empty"), (b"\xef\xbb\xbf\n\n", "file is empty"),
                                               (b"0 3\n", "no vectors after the word2vec header")])  # fmt: skip
def test_a_file_without_vectors_is_a_data_error(tmp_path, content, what):
    path = tmp_path / "vectors.txt"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_vectors(str(path), VOCAB, 3)
    assert str(info.value) == f"{path}: {what}: expected lines of a word and 3 numbers (model.embedding.pretrained)"
