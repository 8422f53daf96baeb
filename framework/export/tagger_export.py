"""A trained tagger as a TensorFlow SavedModel that tags raw tokens: recipes/export.py.

The exported ``serve`` function takes ``tokens`` [B, T] strings, right-padded with "" (and, for a
tagger trained with ``data.feature_columns``, ``features`` [B, T, F] strings), and returns ``tags``
[B, T] in the corpus's tag scheme ("" at padding), as predict.py writes them, with the vocabularies,
the casing classes, the CRF's Viterbi decoding and the scheme conversion inside the graph.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tensorflow as tf

from framework.data.readers import read_columns
from framework.export.savedmodel import (describe, predictions_file, refuse_disagreement, refuse_mismatches,
                                         start_export, write_savedmodel)  # fmt: skip
from framework.export.string_features import casing_ids, char_ids, lookup_table, lowercase, mismatches
from framework.export.tag_schemes import tag_strings
from framework.run_loading import load_run

log = logging.getLogger(__name__)


class TaggerServer:
    """The tables and the function an export archive tracks and serves."""

    def __init__(self, model, vocabs):
        self.model, self.vocabs = model, vocabs
        self.words = lookup_table(vocabs.words)
        self.chars = lookup_table(vocabs.chars)
        self.features = [lookup_table(vocabulary) for vocabulary in vocabs.features]

    def resources(self) -> list:
        return [self.words, self.chars, *self.features]

    def input_signature(self) -> list[tf.TensorSpec]:
        tokens = tf.TensorSpec([None, None], tf.string, name="tokens")
        if not self.vocabs.features:
            return [tokens]
        return [tokens, tf.TensorSpec([None, None, len(self.vocabs.features)], tf.string, name="features")]

    def inputs(self, tokens: tf.Tensor, features: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """The model's id inputs, as ``framework.data.batching`` encodes a sentence."""
        vocabs = self.vocabs
        mask = tf.strings.length(tokens) > 0
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, tf.shape(tokens)[1])))
        tf.debugging.Assert(right_padded, ["tokens: an empty string is padding, and padding must come after a "
                                           "sentence's tokens (right-padded)"])  # fmt: skip
        words = lowercase(tokens) if vocabs.lowercase else tokens
        columns = [table.lookup(features[:, :, k]) for k, table in enumerate(self.features)]
        if vocabs.casing:
            columns.append(casing_ids(tokens))
        shape = tf.shape(tokens)
        stacked = tf.stack(columns, axis=-1) if columns else tf.zeros(tf.concat([shape, [0]], 0), tf.int32)
        return {
            "words": tf.where(mask, self.words.lookup(words), 0),
            "chars": char_ids(tokens, self.chars, vocabs.max_word_length),
            "features": tf.where(mask[:, :, None], stacked, 0),
        }

    def endpoints(self) -> list:
        return [("serve", self.serve, self.input_signature())]

    def check(self, loaded, run_dir: Path) -> dict[str, Any] | None:
        checked = check_against_predictions(loaded.serve, run_dir, self.vocabs)
        if checked:
            refuse_disagreement(run_dir / checked["file"], checked["same_tags"], checked["tokens"],
                                "tags only {same} of {total} tokens as this file says the run did")  # fmt: skip
        return checked

    def serve(self, tokens: tf.Tensor, features: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        inputs = self.inputs(tokens, features)
        mask = tf.not_equal(inputs["words"], 0)
        ids = self.model.decode(self.model(inputs, training=False), mask)
        tags = tag_strings(ids, mask, self.vocabs.tags.tokens, self.vocabs.train_scheme, self.vocabs.scheme)
        return {"tags": tags}


def serve_sentences(
    serve, sentences: Sequence[Sequence[str]], features: Sequence[Sequence[Sequence[str]]] | None = None,
    batch_size: int = 128,
) -> list[list[str]]:  # fmt: skip
    """Tags from an export's ``serve`` for every sentence (``features``: each sentence's feature columns,
    ``Sentence.features``), in length-sorted, right-padded batches; a tag served at padding is an error."""
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    tags: list[list[str]] = [[] for _ in sentences]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        width = max(len(sentences[i]) for i in chunk)
        padding = [[""] * (width - len(sentences[i])) for i in chunk]
        args = [tf.constant([list(sentences[i]) + pad for i, pad in zip(chunk, padding)])]
        if features is not None:
            args.append(tf.constant([[list(token) for token in zip(*features[i])] + [[""] * len(features[i])] * len(pad)
                                     for i, pad in zip(chunk, padding)]))  # fmt: skip
        served = serve(*args)["tags"].numpy()
        for row, i in enumerate(chunk):
            if any(served[row, len(sentences[i]) :]):
                raise ValueError(f"serve: a tag at the padding of sentence {i}")
            tags[i] = [tag.decode("utf-8") for tag in served[row, : len(sentences[i])]]
    return tags


def check_against_predictions(serve, run_dir: Path, vocabs) -> dict[str, Any] | None:
    """The exported tags of the words of the run's test (else dev) predictions file, counted against the
    tags training wrote there with the same model. None where there is no such file, or where the tagger
    reads feature columns, which that file does not hold."""
    path = predictions_file(run_dir, ".conll")
    if path is None or vocabs.features:
        return None
    sentences = read_columns(path, word_column=0, tag_column=2, separator=" ")
    start = time.perf_counter()
    served = serve_sentences(serve, [s.words for s in sentences])
    seconds = time.perf_counter() - start  # length-sorted batches of 128 sentences
    same = sum(a == b for s, tags in zip(sentences, served) for a, b in zip(s.tags, tags))
    tokens = sum(len(s.words) for s in sentences)
    return {"file": path.name, "sentences": len(sentences), "tokens": tokens, "same_tags": same,
            "words_per_second": round(tokens / seconds, 1)}  # fmt: skip


def manifest(run_dir: Path, vocabs) -> dict[str, Any]:
    """What a server needs to know to call the export, written beside saved_model.pb."""
    inputs = {"tokens": "string [batch, tokens], one token per cell, right-padded with empty strings"}
    if vocabs.features:
        inputs["features"] = (f"string [batch, tokens, {len(vocabs.features)}], the feature columns of every token "
                              "(the corpus's columns the tagger was trained on, in that order)")  # fmt: skip
    outputs = {"tags": f"string [batch, tokens], tags in the {vocabs.scheme} scheme, empty at padding"}
    return describe("tagging", run_dir, inputs, outputs, tag_scheme=vocabs.scheme, tags=list(vocabs.tags.tokens),
                    lowercase=vocabs.lowercase, casing=vocabs.casing)  # fmt: skip


def export_tagger(run_dir: Path, settings: Any) -> str:
    """recipes/export.py for a tagging run."""
    output = start_export(run_dir, settings)
    run = load_run(run_dir)
    refuse_mismatches(mismatches(run.vocabs), "lowercases or classifies")
    server = TaggerServer(run.model, run.vocabs)
    checked = write_savedmodel(server, output, manifest(run.run_dir, run.vocabs))
    if checked is None:
        verdict = "not checked: no predictions file to check it against" + (
            " that holds the feature columns" if run.vocabs.features else "")
    else:
        verdict = (f"checked: {checked['same_tags']} of {checked['tokens']} tokens of {checked['file']} "
                   "tagged as the run tagged them")  # fmt: skip
        if checked["same_tags"] < checked["tokens"]:
            log.warning("the export tags %d token(s) of %s otherwise than the run (other padding, float near-ties)",
                        checked["tokens"] - checked["same_tags"], checked["file"])  # fmt: skip
    return (f"exported {run_dir} -> {output}: SavedModel, serve(tokens) -> tags in the {run.vocabs.scheme} "
            f"scheme; {verdict}")
