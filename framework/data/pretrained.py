"""Pretrained word vectors from a word2vec/GloVe text file, aligned to a vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from framework.data.vocab import Vocabulary
from framework.errors import DataError


def load_vectors(path: str, vocab: Vocabulary, dim: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """A [len(vocab), dim] matrix: pretrained rows where the word (or its lowercase) is in ``path``.

    Words without a vector get small random rows; padding gets zeros. Accepts GloVe (no header)
    and word2vec text (a first line ``count dim``). Returns the matrix and how many words were found.
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
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
            except UnicodeDecodeError as err:
                raise DataError(path, number, f"not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
            parts = line.rstrip(" ").split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) != dim + 1:
                raise DataError(path, number, f"expected a word and {dim} numbers, found {len(parts) - 1} numbers")
            word = parts[0]
            targets = [word] if word in vocab else lowered.get(word.lower(), [])
            for token in targets:
                index = vocab.id(token)
                if index not in found or token == word:
                    try:
                        matrix[index] = np.asarray(parts[1:], dtype="float32")
                    except ValueError:
                        raise DataError(path, number, "expected numbers after the word") from None
                    found.add(index)
    return matrix, len(found)
