"""A reference tagger's training on real batches, its character BiLSTM run per token vs per distinct word.

The character BiLSTM gives each word the same features wherever it stands, so running it once per
distinct word of a batch (``char_features.DISTINCT_WORDS``) computes what running it once per token
does. This script builds an experiment's tagger twice, traces one with each setting, and times
their training on the same first ``--batches`` batches of the experiment's training pipeline, in
turns (``--rounds``, medians), after a pass that traces every batch shape. It also prints the
share of tokens that are distinct words in those batches.

    python3 scripts/measure_char_features.py [--experiment pos_ud_ewt] [--data-dir ../shared/data]
                                             [--batches 40] [--rounds 3] [KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from framework import benchmarking
from framework.cli import plain_config
from framework.config import register_configs
from framework.data.batching import encode
from framework.data.corpus import load_tagging_corpus
from framework.data.pipeline import training_dataset
from framework.models import char_features
from framework.models.build import build_tagger
from framework.training.optimizers import build_optimizer
from framework.training.tagger_run import prepare_vocabs

ROOT = Path(__file__).resolve().parents[1]


def experiment_config(experiment: str, data_dir: str, overrides: list[str]):
    """The experiment's config as train.py composes it (the repository as ``paths.root_dir``)."""
    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", [f"experiment={experiment}", f"paths.data_dir={data_dir}", f"paths.root_dir={ROOT}",
                                *overrides])  # fmt: skip
    return plain_config(cfg)


def first_batches(cfg, count: int):
    """The vocabularies and the first ``count`` training batches, as numpy, as train.py makes them."""
    corpus = load_tagging_corpus(cfg.data)
    with tempfile.TemporaryDirectory() as scratch:  # prepare_vocabs also saves them into a run dir
        vocabs = prepare_vocabs(cfg, corpus, Path(scratch))
    items = [encode(s.words, vocabs, s.tags, s.features) for s in corpus.train]
    dataset = training_dataset(items, cfg.trainer.batch_size, seed=cfg.trainer.seed,
                               bucket_width=cfg.trainer.bucket_width,
                               shuffle_buffer=cfg.trainer.shuffle_buffer)  # fmt: skip
    batches = [({key: value.numpy() for key, value in x.items()}, y.numpy()) for x, y in dataset.take(count)]
    return corpus, vocabs, batches


def distinct_share(batches) -> float:
    """Distinct words (rows of characters) per token position, over the batches."""
    distinct = positions = 0
    for x, _ in batches:
        rows = x["chars"].reshape(-1, x["chars"].shape[-1])
        distinct += len(np.unique(rows, axis=0))
        positions += len(rows)
    return distinct / positions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="pos_ud_ewt")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="config overrides, as train.py takes them")
    args = parser.parse_args()
    cfg = experiment_config(args.experiment, str(Path(args.data_dir).resolve()), args.overrides)
    if cfg.model.chars.kind != "bilstm":
        raise SystemExit(f"error: {args.experiment} has no character BiLSTM (model.chars.kind={cfg.model.chars.kind})")
    corpus, vocabs, batches = first_batches(cfg, args.batches)
    words = sum(int(np.count_nonzero(x["words"])) for x, _ in batches)
    models = {}
    for name, distinct in (("per token", False), ("per distinct word", True)):
        char_features.DISTINCT_WORDS = distinct  # read when each model traces its steps, in the pass below
        model = build_tagger(cfg.model, vocabs, corpus.train_scheme, seed=cfg.trainer.seed)
        model.compile(optimizer=build_optimizer(cfg.optimizer, len(batches), cfg.trainer.epochs))
        for x, y in batches:  # traces every batch shape with this setting
            model.train_on_batch(x, y)
        models[name] = model
    char_features.DISTINCT_WORDS = True
    epochs = {name: (lambda model=model: [model.train_on_batch(x, y) for x, y in batches])
              for name, model in models.items()}  # fmt: skip
    seconds = benchmarking.timed_in_turns(epochs, args.rounds, steps=1, warmup=0)
    print(f"{args.experiment}: {len(batches)} training batches, {words:,} words; distinct words per token "
          f"position {distinct_share(batches):.2f}; medians of {args.rounds} rounds in turns")  # fmt: skip
    baseline = statistics.median(seconds["per token"])
    for name, values in seconds.items():
        median = statistics.median(values)
        rounds = ", ".join(f"{words / value:,.0f}" for value in values)
        print(f"char BiLSTM {name:18s} {words / median:8,.0f} training words/s  x{baseline / median:.2f}  "
              f"(rounds: {rounds})")  # fmt: skip


if __name__ == "__main__":
    main()
