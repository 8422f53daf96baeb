"""Train a language model into a run dir: text, vocabulary, model, fit on dev perplexity, samples, report.

Model selection keeps the epoch with the lowest dev perplexity (the shared fit loop of
``framework.training.fitting`` with ``DevSelection`` in mode "min"), with early stopping, a
training-time limit, per-epoch backups for resume, and the best model in ``model.keras``.
After training, ``samples.txt`` holds generations at several temperatures from fixed seeds, so
two runs can be compared by reading them.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.text_corpus import (LMVocab, TextCorpus, build_lm_vocab, corpus_stats, load_text_corpus,
                                        token_stream, training_dataset)  # fmt: skip
from framework.environment import describe_environment
from framework.evaluation.lm_eval import perplexity_metrics
from framework.inference.generation import Generation, format_samples, generate
from framework.inference.sampling import SamplingSettings
from framework.io import atomic_write_json, atomic_write_text
from framework.models.cudnn import log_kernels
from framework.models.language_model import build_language_model
from framework.models.precision import precision_policy
from framework.training import checkpointing
from framework.training.distribution import make_strategy
from framework.training.fitting import fit_with_selection
from framework.training.optimizers import build_optimizer
from framework.training.resume import is_resuming
from framework.training.seeding import set_seeds

log = logging.getLogger(__name__)

MONITOR = "dev/perplexity"
SAMPLES_FILE = "samples.txt"


def prepare_vocab(cfg: Any, corpus: TextCorpus, run_dir: Path) -> LMVocab:
    """Tokeniser and vocabulary from the train split (or, when resuming, those saved in the run dir)."""
    if is_resuming(run_dir) and (run_dir / "vocab.json").is_file():
        return LMVocab.load(run_dir)
    vocab = build_lm_vocab(cfg.data, corpus.train)
    vocab.save(run_dir)
    return vocab


def _streams(vocab: LMVocab, corpus: TextCorpus) -> dict[str, np.ndarray]:
    return {split: token_stream(vocab, getattr(corpus, split)) for split in ("train", "dev", "test")
            if getattr(corpus, split)}  # fmt: skip


def train_language_model(cfg: Any, run_dir: Path, corpus: TextCorpus | None = None) -> dict[str, Any]:
    """Run one language-model experiment described by ``cfg`` (plain, resolved) into ``run_dir``;
    ``corpus``: the lines already read (``load_text_corpus``), else read here."""
    run_dir.mkdir(parents=True, exist_ok=True)
    # before any TensorFlow op: MultiWorkerMirroredStrategy configures collective ops at program start
    strategy = make_strategy(cfg.trainer.strategy)
    set_seeds(cfg.trainer.seed, cfg.trainer.deterministic)
    corpus = corpus if corpus is not None else load_text_corpus(cfg.data)
    vocab = prepare_vocab(cfg, corpus, run_dir)
    streams = _streams(vocab, corpus)
    log.info("%s: %d train / %d dev / %d test lines; %s tokens, vocabulary %d; dev = %s", cfg.data.name,
             len(corpus.train), len(corpus.dev), len(corpus.test), vocab.tokenizer.kind, len(vocab),
             corpus.dev_source)  # fmt: skip
    dataset, batches, epoch_tokens = training_dataset(
        streams["train"], cfg.data.bptt, cfg.trainer.batch_size, cfg.trainer.seed, cfg.trainer.max_steps_per_epoch
    )
    log.info("training batches per epoch: %d (%d target tokens)", batches, epoch_tokens)
    with strategy.scope(), precision_policy(cfg.trainer.precision):
        model = build_language_model(cfg.model, len(vocab), seed=cfg.trainer.seed)
        model.compile(optimizer=build_optimizer(cfg.optimizer, batches, cfg.trainer.epochs),
                      jit_compile=cfg.trainer.jit_compile, steps_per_execution=cfg.trainer.steps_per_execution)  # fmt: skip
    model.predict_on_batch(next(iter(dataset))[0])  # build all weights before any restore
    kernels = log_kernels(model)
    selection, wall = fit_with_selection(
        model, dataset, cfg, run_dir, lambda m: perplexity_metrics(m, streams["dev"], "dev"), MONITOR, mode="min"
    )
    stats = corpus_stats(vocab, streams, {s: getattr(corpus, s) for s in streams})
    stats["dev/source"] = corpus.dev_source
    return _finish(cfg, run_dir, model, vocab, streams, selection, stats, kernels, (wall, epoch_tokens))


def training_samples(model, vocab: LMVocab, samples_cfg: Any) -> list[Generation]:
    """Generations at every configured temperature, from the same fixed seeds."""
    out: list[Generation] = []
    for temperature in samples_cfg.temperatures:
        out.extend(generate(model, vocab, samples_cfg.prompt, samples_cfg.max_tokens,
                            SamplingSettings(temperature=float(temperature)), list(samples_cfg.seeds)))  # fmt: skip
    return out


def _finish(cfg, run_dir, model, vocab, streams, selection, stats, kernels, timing) -> dict[str, Any]:
    """Restore the best weights, score dev and test, write samples, metrics, history and the report."""
    wall, epoch_tokens = timing
    checkpointing.restore_best(model, run_dir)
    history = selection.history
    train_seconds = sum(h["train_seconds"] for h in history)
    metrics: dict[str, Any] = {
        "status": "ok",
        "objective": selection.state["best"],
        "objective_name": MONITOR,
        "objective_direction": "minimize",
        "task": "language_model",
        "epochs": len(history),
        "best_epoch": selection.state["best_epoch"],
        "train/seconds": train_seconds,
        "train/wall_seconds": wall,
        "train/tokens_per_second": epoch_tokens * len(history) / train_seconds if train_seconds else 0.0,
        "train/tokens_per_epoch": epoch_tokens,
        **stats,
    }
    for split in ("dev", "test"):
        if split in streams:
            metrics.update(perplexity_metrics(model, streams[split], split))
    if math.isfinite(metrics["dev/perplexity"]):
        metrics["dev/bits_per_token"] = metrics["dev/loss"] / math.log(2)
    samples = training_samples(model, vocab, cfg.model.samples)
    atomic_write_text(run_dir / SAMPLES_FILE, format_samples(samples))
    atomic_write_json(run_dir / "history.json", history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    from framework.reporting.lm_report import write_lm_report

    environment = {**describe_environment(), **{f"rnn kernel: {k}": v for k, v in kernels.items()}}
    write_lm_report(run_dir, cfg, metrics, history, samples, environment)
    log.info("dev perplexity %.2f (best epoch %s)", metrics["dev/perplexity"], metrics["best_epoch"])
    return metrics
