"""Labelled texts for classification: TSV/CSV readers, a stratified split, tokens and ids.

A corpus is either one file, split here into train/dev/test with a seeded split stratified by
label (the split is written to the run dir as ``split.json`` so it can be audited and
re-created), or one file per split. Every input problem is a :class:`DataError` naming the
file and the 1-based line, because a 5,000-line file is otherwise hard to fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.text_files import decode_utf8
from framework.data.vocab import Vocabulary
from framework.errors import ConfigError, DataError
from framework.io import atomic_write_json

SPLITS = ("train", "dev", "test")
SPLIT_FILE = "split.json"
VOCAB_FILE = "vocab.json"


@dataclass(frozen=True)
class Example:
    """One labelled text and where it came from (``line`` is 1-based, the row's first line)."""

    label: str
    text: str
    line: int


@dataclass(frozen=True)
class ClassificationCorpus:
    """Train/dev/test examples plus the split record that ``split.json`` stores."""

    train: list[Example]
    dev: list[Example]
    test: list[Example]
    record: dict = field(default_factory=dict)

    def split(self, name: str) -> list[Example]:
        return getattr(self, name)


def _tsv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) per line; blank lines at the very end of the file are ignored."""
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, start=1):
        yield number, line.removesuffix("\r").split("\t")


def _csv_rows(text: str, path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) per CSV record; quoted fields may span lines.

    Strict quoting: without it an unclosed quote silently swallows the rest of the file into one
    field. A runaway quoted field (never closed, or past csv's field size limit) is reported at
    the line of the record it starts in; other quoting errors at the line where they occur.
    """
    reader = csv.reader(io.StringIO(text.rstrip("\r\n"), newline=""), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            message = str(err)
            if message.startswith("unexpected end of data"):
                unclosed = 'unclosed quote: expected a closing " before the end of the file'
                raise DataError(path, start, unclosed) from None
            if message.startswith("field larger than field limit"):
                raise DataError(path, start, f"a field is longer than {csv.field_size_limit()} characters, "
                                             "the csv module's limit (an unclosed quote?)") from None  # fmt: skip
            hint = ' (a quote inside a quoted field is written "")' if "expected after" in message else ""
            raise DataError(path, reader.line_num, f"not valid CSV: {message}{hint}") from None
        yield start, row  # a blank line inside the file is [] and fails the field count
        start = reader.line_num + 1


def read_examples(
    path: str | Path,
    *,
    format: str = "tsv",
    header: bool = False,
    columns: int = 2,
    label_column: int = 0,
    text_column: int = 1,
    labels: Sequence[str] | None = None,
) -> list[Example]:
    """Read ``label<TAB>text`` lines (tsv) or CSV records into examples.

    Args:
        path: the file.
        format: "tsv" (no quoting, one example a line) or "csv" (RFC 4180 quoting).
        header: whether the first row is a header to skip.
        columns: the number of fields every row must have.
        label_column, text_column: 0-based field indices.
        labels: the allowed labels; None accepts any non-empty label.

    Raises:
        DataError: missing or empty file, non-UTF-8 byte, wrong field count, empty label or
            text, a label not in ``labels``, or no examples at all; with file and line.
    """
    if format not in ("tsv", "csv"):
        raise ConfigError(f"data.format: expected tsv or csv, got {format!r}")
    for name, index in (("label_column", label_column), ("text_column", text_column)):
        if not 0 <= index < columns:
            raise ConfigError(f"data.{name}={index} is outside the {columns} columns (0-based)")
    text = decode_utf8(path)
    rows = _tsv_rows(text) if format == "tsv" else _csv_rows(text, path)
    allowed = set(labels) if labels is not None else None
    examples = []
    for number, fields in rows:
        if header and not examples and number == 1:
            continue
        examples.append(_example(path, number, fields, columns, label_column, text_column, allowed, format))
    if not examples:
        raise DataError(path, None, "no examples (only a header?)")
    return examples


def _example(path, number, fields, columns, label_column, text_column, allowed, format) -> Example:
    """Check one row and turn it into an Example (the checks of ``read_examples``)."""
    if len(fields) != columns:
        shape = "label<TAB>text" if format == "tsv" and columns == 2 else f"{columns} fields"
        raise DataError(path, number, f"expected {columns} fields ({shape}), found {len(fields)}")
    label, text = fields[label_column].strip(), fields[text_column]
    if not label:
        raise DataError(path, number, "empty label")
    if not text.strip():
        raise DataError(path, number, "empty text")
    if allowed is not None and label not in allowed:
        raise DataError(path, number, f"label {label!r} is not one of the configured labels {sorted(allowed)}")
    return Example(label, text, number)


def stratified_split(
    labels: Sequence[str], fractions: Sequence[float], seed: int
) -> list[list[int]]:
    """Indices of train, dev and test: each label's examples are split in the same proportions.

    Each class is shuffled with one seeded generator (classes in sorted order) and cut at
    ``round(n * fraction)`` for dev and test, the rest going to train, so every class keeps
    its share in every split (rounded per class). Indices come back sorted (file order).
    """
    fractions = [float(f) for f in fractions]
    if len(fractions) != 3 or min(fractions) < 0 or fractions[0] <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ConfigError(f"data: train/dev/test fractions must be >= 0 (train > 0) and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    for label in sorted(by_label):
        members = np.array(by_label[label])
        rng.shuffle(members)
        n_dev, n_test = (int(round(len(members) * f)) for f in fractions[1:])
        n_dev = min(n_dev, len(members) - 1)  # every class keeps at least one training example
        n_test = min(n_test, len(members) - 1 - n_dev)
        parts[1].extend(members[:n_dev].tolist())
        parts[2].extend(members[n_dev : n_dev + n_test].tolist())
        parts[0].extend(members[n_dev + n_test :].tolist())
    return [sorted(part) for part in parts]


def _read(path: str, data: Any) -> list[Example]:
    return read_examples(path, format=data.format, header=data.header, columns=data.columns,
                         label_column=data.label_column, text_column=data.text_column,
                         labels=list(data.labels) if data.labels else None)  # fmt: skip


NO_CORPUS = "data: set data.file (one corpus file, split here) or data.train (+ dev, test)"


def read_corpus_files(data: Any) -> dict[str, list[Example]]:
    """Every file a ClassificationDataConfig names, read and checked, by path: the training recipe
    reads them before it imports TensorFlow, so a bad file is refused in a second; ``load_corpus``
    then splits them (a resumed run by the split its run dir recorded)."""
    paths = [data.train, data.dev, data.test] if data.train else [data.file]
    if not any(paths):
        raise ConfigError(NO_CORPUS)
    return {path: _read(path, data) for path in paths if path}


def load_corpus(data: Any, recorded: dict | None = None, files: dict[str, list[Example]] | None = None
                ) -> ClassificationCorpus:  # fmt: skip
    """The corpus of a ClassificationDataConfig: per-split files, or one file split here.

    Args:
        data: the (plain) data config.
        recorded: a run's ``split.json``; when given, a single file is split by its recorded
            line numbers instead of by the seed, so evaluation sees exactly the run's test set.
        files: the files already read (``read_corpus_files``); any other is read here.
    """

    def read(path: str) -> list[Example]:
        return files[path] if files and path in files else _read(path, data)

    if data.train:
        splits = {name: read(path) if path else [] for name, path in
                  (("train", data.train), ("dev", data.dev), ("test", data.test))}  # fmt: skip
        record = {"mode": "files", "files": {name: getattr(data, name) for name in SPLITS}}
    elif data.file:
        examples = read(data.file)
        digest = hashlib.sha256(Path(data.file).read_bytes()).hexdigest()
        if recorded and recorded.get("mode") == "stratified":
            splits = _recorded_splits(data.file, examples, recorded, digest)
        else:
            fractions = (data.train_fraction, data.dev_fraction, data.test_fraction)
            parts = stratified_split([e.label for e in examples], fractions, data.split_seed)
            splits = {name: [examples[i] for i in part] for name, part in zip(SPLITS, parts)}
        fractions = {"train": data.train_fraction, "dev": data.dev_fraction, "test": data.test_fraction}
        record = {"mode": "stratified", "file": data.file, "sha256": digest, "seed": data.split_seed,
                  "fractions": fractions}  # fmt: skip
    else:
        raise ConfigError(NO_CORPUS)
    if not splits["dev"]:
        raise ConfigError("data: model selection needs a dev split (set data.dev or data.dev_fraction > 0)")
    _check_labels_seen(splits, data)
    record["counts"] = {name: dict(sorted(Counter(e.label for e in splits[name]).items())) for name in SPLITS}
    record["lines"] = {name: [e.line for e in splits[name]] for name in SPLITS}
    record["in_train"] = texts_in_train(splits)
    return ClassificationCorpus(splits["train"], splits["dev"], splits["test"], record)


def _recorded_splits(path: str, examples: list[Example], recorded: dict, digest: str) -> dict[str, list[Example]]:
    """The splits by the line numbers a run recorded, from the same file: an edited file would
    put other lines (training lines, even) under the recorded test numbers."""
    if recorded.get("sha256", digest) != digest:
        raise DataError(path, None, "changed since the run recorded its split in split.json (sha256 differs); "
                                    "restore the file the run was trained on, or score another with "
                                    "file=<path>")  # fmt: skip
    by_line = {example.line: example for example in examples}
    for name in SPLITS:
        missing = [n for n in recorded["lines"][name] if n not in by_line]
        if missing:
            raise DataError(path, missing[0], f"split.json puts this line in {name}, but it holds no example")
    return {name: [by_line[n] for n in recorded["lines"][name]] for name in SPLITS}


def texts_in_train(splits: dict[str, list[Example]]) -> dict[str, int]:
    """How many dev and test texts occur word for word in train (SMS spam has dozens): their
    scores measure memory as much as generalisation, so the run says how many there are."""
    train = {" ".join(e.text.split()) for e in splits["train"]}
    return {name: sum(" ".join(e.text.split()) in train for e in splits[name]) for name in ("dev", "test")}


def _check_labels_seen(splits: dict[str, list[Example]], data: Any) -> None:
    """A dev/test label never seen in train can never be predicted: name its first line."""
    seen = {e.label for e in splits["train"]}
    for name in ("dev", "test"):
        for example in splits[name]:
            if example.label not in seen:
                path = getattr(data, name) or data.file
                raise DataError(path, example.line, f"label {example.label!r} does not occur in the training split")


def write_split(corpus: ClassificationCorpus, run_dir: Path) -> Path:
    """Write ``split.json``: how the corpus was split, counts per class per split, line numbers."""
    path = Path(run_dir) / SPLIT_FILE
    atomic_write_json(path, corpus.record)
    return path


def read_split(run_dir: Path) -> dict | None:
    """A run's ``split.json``, or None when it has none."""
    path = Path(run_dir) / SPLIT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@dataclass(frozen=True)
class TextEncoder:
    """Tokeniser, word vocabulary and label set of a classifier, saved as ``vocab.json``.

    Word id 0 is padding and 1 the unknown word; label ids index the model's outputs.
    """

    words: Vocabulary
    labels: Vocabulary
    positive_label: str | None = None
    lowercase: bool = True
    token_pattern: str = r"\w+"
    max_length: int = 100

    def __post_init__(self):
        object.__setattr__(self, "_regex", re.compile(self.token_pattern))

    def tokenize(self, text: str) -> list[str]:
        """Regex tokens of ``text`` (lowercased when configured), cut to ``max_length``."""
        return self._regex.findall(text.lower() if self.lowercase else text)[: self.max_length]

    def encode(self, text: str) -> np.ndarray:
        """Word ids [T]; a text with no tokens becomes one <unk>, as a zero-length row would
        be all padding (which breaks cuDNN's right-padding check and has no final state)."""
        ids = self.words.encode(self.tokenize(text))
        return np.asarray(ids or [self.words.unk_id], dtype=np.int32)

    def label_ids(self, labels: Sequence[str]) -> np.ndarray:
        return np.asarray([self.labels.id(label) for label in labels], dtype=np.int32)

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, {"words": self.words.to_dict(), "labels": self.labels.to_dict(),
                                 "positive_label": self.positive_label, "lowercase": self.lowercase,
                                 "token_pattern": self.token_pattern, "max_length": self.max_length})  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> "TextEncoder":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(Vocabulary.from_dict(data["words"]), Vocabulary.from_dict(data["labels"]),
                   data["positive_label"], bool(data["lowercase"]), data["token_pattern"],
                   int(data["max_length"]))  # fmt: skip


def build_encoder(train: Sequence[Example], data: Any) -> TextEncoder:
    """Vocabulary and label set from the training split only (min_freq, max_vocab)."""
    try:
        re.compile(data.token_pattern)
    except re.error as err:
        raise ConfigError(f"data.token_pattern: not a valid regex ({err})") from None
    probe = TextEncoder(Vocabulary(()), Vocabulary((), specials=False), None, data.lowercase,
                        data.token_pattern, data.max_length)  # fmt: skip
    words = Vocabulary.build((t for e in train for t in probe.tokenize(e.text)), min_freq=data.min_freq,
                             max_size=data.max_vocab)  # fmt: skip
    counts = Counter(e.label for e in train)
    names = list(data.labels) if data.labels else sorted(counts)
    if len(names) < 2:
        raise DataError(data.train or data.file, None, f"a classifier needs at least 2 labels, found {names}")
    positive = data.positive_label
    if positive is not None and positive not in names:
        raise ConfigError(f"data.positive_label={positive!r} is not one of the labels {names}")
    if positive is None and len(names) == 2:
        positive = min(reversed(names), key=lambda name: counts[name])  # the rarer; a tie picks the second
    return TextEncoder(words, Vocabulary(tuple(names), specials=False), positive, data.lowercase,
                       data.token_pattern, data.max_length)  # fmt: skip


def balanced_class_weights(label_ids: np.ndarray, num_labels: int) -> np.ndarray:
    """Weight per class ``n / (num_labels * n_class)``: each class adds the same total weight
    and the mean weight over the training set stays 1 (so the learning rate means the same)."""
    counts = np.bincount(label_ids, minlength=num_labels).astype(np.float64)
    return np.where(counts > 0, len(label_ids) / (num_labels * np.maximum(counts, 1)), 0.0)


def pad_right(sequences: Sequence[np.ndarray], multiple: int = 1) -> np.ndarray:
    """[B, T] int32 with each row left-aligned and zero (padding) after its end.

    ``multiple`` rounds T up so a compiled predict function sees few distinct shapes.
    """
    length = max(len(s) for s in sequences)
    length = -(-length // multiple) * multiple
    batch = np.zeros((len(sequences), length), dtype=np.int32)
    for row, ids in enumerate(sequences):
        batch[row, : len(ids)] = ids
    return batch
