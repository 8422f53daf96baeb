"""Evaluate and predict with a trained classifier run (what recipes/evaluate.py and predict.py call)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from framework.data.text_classification import (VOCAB_FILE, TextEncoder, decode_utf8, load_corpus, read_examples,
                                                read_split)  # fmt: skip
from framework.errors import ConfigError
from framework.evaluation.classifier_eval import predict_probabilities, write_predictions
from framework.evaluation.run_metrics import claim_evaluation_name, merge_into_metrics
from framework.run_loading import require_run_files


@dataclass
class ClassifierRun:
    """Everything evaluate/predict need from a run dir."""

    run_dir: Path
    cfg: Any
    encoder: TextEncoder
    model: Any


def load_classifier_run(run_dir: str | Path) -> ClassifierRun:
    """Load config.yaml, vocab.json and model.keras; a missing piece is a one-line DataError."""
    import framework.models.classifier  # noqa: F401 - registers the custom layers for load_model
    from framework.models.precision import load_model

    run_dir = require_run_files(run_dir, {VOCAB_FILE: "the vocabulary and labels"})
    cfg = OmegaConf.load(run_dir / "config.yaml")
    encoder = TextEncoder.load(run_dir / VOCAB_FILE)
    return ClassifierRun(run_dir, cfg, encoder, load_model(run_dir / "model.keras"))


def _examples_to_score(run: ClassifierRun, split: str, file: str | None):
    """(name, examples): another file in the corpus format, or a split of the run's own corpus.

    The run's ``split.json`` fixes which lines form each split, so evaluation scores exactly
    the examples the run was tested on.
    """
    data = run.cfg.data
    if file:
        examples = read_examples(file, format=data.format, header=data.header, columns=data.columns,
                                 label_column=data.label_column, text_column=data.text_column,
                                 labels=list(run.encoder.labels.tokens))  # fmt: skip
        return claim_evaluation_name(split, file, run.run_dir), examples
    examples = load_corpus(data, read_split(run.run_dir)).split(split)
    if not examples:
        raise ConfigError(f"split={split}: the run's corpus has no {split} split (set file=<path>)")
    return split, examples


def evaluate_classifier(run_dir: Path, settings: Any) -> dict[str, Any]:
    """recipes/evaluate.py for a classification run: writes ``<split>.predictions.tsv`` and
    merges the ``<split>/...`` scores into metrics.json."""
    from framework.training.classifier_run import score_split

    run = load_classifier_run(run_dir)
    name, examples = _examples_to_score(run, settings.split, settings.file)
    scores, seconds = score_split(run.model, run.encoder, examples, name, run.run_dir / f"{name}.predictions.tsv",
                                  settings.batch_size)  # fmt: skip
    speed = {f"{name}/examples_per_second": len(examples) / seconds if seconds else 0.0}
    merge_into_metrics(run.run_dir, {**scores.metrics, **speed})
    return scores.metrics


def read_texts(path: str | Path) -> list[str]:
    """One text a line (UTF-8), blank lines included: they get a blank output line, so that the
    output lines up with the input."""
    texts = [line.removesuffix("\r") for line in decode_utf8(path).split("\n")]
    return texts[:-1] if texts and texts[-1] == "" else texts


def predict_classifier(run_dir: Path, settings: Any) -> str:
    """recipes/predict.py for a classifier: ``input=`` one text a line, ``output=`` one
    ``label<TAB>probability<TAB>text`` line per text."""
    if not settings.input or not settings.output:
        raise ConfigError("predict for a classifier needs input=<one text per line> and output=<file>")
    run = load_classifier_run(run_dir)
    texts = read_texts(settings.input)
    scored = [i for i, text in enumerate(texts) if text.strip()]
    probs = predict_probabilities(run.model, run.encoder, [texts[i] for i in scored], settings.batch_size)
    labels, confidence = [""] * len(texts), np.zeros(len(texts))
    for i, label, probability in zip(scored, run.encoder.labels.decode(probs.argmax(axis=1)), probs.max(axis=1)):
        labels[i], confidence[i] = label, probability
    write_predictions(Path(settings.output), None, labels, confidence, texts)
    blank = len(texts) - len(scored)
    return f"classified {len(scored)} texts{f' ({blank} blank lines left blank)' if blank else ''} -> {settings.output}"
