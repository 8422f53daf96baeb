"""Evaluate and predict with a trained tagger run (what recipes/evaluate.py and predict.py call)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from framework.data.corpus import convert_sentences, load_tagging_corpus, read_tagging_file, resolve_scheme
from framework.data.readers import read_tokens_and_blank_lines, write_columns
from framework.errors import DataError
from framework.evaluation.run_metrics import claim_evaluation_name, merge_into_metrics
from framework.evaluation.tagger_eval import predict_tags, to_input_scheme
from framework.run_loading import load_run
from framework.training.tagger_outputs import score_sentences

log = logging.getLogger(__name__)


def evaluate_run(run_dir: str, split: str, file: str | None = None, batch_size: int = 128) -> dict[str, Any]:
    """Score a run's best model on a split (or another file in the corpus format).

    Writes ``<split>.predictions.conll`` and merges ``<split>/...`` keys into metrics.json.
    """
    run = load_run(run_dir)
    data = run.cfg.data
    if file:
        sentences = read_tagging_file(file, data)
        scheme = resolve_scheme(data, sentences)
        name = claim_evaluation_name(split, file, run.run_dir)
    else:
        corpus = load_tagging_corpus(data)
        sentences, scheme = getattr(corpus, split), corpus.scheme
        if not sentences:
            from framework.errors import ConfigError

            raise ConfigError(f"split={split}: the run's corpus has no {split} split (set file=<path>)")
        name = split
    train_scheme = run.vocabs.train_scheme
    if file:
        sentences = convert_sentences(sentences, scheme, train_scheme)
    scores, seconds, _ = score_sentences(
        run.model, run.vocabs, sentences, train_scheme, scheme, data.task, name, batch_size,
        run.run_dir / f"{name}.predictions.conll",
    )  # fmt: skip
    speed = {f"{name}/words_per_second": scores.metrics[f"{name}/tokens"] / seconds}
    merge_into_metrics(run.run_dir, {**scores.metrics, **speed})
    return scores.metrics


def predict_file(run_dir: str, input_path: str, output_path: str, batch_size: int = 128) -> int:
    """Tag one sentence per line of ``input_path``; write ``word TAG`` lines in the corpus's scheme.

    A tagger trained with feature columns reads its input in the corpus format instead (one
    token a line, the word and feature columns where training had them; a tag column is ignored).
    """
    run = load_run(run_dir)
    features = None
    if run.vocabs.features:
        read = read_tagging_file(input_path, run.cfg.data, labeled=False)
        check_feature_values(input_path, read, run.vocabs.features, run.cfg.data.feature_columns)
        sentences, features = [list(s.words) for s in read], [s.features for s in read]
    else:
        sentences, blank = read_tokens_and_blank_lines(input_path)
        if blank:  # the output's blocks are the non-blank lines: say so, as they no longer match line numbers
            log.warning("%s: %d blank line(s) skipped; the output has one sentence per non-blank line", input_path,
                        blank)  # fmt: skip
    predicted = predict_tags(run.model, run.vocabs, sentences, batch_size, features=features)
    predicted = to_input_scheme(predicted, run.vocabs.train_scheme, run.vocabs.scheme)
    write_columns(output_path, sentences, predicted)
    return len(sentences)


def check_feature_values(path: str, sentences: list, vocabularies: tuple, columns: list[int]) -> None:
    """A DataError when a feature column's values are mostly unseen in training: the input is
    then not in the corpus format (plain text, one sentence a line, reads its second word as a
    POS tag), and tagging it would silently drop words. POS and chunk tags are closed sets, so
    real input has few unseen values."""
    for k, (vocabulary, column) in enumerate(zip(vocabularies, columns)):
        values = [value for sentence in sentences for value in sentence.features[k]]
        unseen = [value for value in values if value not in vocabulary]
        if values and len(unseen) > len(values) / 2:
            examples = ", ".join(repr(value) for value in list(dict.fromkeys(unseen))[:3])
            raise DataError(path, sentences[0].line,
                            f"feature column {column}: {len(unseen)} of {len(values)} values never occurred in "
                            f"training ({examples}); expected the corpus format the tagger was trained on, "
                            "one token a line with its feature columns")  # fmt: skip


def evaluate_tagger(run_dir: Path, settings: Any) -> dict[str, Any]:
    """recipes/evaluate.py for a tagging run."""
    return evaluate_run(str(run_dir), settings.split, settings.file, settings.batch_size)


def predict_tagger(run_dir: Path, settings: Any) -> str:
    """recipes/predict.py for a tagging run: needs input= and output=."""
    from framework.errors import ConfigError

    if not settings.input or not settings.output:
        raise ConfigError("predict for a tagger needs input=<one sentence per line> and output=<file>")
    count = predict_file(str(run_dir), settings.input, settings.output, settings.batch_size)
    return f"tagged {count} sentences -> {settings.output}"
