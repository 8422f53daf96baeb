"""Train a text classifier into a run dir: split, vocab, model, fit with selection/resume, test, report.

The same shape as :mod:`framework.training.tagger_run`, so the two tasks read alike: seeds,
bucketed tf.data batches, Keras ``fit`` with :class:`DevSelection` (best checkpoint on the
dev metric, early stopping, per-epoch backups, time limit), then the best model is reloaded
and scored on dev and test.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from framework.data.classification_pipeline import measure_padding, training_dataset
from framework.data.pipeline import cap_epoch
from framework.data.pretrained import load_vectors
from framework.data.text_classification import (VOCAB_FILE, ClassificationCorpus, Example, TextEncoder,
                                                balanced_class_weights, build_encoder, load_corpus, read_split,
                                                write_split)  # fmt: skip
from framework.environment import describe_environment
from framework.evaluation.classifier_eval import predict_probabilities, score_classification, write_predictions
from framework.io import atomic_write_json
from framework.models.classifier import build_classifier
from framework.models.cudnn import log_kernels
from framework.models.precision import precision_policy
from framework.training import checkpointing
from framework.training.fitting import fit_with_selection
from framework.training.distribution import make_strategy
from framework.training.optimizers import build_optimizer
from framework.training.resume import is_resuming
from framework.training.seeding import set_seeds

log = logging.getLogger(__name__)


def prepare_encoder(cfg: Any, corpus: ClassificationCorpus, run_dir: Path) -> TextEncoder:
    """Vocabulary and labels from train (or, when resuming, the ones saved in the run dir)."""
    path = run_dir / VOCAB_FILE
    if is_resuming(run_dir) and path.is_file():
        return TextEncoder.load(path)
    encoder = build_encoder(corpus.train, cfg.data)
    encoder.save(path)
    return encoder


def training_targets(cfg: Any, corpus: ClassificationCorpus, encoder: TextEncoder) -> tuple[np.ndarray, np.ndarray]:
    """Targets (label ids, or 0/1 floats for a sigmoid head scoring label id 1) and sample weights."""
    ids = encoder.label_ids([e.label for e in corpus.train])
    weights = np.ones(len(ids), dtype=np.float32)
    if cfg.data.class_weight == "balanced":
        per_class = balanced_class_weights(ids, len(encoder.labels))
        weights = per_class[ids].astype(np.float32)
        log.info("class weights: %s", dict(zip(encoder.labels.tokens, np.round(per_class, 3).tolist())))
    targets = (ids == 1).astype(np.float32) if cfg.model.output == "sigmoid" else ids
    return targets, weights


def _training_batches(cfg: Any, corpus: ClassificationCorpus, encoder: TextEncoder):
    """The (possibly step-capped) training dataset and its padding statistics."""
    targets, weights = training_targets(cfg, corpus, encoder)
    sequences = [encoder.encode(e.text) for e in corpus.train]
    trainer = cfg.trainer
    dataset = training_dataset(sequences, targets, weights, trainer.batch_size, seed=trainer.seed,
                               bucket_width=trainer.bucket_width, shuffle_buffer=trainer.shuffle_buffer)  # fmt: skip
    dataset, padding = cap_epoch(dataset, measure_padding(dataset), cfg.trainer.max_steps_per_epoch)
    log.info("training batches per epoch: %d, padded positions: %.1f%%", padding["batches"],
             100 * padding["padding_fraction"])  # fmt: skip
    return dataset, padding


def _build_model(cfg: Any, encoder: TextEncoder, steps: int) -> keras.Model:
    pretrained = None
    if cfg.model.embedding.pretrained:
        pretrained, found = load_vectors(cfg.model.embedding.pretrained, encoder.words, cfg.model.embedding.dim)
        log.info("pretrained vectors for %d of %d words", found, len(encoder.words))
    model = build_classifier(cfg.model, len(encoder.words), len(encoder.labels), pretrained, seed=cfg.trainer.seed)
    if cfg.model.output == "sigmoid":
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        accuracy = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)  # logit 0 = probability 0.5
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=build_optimizer(cfg.optimizer, steps, cfg.trainer.epochs), loss=loss,
                  weighted_metrics=[accuracy], jit_compile=cfg.trainer.jit_compile,
                  steps_per_execution=cfg.trainer.steps_per_execution)  # fmt: skip
    return model


def train_classifier(cfg: Any, run_dir: Path, files: dict[str, list[Example]] | None = None) -> dict[str, Any]:
    """Run one classification experiment described by ``cfg`` (plain, resolved) into ``run_dir``; ``files``:
    the corpus files already read (``read_corpus_files``), else read here."""
    run_dir.mkdir(parents=True, exist_ok=True)
    # before any TensorFlow op: MultiWorkerMirroredStrategy configures collective ops at program start
    strategy = make_strategy(cfg.trainer.strategy)
    set_seeds(cfg.trainer.seed, cfg.trainer.deterministic)
    recorded = read_split(run_dir) if is_resuming(run_dir) else None  # a resumed run keeps its split
    corpus = load_corpus(cfg.data, recorded, files)
    write_split(corpus, run_dir)
    log.info("%s: %d train / %d dev / %d test texts, per class %s", cfg.data.name, len(corpus.train),
             len(corpus.dev), len(corpus.test), corpus.record["counts"])  # fmt: skip
    if any(corpus.record["in_train"].values()):
        log.warning("%(dev)d dev and %(test)d test texts also occur in train, word for word: their scores are "
                    "optimistic (metrics.json: <split>/texts_in_train)", corpus.record["in_train"])  # fmt: skip
    encoder = prepare_encoder(cfg, corpus, run_dir)
    dataset, padding = _training_batches(cfg, corpus, encoder)
    with strategy.scope(), precision_policy(cfg.trainer.precision):
        model = _build_model(cfg, encoder, padding["batches"])
    model.predict_on_batch(next(iter(dataset))[0])  # build all weights before any restore
    kernels = log_kernels(model)
    dev_gold = encoder.label_ids([e.label for e in corpus.dev])
    dev_texts = [e.text for e in corpus.dev]

    def evaluate_dev(current: keras.Model) -> dict[str, float]:
        probs = predict_probabilities(current, encoder, dev_texts, cfg.trainer.eval_batch_size)
        scores = score_classification(dev_gold, probs, encoder, "dev", bootstrap=0).metrics
        return {key: value for key, value in scores.items() if isinstance(value, float)}

    selection, wall = fit_with_selection(model, dataset, cfg, run_dir, evaluate_dev, f"dev/{cfg.data.monitor}")
    return _finish(cfg, run_dir, model, corpus, encoder, selection, padding, kernels, wall)


def score_split(model, encoder: TextEncoder, examples, split: str, path: Path, batch_size: int):
    """Predict ``examples``, write ``path`` (gold, predicted, probability, text) and score them.

    Returns:
        (scores, seconds spent predicting).
    """
    start = time.perf_counter()
    probs = predict_probabilities(model, encoder, [e.text for e in examples], batch_size)
    seconds = time.perf_counter() - start
    gold = encoder.label_ids([e.label for e in examples])
    scores = score_classification(gold, probs, encoder, split)
    predicted = encoder.labels.decode(scores.predicted)
    write_predictions(path, [e.label for e in examples], predicted, scores.confidence, [e.text for e in examples])
    return scores, seconds


def _finish(cfg, run_dir, model, corpus, encoder, selection, padding, kernels, wall) -> dict[str, Any]:
    """Restore the best weights, score dev and test, write predictions, metrics and the report."""
    checkpointing.restore_best(model, run_dir)
    history = selection.history
    train_seconds = sum(h["train_seconds"] for h in history)
    texts = len(corpus.train) * padding["batches"] / max(padding["full_batches"], 1)  # per (capped) epoch
    metrics: dict[str, Any] = {
        "status": "ok", "task": "classification", "objective": selection.state["best"],
        "objective_name": selection.monitor, "objective_direction": "maximize", "epochs": len(history),
        "best_epoch": selection.state["best_epoch"], "train/seconds": train_seconds, "train/wall_seconds": wall,
        "train/examples_per_second": texts * len(history) / train_seconds if train_seconds else 0.0,
        "train/padding_fraction": padding["padding_fraction"], "train/examples": len(corpus.train),
        "labels": list(encoder.labels.tokens), "positive_label": encoder.positive_label,
    }  # fmt: skip
    details = {}
    for split in ("dev", "test"):
        examples = corpus.split(split)
        if examples:
            scores, seconds = score_split(model, encoder, examples, split, run_dir / f"{split}.predictions.tsv",
                                          cfg.trainer.eval_batch_size)  # fmt: skip
            metrics.update(scores.metrics)
            metrics[f"{split}/texts_in_train"] = corpus.record["in_train"][split]
            if split == "test" or not corpus.test:  # dev, scored first, timed graph tracing too
                metrics[f"{split}/examples_per_second"] = len(examples) / seconds if seconds else 0.0
            details[split] = (scores, examples)
    atomic_write_json(run_dir / "history.json", history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    from framework.reporting.classifier_report import write_classifier_report

    environment = {**describe_environment(), **{f"rnn kernel: {k}": v for k, v in kernels.items()}}
    write_classifier_report(run_dir, cfg, metrics, details, history, environment, corpus.record)
    return metrics
