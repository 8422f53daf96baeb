"""A trained text classifier as a TensorFlow SavedModel that classifies raw texts: recipes/export.py.

The exported ``serve`` function takes ``texts`` [B] strings and returns ``labels`` [B] strings and
``probabilities`` [B, labels] (in the order of the manifest's ``labels``), as predict.py computes them:
the lowercasing, the ``data.token_pattern`` tokenizer (as RE2, token_pattern.py), the cut at
``data.max_length``, the vocabulary and the softmax or sigmoid are inside the graph. ``tokenize`` returns
the tokens the classifier reads ([B, T], right-padded with ""), for a server to show or check.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from framework.classification_tasks import load_classifier_run
from framework.data.text_classification import TextEncoder
from framework.errors import ConfigError, DataError
from framework.export.savedmodel import (describe, predictions_file, refuse_disagreement, refuse_mismatches,
                                         start_export, write_savedmodel)  # fmt: skip
from framework.export.string_features import lookup_table, lowercase, lowercase_mismatches, planes_0_and_1
from framework.export.token_pattern import UntranslatablePattern, compile_pattern, findall

log = logging.getLogger(__name__)

PREDICTIONS_HEADER = "gold\tpredicted\tprobability\ttext"


class ClassifierServer:
    """The table and the functions an export archive tracks and serves."""

    def __init__(self, model, encoder: TextEncoder):
        self.model, self.encoder = model, encoder
        self.output = model.get_config().get("output", "softmax")
        self.words = lookup_table(encoder.words)
        try:
            self.pattern = compile_pattern(encoder.token_pattern)
        except UntranslatablePattern as err:
            raise ConfigError(f"export: data.token_pattern {encoder.token_pattern!r} cannot be exported: "
                              f"{err}; nothing was exported") from None  # fmt: skip

    def resources(self) -> list:
        return [self.words]

    def endpoints(self) -> list:
        texts = [tf.TensorSpec([None], tf.string, name="texts")]
        return [("serve", self.serve, texts), ("tokenize", self.tokenize, texts)]

    def tokens(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """``TextEncoder.tokenize`` of every text: [B, (tokens)]."""
        # ICU would lowercase a byte that is not UTF-8 to U+FFFD, and read a text only up to a NUL: refused
        checked = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0)
        tf.debugging.Assert(tf.reduce_all(~tf.strings.regex_full_match(checked, "(?s).*\x00.*")),
                            ["texts: a text is not UTF-8 or holds U+0000 (NUL), which this export cannot read"])
        found = findall(lowercase(texts) if self.encoder.lowercase else texts, self.pattern)
        return found[:, : self.encoder.max_length]

    def tokenize(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"tokens": self.tokens(texts).to_tensor("")}

    def serve(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        tokens = self.tokens(texts)
        ids = tf.ragged.map_flat_values(self.words.lookup, tokens).to_tensor(0)
        width = tf.maximum(tf.shape(ids)[1], 1)
        ids = tf.pad(ids, [[0, 0], [0, width - tf.shape(ids)[1]]])
        # a text with no token is one <unk>, as TextEncoder.encode makes it
        none = tf.expand_dims(tokens.row_lengths() == 0, 1) & tf.expand_dims(tf.range(width) == 0, 0)
        logits = self.model(tf.where(none, 1, ids), training=False)
        if self.output == "sigmoid":  # the one logit scores label id 1, as framework.models.classifier.probabilities
            positive = tf.sigmoid(logits[:, 0])
            probabilities = tf.stack([1.0 - positive, positive], axis=1)
        else:
            probabilities = tf.nn.softmax(logits, axis=-1)
        labels = tf.gather(tf.constant(list(self.encoder.labels.tokens)), tf.argmax(probabilities, axis=1))
        return {"labels": labels, "probabilities": probabilities}

    def check(self, loaded, run_dir: Path) -> dict[str, Any] | None:
        checked = check_against_predictions(loaded, run_dir, self.encoder)
        if checked:
            refuse_disagreement(run_dir / checked["file"], checked["same_labels"], checked["texts"],
                                "gives only {same} of {total} texts the label this file says the run gave")  # fmt: skip
        return checked


def read_predictions(path: Path) -> list[tuple[int, str, float, str]]:
    """(line number, predicted label, its probability, text) of a scored ``<split>.predictions.tsv``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if not lines or lines[0] != PREDICTIONS_HEADER:
        raise DataError(path, 1, f"expected the header {PREDICTIONS_HEADER!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t", 3)
        try:
            rows.append((number, fields[1], float(fields[2]), fields[3]))
        except (IndexError, ValueError):
            raise DataError(path, number, "expected gold<TAB>predicted<TAB>probability<TAB>text") from None
    return rows


def _batches(texts: list[str], batch_size: int):
    """(indices, [B] string tensor) batches of texts of similar length."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        yield chunk, tf.constant([texts[i] for i in chunk])


def serve_texts(loaded, texts: list[str], batch_size: int = 128) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities from an export's ``serve`` for every text."""
    labels, probabilities = [""] * len(texts), np.zeros((len(texts), 0))
    for chunk, batch in _batches(texts, batch_size):
        served = loaded.serve(batch)
        if not probabilities.size:
            probabilities = np.zeros((len(texts), served["probabilities"].shape[1]))
        probabilities[chunk] = served["probabilities"].numpy()
        for row, i in enumerate(chunk):
            labels[i] = served["labels"][row].numpy().decode("utf-8")
    return labels, probabilities


