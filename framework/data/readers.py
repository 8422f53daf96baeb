"""Readers for tagged corpora (CoNLL-U, CoNLL-2003/2000 and WNUT column files, plain text) and a
writer for conlleval input.

Every problem in a data file is raised as a DataError naming the file, the 1-based line and what
was expected, so a user fixes their file from one line of output instead of a traceback from deep
inside training. Files are read as bytes and decoded once: the whole 14 MB EWT train file then
reads in well under two seconds, and a bad byte is still reported at its own line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from framework.data.tagschemes import check_scheme, tag_error
from framework.errors import ConfigError, DataError
from framework.io import atomic_write_text

DOCSTART = "-DOCSTART-"
_CONLLU_TAG_COLUMNS = {"upos": 3, "xpos": 4}
_CONLLU_EXPECTED = "CoNLL-U sentences (10 tab-separated columns a word, blank line after each sentence)"
_COLUMNS_EXPECTED = "sentences of one token a line (word and tag columns, blank line between sentences)"


@dataclass(frozen=True)
class Sentence:
    """One sentence as read from a corpus.

    Attributes:
        words: The tokens, exactly as in the file (odd tokens such as emoji are kept).
        tags: One tag per word, or () for unlabeled input.
        features: Extra input columns (e.g. the POS tag of CoNLL-2000/2003), one tuple per
            configured feature column, each with one value per word; () when none are read.
        line: 1-based line of the first token, so later errors (e.g. an over-long sentence) can
            point back into the file.
    """

    words: tuple[str, ...]
    tags: tuple[str, ...]
    line: int
    features: tuple[tuple[str, ...], ...] = ()


def _read_lines(path: str | os.PathLike) -> list[str]:
    """Read a UTF-8 text file as lines without their newline (CRLF tolerated, BOM dropped).

    Raises:
        DataError: The file is missing, a directory, unreadable, or not UTF-8 (at the bad line).
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(path, None, "file not found") from None
    except IsADirectoryError:
        raise DataError(path, None, "file not found: this is a directory") from None
    except OSError as error:
        raise DataError(path, None, f"cannot read the file: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8")) + 1
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise DataError(path, line, f"not valid UTF-8 (byte 0x{byte:02x} at column {column})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text.split("\n")


def _no_sentences(path: str | os.PathLike, lines: Sequence[str], expected: str) -> DataError:
    """The error for a file without sentences: empty, or only comments / document lines."""
    if all(not line or line.isspace() for line in lines):
        return DataError(path, None, f"file is empty: expected {expected}")
    return DataError(path, None, f"file has no sentences: expected {expected}")


class _SentenceBuilder:
    """Collects the tokens of the current sentence; a blank line (or end of file) closes it."""

    def __init__(self) -> None:
        self.sentences: list[Sentence] = []
        self.words: list[str] = []
        self.tags: list[str] = []
        self.features: list[tuple[str, ...]] = []
        self.first = 0

    def add(self, number: int, word: str, tag: str | None, features: tuple[str, ...] = ()) -> None:
        """Append one token read at 1-based line ``number`` (tag None for unlabeled input)."""
        if not self.words:
            self.first = number
        self.words.append(word)
        if tag is not None:
            self.tags.append(tag)
        self.features.append(features)

    def close(self) -> None:
        """End the current sentence, if it has tokens (runs of blank lines make no empty sentences)."""
        if self.words:
            columns = tuple(zip(*self.features)) if self.features and self.features[0] else ()
            self.sentences.append(Sentence(tuple(self.words), tuple(self.tags), self.first, columns))
            self.words, self.tags, self.features = [], [], []


def _conllu_token(
    path: str | os.PathLike, number: int, line: str, tag_index: int | None, expected_id: int,
    feature_columns: Sequence[int] = (),
) -> tuple[str, str | None, tuple[str, ...]] | None:  # fmt: skip
    """Parse one CoNLL-U word line into (word, tag, features); None for multiword ranges and
    empty nodes. ``tag_index`` None reads unlabeled input (any tag field, even ``_``)."""
    fields = line.split("\t")
    if len(fields) != 10:
        raise DataError(path, number, f"expected 10 tab-separated columns (CoNLL-U), found {len(fields)}")
    ident = fields[0]
    if not (ident.isascii() and ident.isdigit()):
        for mark in "-.":  # "1-2" multiword token range, "8.1" empty node: not words to tag
            low, found, high = ident.partition(mark)
            if found and low.isascii() and low.isdigit() and high.isascii() and high.isdigit():
                return None
        raise DataError(
            path, number, f"expected an integer word ID in column 1 (or a range like 1-2 or 8.1), found {ident!r}"
        )
    if int(ident) != expected_id:
        hint = " (missing blank line before a new sentence?)" if int(ident) == 1 else ""
        raise DataError(path, number, f"expected word ID {expected_id}, found {ident}{hint}")
    word = fields[1]
    if not word:
        raise DataError(path, number, "expected a word in column 2, found an empty field")
    features = tuple(fields[index] for index in feature_columns)
    if tag_index is None:
        return word, None, features
    tag = fields[tag_index]
    if not tag or tag == "_":
        name = "a UPOS" if tag_index == 3 else "an XPOS"
        raise DataError(path, number, f"expected {name} tag in column {tag_index + 1}, found {tag!r}")
    return word, tag, features


def read_conllu(
    path: str | os.PathLike, tag_field: str | None = "upos", feature_columns: Sequence[int] = (), scheme: str = "none"
) -> list[Sentence]:
    """Read a CoNLL-U treebank (e.g. UD English EWT) as words with UPOS or XPOS tags.

    Comment lines, multiword-token ranges (``1-2``) and empty nodes (``8.1``) are skipped, since
    taggers label syntactic words; a sentence ends at a blank line or at the end of the file.

    Args:
        path: The .conllu file.
        tag_field: "upos" (column 4) or "xpos" (column 5); None reads unlabeled input.
        feature_columns: 0-based CoNLL-U columns read as extra inputs (e.g. 4 for XPOS, 3 for
            UPOS), stored in ``Sentence.features``.
        scheme: Tag scheme every tag must belong to (see tagschemes.SCHEMES); "none" accepts any.

    Returns:
        The sentences in file order.

    Raises:
        DataError: Bad column count, non-integer or out-of-order ID, empty word, ``_`` or empty
            tag, a tag not in ``scheme``, non-UTF-8 bytes, or a missing/empty file.
        ValueError: Unknown ``tag_field`` or ``scheme``.
        ConfigError: A feature column outside the 10 CoNLL-U columns.
    """
    if tag_field is not None and tag_field not in _CONLLU_TAG_COLUMNS:
        raise ValueError(f"unknown CoNLL-U tag_field {tag_field!r}: expected 'upos' or 'xpos'")
    for index in feature_columns:
        if not 0 <= index < 10:
            raise ConfigError(f"feature_columns: {index} is not one of the 10 CoNLL-U columns (0-9)")
    check_scheme(scheme)
    tag_index = None if tag_field is None else _CONLLU_TAG_COLUMNS[tag_field]
    lines = _read_lines(path)
    builder = _SentenceBuilder()
    for number, line in enumerate(lines, 1):
        if not line or line.isspace():
            builder.close()
        elif line[0] != "#":
            token = _conllu_token(path, number, line, tag_index, len(builder.words) + 1, feature_columns)
            if token is not None:
                if scheme != "none" and token[1] is not None:
                    message = tag_error(token[1], scheme)
                    if message is not None:
                        raise DataError(path, number, message)
                builder.add(number, *token)
    builder.close()
    if not builder.sentences:
        raise _no_sentences(path, lines, _CONLLU_EXPECTED)
    return builder.sentences


def _split_fields(line: str, separator: str | None) -> list[str]:
    """Split a column line: on ``separator`` if given, else on tabs when the line has one (WNUT),
    else on runs of whitespace (CoNLL-2003/2000)."""
    if separator is not None:
        return line.split(separator)
    if "\t" in line:
        return line.split("\t")
    return line.split()


def _resolve_column(path: str | os.PathLike, number: int, count: int, index: int, name: str) -> int:
    """Turn a possibly negative column index into a position, or say the line is too narrow."""
    position = index + count if index < 0 else index
    if not 0 <= position < count:
        needed = -index if index < 0 else index + 1
        raise DataError(path, number, f"expected at least {needed} columns for {name}={index}, found {count}")
    return position


def _column_layout(
    path: str | os.PathLike, number: int, count: int, word_column: int, tag_column: int | None,
    feature_columns: Sequence[int] = (),
) -> tuple[int, int | None, tuple[int, ...]]:  # fmt: skip
    """Fix the word, tag and feature positions from the first token line, which every later
    line must match."""
    word = _resolve_column(path, number, count, word_column, "word_column")
    features = tuple(_resolve_column(path, number, count, index, "feature_columns") for index in feature_columns)
    if tag_column is None:
        return word, None, features
    tag = _resolve_column(path, number, count, tag_column, "tag_column")
    if tag == word:
        raise DataError(path, number, f"expected a word column and a separate tag column, found {count} column(s)")
    if tag in features:
        raise DataError(path, number, f"expected feature columns other than the tag column {tag_column}")
    return word, tag, features


def read_columns(
    path: str | os.PathLike,
    word_column: int = 0,
    tag_column: int | None = -1,
    scheme: str = "none",
    separator: str | None = None,
    feature_columns: Sequence[int] = (),
) -> list[Sentence]:
    """Read a one-token-a-line column file (CoNLL-2003, CoNLL-2000, WNUT-17).

    ``-DOCSTART-`` lines end the current sentence and are dropped, with the empty "sentence" they
    form, so the original CoNLL-2003 files and their document-free copies read the same. Lines of
    whitespace only (WNUT-17 train separates sentences with a lone tab) are blank lines. The first
    token line fixes the column count; a later line with another count is an error, because it
    usually means a shifted or truncated file.

    Args:
        path: The column file.
        word_column: Column of the word (negative counts from the end).
        tag_column: Column of the label (negative counts from the end), or None for unlabeled input.
        scheme: Tag scheme every tag must belong to (see tagschemes.SCHEMES); "none" accepts any.
        separator: Column separator; None splits on tabs if the line has one, else on whitespace.
        feature_columns: Columns read as extra inputs (negative counts from the end), e.g. 1 for
            the POS tags of CoNLL-2000/2003, stored in ``Sentence.features``.

    Returns:
        The sentences in file order.

    Raises:
        DataError: Column count differs from the first token line, a column index outside the
            columns, an empty word, a tag not in ``scheme``, non-UTF-8 bytes, missing/empty file.
        ValueError: Unknown ``scheme``.
    """
    check_scheme(scheme)
    lines = _read_lines(path)
    builder = _SentenceBuilder()
    valid_tags: set[str] = set()  # tags already checked: one tag_error call per distinct tag
    count = first_token_line = word_at = 0
    tag_at: int | None = None
    features_at: tuple[int, ...] = ()
    for number, line in enumerate(lines, 1):
        fields = None if not line or line.isspace() else _split_fields(line, separator)
        if fields is None or fields[0] == DOCSTART:
            builder.close()
            continue
        if not count:
            count, first_token_line = len(fields), number
            word_at, tag_at, features_at = _column_layout(path, number, count, word_column, tag_column, feature_columns)
        elif len(fields) != count:
            raise DataError(path, number, f"expected {count} columns like line {first_token_line}, found {len(fields)}")
        word = fields[word_at]
        if not word:
            raise DataError(path, number, f"expected a word in column {word_at + 1}, found an empty field")
        tag = None if tag_at is None else fields[tag_at]
        if tag is not None and tag not in valid_tags:
            message = tag_error(tag, scheme)
            if message is not None:
                raise DataError(path, number, message)
            valid_tags.add(tag)
        builder.add(number, word, tag, tuple(fields[index] for index in features_at))
    builder.close()
    if not builder.sentences:
        raise _no_sentences(path, lines, _COLUMNS_EXPECTED)
    return builder.sentences


def read_tokens_and_blank_lines(path: str | os.PathLike) -> tuple[list[list[str]], int]:
    """Read plain text for prediction: one sentence a line, tokens separated by whitespace; and
    how many blank lines were skipped, from one read of the file.

    Blank (or whitespace-only) lines are skipped rather than kept as empty sentences, because a
    tagger has nothing to predict for them; the output then no longer matches the input line by
    line, which the caller says.

    Raises:
        DataError: Missing file, non-UTF-8 bytes (at their line), or no tokens at all.
    """
    lines = _read_lines(path)
    if lines and lines[-1] == "":
        lines = lines[:-1]  # what follows the final newline is no line
    tokenized = [line.split() for line in lines]
    sentences = [tokens for tokens in tokenized if tokens]
    if not sentences:
        raise DataError(path, None, "file is empty: expected sentences of whitespace-separated tokens, one a line")
    return sentences, len(tokenized) - len(sentences)


_WHITESPACE = re.compile(r"\s")


def _check_field(field: str, separator: str, sentence: int, token: int) -> None:
    """Refuse a field that would not read back as one column (conlleval splits on any whitespace)."""
    splits = any(mark.isspace() for mark in field) if separator.isspace() else separator in field
    if not field or splits or "\n" in field or "\r" in field:
        raise ValueError(
            f"sentence {sentence}, token {token}: field {field!r} is empty or contains the separator "
            "or a line break, so the file would not read back"
        )


def write_columns(
    path: str | os.PathLike,
    words_per_sentence: Sequence[Sequence[str]],
    *columns_per_sentence: Sequence[Sequence[str]],
    separator: str = " ",
) -> None:
    """Write sentences one token a line (``word col1 col2 ...``), a blank line after each sentence.

    Used for conlleval input (``word gold predicted``) and prediction output; written atomically so
    an interrupted run never leaves a half-written file that a scorer would silently accept. With a
    whitespace separator, whitespace inside a word (CoNLL-U and tab-separated files allow ``New
    York``) is written as ``_``, so that the line still splits into its columns.

    Args:
        path: The output file.
        words_per_sentence: The words of each sentence.
        *columns_per_sentence: Further columns, each with one value per word of every sentence.
        separator: Column separator.

    Raises:
        ValueError: Column lengths disagree with the words, a sentence is empty (a blank line could
            not mark it), or a field is empty or contains the separator or a line break.
    """
    for column, values in enumerate(columns_per_sentence, 1):
        if len(values) != len(words_per_sentence):
            raise ValueError(f"column {column} has {len(values)} sentences, the words have {len(words_per_sentence)}")
    parts: list[str] = []
    for index, words in enumerate(words_per_sentence):
        columns = [values[index] for values in columns_per_sentence]
        if not words:
            raise ValueError(f"sentence {index} has no tokens: a blank line cannot mark an empty sentence")
        for column, values in enumerate(columns, 1):
            if len(values) != len(words):
                raise ValueError(f"sentence {index}: column {column} has {len(values)} values for {len(words)} words")
        if separator.isspace():
            words = [_WHITESPACE.sub("_", word) for word in words]
        for token, row in enumerate(zip(words, *columns)):
            for field in row:
                _check_field(field, separator, index, token)
            parts.append(separator.join(row))
            parts.append("\n")
        parts.append("\n")
    atomic_write_text(path, "".join(parts))
