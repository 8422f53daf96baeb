"""Pretrained word vectors from a word2vec/GloVe text file, aligned to a vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from framework.data.vocab import Vocabulary
from framework.errors import DataError


def load_vectors(path: str, vocab: Vocabulary, dim: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """A [len(vocab), dim] matrix: pretrained rows where the word (or its lowercase) is in ``path``.

    Words without a vector get small random rows; padding gets zeros. Accepts GloVe (no header)
    and word2vec text (a first line ``count dim``). A line is a word and ``dim`` numbers separated
    by single spaces; the word is everything before the last ``dim`` fields, since some files have
    words with spaces in them (glove.840B.300d has ``. . .``). The first vector line must have
    exactly ``dim`` numbers, so a file of another dimension is refused there (and at a word2vec
    header) rather than read as words with numbers in them. Blank lines are skipped. Returns the
    matrix and how many words were found.

    Raises:
        DataError: missing file, a file with no vectors, a header or first vector of another
            dimension, a line with fewer than ``dim`` numbers, a non-number in a vector that is
            used, or a byte that is not UTF-8; with the file and line.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(path, None, "file not found (model.embedding.pretrained)")
    rng = np.random.default_rng(seed)
    scale = np.sqrt(3.0 / dim)
    matrix = rng.uniform(-scale, scale, (len(vocab), dim)).astype("float32")
    matrix[0] = 0.0
    found: set[int] = set()
    lowered = {}
    for token in vocab.tokens:
        lowered.setdefault(token.lower(), []).append(token)
    vectors, header = 0, False
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
            except UnicodeDecodeError as err:
                raise DataError(path, number, f"not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            parts = line.rstrip(" ").split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                if int(parts[1]) != dim:  # word2vec header: count dim
                    raise DataError(path, number, f"the word2vec header says {parts[1]} numbers a vector, "
                                                  f"expected {dim} (model.embedding.dim)")  # fmt: skip
                header = True
                continue
            if len(parts) < dim + 1 or (not vectors and len(parts) > dim + 1 and _is_number(parts[-dim - 1])):
                raise DataError(path, number, f"expected a word and {dim} numbers, found {len(parts) - 1} numbers")
            vectors += 1
            word = " ".join(parts[:-dim])
            targets = [word] if word in vocab else lowered.get(word.lower(), [])
            for token in targets:
                index = vocab.id(token)
                if index not in found or token == word:
                    try:
                        matrix[index] = np.asarray(parts[-dim:], dtype="float32")
                    except ValueError:
                        raise DataError(path, number, "expected numbers after the word") from None
                    found.add(index)
    if not vectors:
        what = "no vectors after the word2vec header" if header else "file is empty"
        raise DataError(path, None, f"{what}: expected lines of a word and {dim} numbers (model.embedding.pretrained)")
    return matrix, len(found)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