def tokenize_texts(loaded, texts: list[str], batch_size: int = 128) -> list[list[str]]:
    """Tokens from an export's ``tokenize`` for every text."""
    tokens: list[list[str]] = [[] for _ in texts]
    for chunk, batch in _batches(texts, batch_size):
        for row, served in zip(chunk, loaded.tokenize(batch)["tokens"].numpy()):
            tokens[row] = [token.decode("utf-8") for token in served if token]
    return tokens


def check_against_predictions(loaded, run_dir: Path, encoder: TextEncoder) -> dict[str, Any] | None:
    """The exported labels of the texts of the run's test (else dev) predictions file, counted against the
    labels training wrote there with the same model; and the exported tokens of every text, which must be
    the run's tokenizer's. None where the run has no such file, or it holds no text."""
    path = predictions_file(run_dir, ".tsv")
    if path is None:
        return None
    rows = read_predictions(path)
    if not rows:
        return None
    texts = [text for *_, text in rows]
    loaded.serve(tf.constant(texts[:1]))  # the first call sets the graph up: not timed
    start = time.perf_counter()
    labels, probabilities = serve_texts(loaded, texts)
    seconds = time.perf_counter() - start  # length-sorted batches of 128 texts
    for (number, *_, text), served in zip(rows, tokenize_texts(loaded, texts)):
        expected = encoder.tokenize(text)
        if served != expected:
            first = next(i for i, pair in enumerate(zip(served + [None], expected + [None])) if pair[0] != pair[1])
            raise DataError(path, number, f"the exported tokenizer splits this text otherwise than the run's "
                                          f"(token {first + 1}: {served[first:first + 1]} where the run has "
                                          f"{expected[first:first + 1]}); nothing was exported")  # fmt: skip
    same = [label == row[1] for label, row in zip(labels, rows)]
    column = {label: k for k, label in enumerate(encoder.labels.tokens)}
    differences = [abs(probabilities[i, column[row[1]]] - row[2]) for i, row in enumerate(rows) if same[i]]
    return {"file": path.name, "texts": len(rows), "same_labels": sum(same), "same_tokens": len(rows),
            "max_probability_difference": round(float(max(differences, default=0.0)), 6),
            "texts_per_second": round(len(rows) / seconds, 1) if seconds else None}  # fmt: skip


def tokenizer_mismatches(server: ClassifierServer) -> list[str]:
    """Code points of Unicode's planes 0 and 1 that the graph's tokenizer, alone or between two letters,
    splits otherwise than ``TextEncoder.tokenize``: checked at export, for this TensorFlow and this Python."""
    chars = planes_0_and_1()
    texts = [*chars, *(f"a{char}a" for char in chars)]
    served = server.tokens(tf.constant(texts)).to_list()
    tokenize = server.encoder.tokenize
    wrong = {text for text, tokens in zip(texts, served) if [t.decode("utf-8") for t in tokens] != tokenize(text)}
    return [f"U+{ord(char):04X}" for char in chars if char in wrong or f"a{char}a" in wrong]


def manifest(run_dir: Path, encoder: TextEncoder) -> dict[str, Any]:
    labels = list(encoder.labels.tokens)
    return describe(
        "classification", run_dir,
        {"texts": "string [batch], one text each"},
        {"labels": "string [batch], the most probable label of each text",
         "probabilities": f"float32 [batch, {len(labels)}], each label's probability, in the order of labels"},
        labels=labels, positive_label=encoder.positive_label, lowercase=encoder.lowercase,
        token_pattern=encoder.token_pattern, max_length=encoder.max_length,
        tokenize="tokenize(texts) -> tokens: string [batch, tokens], the tokens the classifier reads, "
                 "right-padded with empty strings",
    )  # fmt: skip


def export_classifier(run_dir: Path, settings: Any) -> str:
    """recipes/export.py for a classification run."""
    output = start_export(run_dir, settings)
    run = load_classifier_run(run_dir)
    server = ClassifierServer(run.model, run.encoder)
    wrong = set(tokenizer_mismatches(server)) | set(lowercase_mismatches() if run.encoder.lowercase else ())
    refuse_mismatches(sorted(wrong, key=lambda name: int(name[2:], 16)), "tokenizes or lowercases")
    checked = write_savedmodel(server, output, manifest(run.run_dir, run.encoder))
    if checked is None:
        verdict = "not checked: no predictions file to check it against"
    else:
        verdict = (f"checked: {checked['same_labels']} of {checked['texts']} texts of {checked['file']} labelled "
                   f"as the run labelled them, every text's tokens the run's")  # fmt: skip
        if checked["same_labels"] < checked["texts"]:
            log.warning("the export labels %d text(s) of %s otherwise than the run (other padding, float near-ties)",
                        checked["texts"] - checked["same_labels"], checked["file"])  # fmt: skip
    return f"exported {run_dir} -> {output}: SavedModel, serve(texts) -> labels, probabilities; {verdict}"
