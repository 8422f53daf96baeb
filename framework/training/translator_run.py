"""Train a translator into a run dir: pairs, subwords, model, fit on dev BLEU, test decoding, report.

The same shape as the other tasks: seeds, bucketed tf.data batches, and the shared fit loop
(:func:`framework.training.fitting.fit_with_selection`: best model on greedy dev BLEU each epoch,
early stopping, per-epoch backups for resume, time limit, divergence check). Then the best model
is reloaded, dev is scored again with greedy search and test with the configured ``decode``
settings; ``test.src.txt``, ``test.ref.txt`` and ``test.hyp.txt`` (raw source, raw reference,
detokenised output) stay in the run dir so anyone can re-score them with sacrebleu.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from framework.data.parallel import (ParallelCorpus, ParallelSplit, capped_epoch, filter_by_length,
                                     load_parallel_corpus, training_dataset)  # fmt: skip
from framework.data.subwords import BOS_ID, EOS_ID, SETTINGS_FILE, Subwords, build_subwords
from framework.environment import describe_environment
from framework.evaluation.translation_metrics import bootstrap_bleu, corpus_scores
from framework.inference.translation import DecodeSettings, Translation, best_texts, translate
from framework.io import atomic_write_json, atomic_write_text
from framework.models.build_translator import build_translator
from framework.models.cudnn import log_kernels
from framework.models.precision import precision_policy
from framework.training import checkpointing
from framework.training.distribution import make_strategy
from framework.training.fitting import fit_with_selection
from framework.training.optimizers import build_optimizer
from framework.training.resume import is_resuming
from framework.training.seeding import set_seeds

log = logging.getLogger(__name__)

MONITOR = "dev/bleu"
GREEDY = DecodeSettings("greedy")


def prepare_subwords(cfg: Any, corpus: ParallelCorpus, run_dir: Path) -> Subwords:
    """Subword models trained on the train split (or, when resuming, the ones saved in the run dir)."""
    if is_resuming(run_dir) and (run_dir / SETTINGS_FILE).is_file():
        return Subwords.load(run_dir)
    subwords = build_subwords(cfg.data, corpus.train.sources, corpus.train.targets)
    subwords.save(run_dir)
    return subwords


def _training_batches(cfg: Any, corpus: ParallelCorpus, subwords: Subwords):
    """The (possibly step-capped) bucketed training dataset and its statistics."""
    sources = subwords.source.encode(corpus.train.sources)
    targets = subwords.target.encode(corpus.train.targets)
    sources, targets, dropped = filter_by_length(sources, targets, cfg.data.max_length)
    log.info("training pairs: %d kept, %d longer than data.max_length=%d pieces left out", len(sources), dropped,
             cfg.data.max_length)  # fmt: skip
    trainer = cfg.trainer
    dataset = training_dataset(sources, targets, trainer.batch_size, seed=trainer.seed, bos_id=BOS_ID, eos_id=EOS_ID,
                               bucket_width=trainer.bucket_width, shuffle_buffer=trainer.shuffle_buffer)  # fmt: skip
    dataset, stats = capped_epoch(dataset, trainer.max_steps_per_epoch)
    stats.update(pairs=len(sources), pairs_dropped=dropped)
    log.info("training batches per epoch: %d, padded positions: %.1f%%", stats["batches"],
             100 * stats["padding_fraction"])  # fmt: skip
    return dataset, stats


def dev_evaluator(cfg: Any, subwords: Subwords, dev: ParallelSplit):
    """``model -> {"dev/bleu", "dev/chrf"}`` by greedy search on the first ``data.dev_max_sentences`` pairs."""
    dev = dev.head(cfg.data.dev_max_sentences)

    def evaluate(model) -> dict[str, float]:
        hypotheses = best_texts(translate(model, subwords, dev.sources, GREEDY, cfg.trainer.eval_batch_size))
        scores = corpus_scores(hypotheses, dev.targets, "dev")
        return {key: scores[key] for key in ("dev/bleu", "dev/chrf")}

    return evaluate, len(dev)


def train_translator(cfg: Any, run_dir: Path, corpus: ParallelCorpus | None = None) -> dict[str, Any]:
    """Run one translation experiment described by ``cfg`` (plain, resolved) into ``run_dir``; ``corpus``:
    the data already read (``read_local_parallel_corpus``), else read here."""
    run_dir.mkdir(parents=True, exist_ok=True)
    # before any TensorFlow op: MultiWorkerMirroredStrategy configures collective ops at program start
    strategy = make_strategy(cfg.trainer.strategy)
    set_seeds(cfg.trainer.seed, cfg.trainer.deterministic)
    test_settings = DecodeSettings.from_config(cfg.get("decode"))
    corpus = corpus if corpus is not None else load_parallel_corpus(cfg.data)
    log.info("%s: %d train / %d dev / %d test pairs (%s -> %s)", cfg.data.name, len(corpus.train), len(corpus.dev),
             len(corpus.test), cfg.data.src_lang, cfg.data.tgt_lang)  # fmt: skip
    subwords = prepare_subwords(cfg, corpus, run_dir)
    log.info("subwords (%s, %s): %d source / %d target pieces", cfg.data.subword_model,
             "joint" if subwords.joint else "separate", len(subwords.source), len(subwords.target))  # fmt: skip
    dataset, stats = _training_batches(cfg, corpus, subwords)
    with strategy.scope(), precision_policy(cfg.trainer.precision):
        model = build_translator(cfg.model, len(subwords.source), len(subwords.target), BOS_ID, EOS_ID)
        optimizer = build_optimizer(cfg.optimizer, stats["batches"], cfg.trainer.epochs)
        model.compile(optimizer=optimizer, jit_compile=cfg.trainer.jit_compile,
                      steps_per_execution=cfg.trainer.steps_per_execution)  # loss: Seq2Seq.compute_loss
    model.predict_on_batch(next(iter(dataset))[0])  # build all weights before any restore
    kernels = log_kernels(model)
    evaluate_dev, dev_count = dev_evaluator(cfg, subwords, corpus.dev)
    selection, wall = fit_with_selection(model, dataset, cfg, run_dir, evaluate_dev, MONITOR, mode="max")
    stats.update(wall=wall, dev_sentences=dev_count)
    return _finish(cfg, run_dir, model, corpus, subwords, selection, stats, kernels, test_settings)


def write_split_files(run_dir: Path, name: str, split: ParallelSplit, hypotheses: list[str]) -> None:
    """``<name>.src.txt``, ``<name>.ref.txt``, ``<name>.hyp.txt``: one sentence a line, line-aligned."""
    for suffix, lines in (("src", split.sources), ("ref", split.targets), ("hyp", hypotheses)):
        atomic_write_text(run_dir / f"{name}.{suffix}.txt", "".join(f"{line}\n" for line in lines))


def decode_and_score(model, subwords: Subwords, split: ParallelSplit, name: str, settings: DecodeSettings,
                     batch_size: int, run_dir: Path) -> tuple[dict[str, Any], list[list[Translation]]]:  # fmt: skip
    """Translate a split, write its three text files, and score it (BLEU with a bootstrap interval).

    Returns:
        (flat ``<name>/...`` metrics incl. signatures and decoding speed, the n-best translations).
    """
    start = time.perf_counter()
    translations = translate(model, subwords, split.sources, settings, batch_size)
    seconds = time.perf_counter() - start
    hypotheses = best_texts(translations)
    write_split_files(run_dir, name, split, hypotheses)
    metrics = corpus_scores(hypotheses, split.targets, name)
    metrics[f"{name}/bleu_ci_low"], metrics[f"{name}/bleu_ci_high"] = bootstrap_bleu(hypotheses, split.targets)
    words = sum(len(h.split()) for h in hypotheses)
    metrics.update({f"{name}/sentences": len(split), f"{name}/decode": settings.describe(),
                    f"{name}/decode_seconds": seconds,
                    f"{name}/sentences_per_second": len(split) / seconds if seconds else 0.0,
                    f"{name}/words_per_second": words / seconds if seconds else 0.0})  # fmt: skip
    log.info("%s: BLEU %.2f (95%% CI %.2f-%.2f), chrF %.2f, TER %.2f; %s, %.1f sentences/s", name,
             metrics[f"{name}/bleu"], metrics[f"{name}/bleu_ci_low"], metrics[f"{name}/bleu_ci_high"],
             metrics[f"{name}/chrf"], metrics[f"{name}/ter"], settings.describe(),
             metrics[f"{name}/sentences_per_second"])  # fmt: skip
    return metrics, translations


def _finish(cfg, run_dir, model, corpus, subwords, selection, stats, kernels, test_settings) -> dict[str, Any]:
    """Restore the best weights, score dev (greedy) and test (configured search), write metrics and the report."""
    checkpointing.restore_best(model, run_dir)
    history = selection.history
    train_seconds = sum(h["train_seconds"] for h in history)
    evaluate_dev, _ = dev_evaluator(cfg, subwords, corpus.dev)
    metrics: dict[str, Any] = {
        "status": "ok", "task": "translation", "objective": selection.state["best"], "objective_name": MONITOR,
        "objective_direction": "maximize", "epochs": len(history), "best_epoch": selection.state["best_epoch"],
        "train/seconds": train_seconds, "train/wall_seconds": stats["wall"],
        "train/tokens_per_second": stats["target_tokens"] * len(history) / train_seconds if train_seconds else 0.0,
        "train/source_tokens_per_second": stats["source_tokens"] * len(history) / train_seconds
        if train_seconds else 0.0,
        "train/padding_fraction": stats["padding_fraction"], "train/pairs": stats["pairs"],
        "train/pairs_too_long": stats["pairs_dropped"], "vocab/source_size": len(subwords.source),
        "vocab/target_size": len(subwords.target), "vocab/joint": subwords.joint,
        "dev/sentences": stats["dev_sentences"], "dev/decode": GREEDY.describe(),
        **evaluate_dev(model),
    }  # fmt: skip
    translations = None
    if len(corpus.test):
        scores, translations = decode_and_score(model, subwords, corpus.test, "test", test_settings,
                                                cfg.trainer.eval_batch_size, run_dir)  # fmt: skip
        metrics.update(scores)
    atomic_write_json(run_dir / "history.json", history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    from framework.reporting.translator_report import write_translator_report

    environment = {**describe_environment(), **{f"rnn kernel: {k}": v for k, v in kernels.items()}}
    write_translator_report(run_dir, cfg, metrics, history, environment, model, subwords, corpus.test, translations)
    return metrics
