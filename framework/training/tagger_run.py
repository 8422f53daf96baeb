"""Train a tagger into a run dir: data, vocab, model, fit with selection/resume, test, report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keras

from framework.data.batching import encode
from framework.data.corpus import TaggingCorpus, load_tagging_corpus
from framework.data.pipeline import cap_epoch, measure_padding, training_dataset
from framework.data.pretrained import load_vectors
from framework.data.vocab import TaggerVocabs, build_tagger_vocabs
from framework.environment import describe_environment
from framework.evaluation.tagger_eval import headline_metric, predict_tags, score_tagging, to_input_scheme
from framework.io import atomic_write_json
from framework.models.build import build_tagger
from framework.models.cudnn import log_kernels
from framework.models.precision import precision_policy
from framework.training import checkpointing
from framework.training.distribution import make_strategy
from framework.training.fitting import fit_with_selection
from framework.training.optimizers import build_optimizer
from framework.training.resume import is_resuming
from framework.training.seeding import set_seeds
from framework.training.tagger_outputs import write_split_outputs

log = logging.getLogger(__name__)

VOCAB_FILE = "vocab.json"


def prepare_vocabs(cfg: Any, corpus: TaggingCorpus, run_dir: Path) -> TaggerVocabs:
    """Vocabularies from train (or, when resuming, the ones saved in the run dir)."""
    path = run_dir / VOCAB_FILE
    if is_resuming(run_dir) and path.is_file():
        return TaggerVocabs.load(path)
    vocabs = build_tagger_vocabs(
        [s.words for s in corpus.train],
        [s.tags for s in corpus.train],
        lowercase=cfg.data.lowercase,
        min_freq=cfg.data.min_freq,
        max_word_length=cfg.data.max_word_length,
        scheme=corpus.scheme,
        train_scheme=corpus.train_scheme,
        sentences_features=[s.features for s in corpus.train],
        casing=cfg.data.casing,
    )
    vocabs.save(path)
    return vocabs


def _build_model(cfg: Any, vocabs: TaggerVocabs, corpus: TaggingCorpus, steps: int) -> keras.Model:
    pretrained = None
    if cfg.model.embedding.pretrained:
        pretrained, found = load_vectors(cfg.model.embedding.pretrained, vocabs.words, cfg.model.embedding.dim)
        log.info("pretrained vectors for %d of %d words", found, len(vocabs.words))
    model = build_tagger(cfg.model, vocabs, corpus.train_scheme, pretrained, seed=cfg.trainer.seed)
    model.compile(
        optimizer=build_optimizer(cfg.optimizer, steps, cfg.trainer.epochs),
        jit_compile=cfg.trainer.jit_compile,
        steps_per_execution=cfg.trainer.steps_per_execution,
    )
    return model


def train_tagger(cfg: Any, run_dir: Path, corpus: TaggingCorpus | None = None) -> dict[str, Any]:
    """Run one tagging experiment described by ``cfg`` (plain, resolved) into ``run_dir``; ``corpus``:
    the data already read (``read_local_tagging_corpus``), else read here."""
    run_dir.mkdir(parents=True, exist_ok=True)
    # before any TensorFlow op: MultiWorkerMirroredStrategy configures collective ops at program start
    strategy = make_strategy(cfg.trainer.strategy)
    set_seeds(cfg.trainer.seed, cfg.trainer.deterministic)
    corpus = corpus if corpus is not None else load_tagging_corpus(cfg.data)
    log.info("%s: %d train / %d dev / %d test sentences, scheme %s (trained as %s)", cfg.data.name,
             len(corpus.train), len(corpus.dev), len(corpus.test), corpus.scheme, corpus.train_scheme)  # fmt: skip
    vocabs = prepare_vocabs(cfg, corpus, run_dir)
    train_items = [encode(s.words, vocabs, s.tags, s.features) for s in corpus.train]
    dataset = training_dataset(train_items, cfg.trainer.batch_size, seed=cfg.trainer.seed,
                               bucket_width=cfg.trainer.bucket_width, shuffle_buffer=cfg.trainer.shuffle_buffer)  # fmt: skip
    dataset, padding = cap_epoch(dataset, measure_padding(dataset), cfg.trainer.max_steps_per_epoch)
    log.info("training batches per epoch: %d, padded positions: %.1f%%", padding["batches"],
             100 * padding["padding_fraction"])  # fmt: skip
    with strategy.scope(), precision_policy(cfg.trainer.precision):
        model = _build_model(cfg, vocabs, corpus, padding["batches"])
    model.predict_on_batch(next(iter(dataset))[0])  # build all weights before any restore
    kernels = log_kernels(model)
    monitor = f"dev/{headline_metric(cfg.data.task)}"
    selection, wall = fit_with_selection(
        model, dataset, cfg, run_dir, lambda m: _dev_metrics(m, vocabs, corpus, cfg), monitor
    )
    return _finish(cfg, run_dir, model, corpus, vocabs, selection, padding, kernels, wall)


def _dev_metrics(model, vocabs: TaggerVocabs, corpus: TaggingCorpus, cfg: Any) -> dict[str, float]:
    predicted = predict_tags(model, vocabs, [s.words for s in corpus.dev], cfg.trainer.eval_batch_size,
                             [s.features for s in corpus.dev])  # fmt: skip
    gold = [list(s.tags) for s in corpus.dev]
    gold = to_input_scheme(gold, corpus.train_scheme, corpus.scheme)
    predicted = to_input_scheme(predicted, corpus.train_scheme, corpus.scheme)
    return score_tagging(gold, predicted, cfg.data.task, "dev", bootstrap=0, scheme=corpus.scheme).metrics


def _finish(cfg, run_dir, model, corpus, vocabs, selection, padding, kernels, wall) -> dict[str, Any]:
    """Restore the best weights, score dev and test, write predictions, metrics and the report."""
    checkpointing.restore_best(model, run_dir)
    history = selection.history
    train_seconds = sum(h["train_seconds"] for h in history)
    words = padding["words"] * padding["batches"] / padding["full_batches"]  # per (possibly capped) epoch
    metrics: dict[str, Any] = {
        "status": "ok",
        "objective": selection.state["best"],
        "objective_name": selection.monitor,
        "objective_direction": "maximize",
        "task": cfg.data.task,
        "epochs": len(history),
        "best_epoch": selection.state["best_epoch"],
        "train/seconds": train_seconds,
        "train/wall_seconds": wall,
        "train/words_per_second": words * len(history) / train_seconds if train_seconds else 0.0,
        "train/padding_fraction": padding["padding_fraction"],
        "train/sentences": len(corpus.train),
    }
    details = {}
    for split in ("dev", "test"):
        sentences = getattr(corpus, split)
        if sentences:
            scores, seconds, examples = write_split_outputs(model, vocabs, corpus, split, run_dir, cfg)
            metrics.update(scores.metrics)
            if split == "test" or not corpus.test:  # dev, scored first, timed graph tracing too
                metrics[f"{split}/words_per_second"] = scores.metrics[f"{split}/tokens"] / seconds
            details[split] = (scores, examples)
    atomic_write_json(run_dir / "history.json", history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    from framework.reporting.tagger_report import write_tagger_report

    environment = {**describe_environment(), **{f"rnn kernel: {k}": v for k, v in kernels.items()}}
    write_tagger_report(run_dir, cfg, metrics, details, history, environment)
    return metrics



