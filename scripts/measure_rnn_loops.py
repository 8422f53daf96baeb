"""Ablation of the generic-kernel RNN loops, side by side in one process (issue 6).

Trains and runs the benchmark's BiLSTM (or BiGRU) tagger network five ways at the same shapes:
stock Keras layers, the hoisted input projection (framework.models.hoisted_rnn), the hoisted
layers with both directions in one loop (framework.models.bidirectional), and that loop with the
LSTM's gates laid out gate-major (``hoisted_rnn.GATE_MAJOR``; a GRU runs the same loop as before),
and gate-major loops one per direction, as the layers train with one thread an op
(``TF_NUM_INTRAOP_THREADS=1``; this script itself takes each variant as named, whatever the threads).
The variants run in turns, ``--rounds`` times, so that a noisy machine slows them alike; the
table gives the median.

    python3 scripts/measure_rnn_loops.py [--cell lstm] [--batch 64 --steps 40 --units 256] [--precision mixed_bfloat16]
"""

from __future__ import annotations

import argparse
import statistics

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
import numpy as np

from framework.benchmarking import timed
from framework.config import Precision
from framework.models import cudnn
from framework.models.bidirectional import FusedBidirectional
from framework.models import hoisted_rnn
from framework.models.hoisted_rnn import HoistedGRU, HoistedLSTM
from framework.models.precision import precision_policy

# (LSTM layer, GRU layer, wrapper, LSTM gates laid out gate-major in the loop)
VARIANTS = {
    "stock Keras": (keras.layers.LSTM, keras.layers.GRU, keras.layers.Bidirectional, False),
    "hoisted projection": (HoistedLSTM, HoistedGRU, keras.layers.Bidirectional, False),
    "hoisted + one loop for both directions": (HoistedLSTM, HoistedGRU, FusedBidirectional, False),
    "+ gate-major LSTM steps": (HoistedLSTM, HoistedGRU, FusedBidirectional, True),
    # what trains under one thread an op (framework.threads): two loops side by side, not one
    "gate-major, a loop per direction": (HoistedLSTM, HoistedGRU, keras.layers.Bidirectional, True),
}


def build(variant: str, args: argparse.Namespace, words: np.ndarray, tags: np.ndarray) -> keras.Model:
    """The variant's model, its training and inference steps traced (the loop layout is fixed then)."""
    lstm, gru, wrapper, gate_major = VARIANTS[variant]
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(args.vocab, args.embed, mask_zero=True)(inputs)
    for _ in range(args.layers):
        x = wrapper((lstm if args.cell == "lstm" else gru)(args.units, return_sequences=True))(x)
    model = keras.Model(inputs, keras.layers.Dense(args.tags)(x))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    default, hoisted_rnn.GATE_MAJOR = hoisted_rnn.GATE_MAJOR, gate_major
    try:
        model.train_on_batch(words, tags)
        model.predict_on_batch(words)
    finally:
        hoisted_rnn.GATE_MAJOR = default
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--tags", type=int, default=17)
    parser.add_argument("--padding", type=float, default=0.0, help="share of each row left as padding")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=8, help="timed batches per round")
    parser.add_argument("--precision", choices=[p.name for p in Precision], default="float32",
                        help="dtype policy, as trainer.precision")
    args = parser.parse_args()
    # the loops themselves at any size and on any backend (models skip them when small, and on JAX); for
    # the whole run, as PyTorch decides at every call
    with cudnn.hoisting_everywhere():
        measure(args)


def measure(args: argparse.Namespace) -> None:
    """Build, time and print the variants (see the module docstring)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    words = rng.integers(2, args.vocab, (args.batch, args.steps)).astype("int32")
    words[:, args.steps - int(args.padding * args.steps):] = 0
    tags = rng.integers(0, args.tags, (args.batch, args.steps)).astype("int32")
    with precision_policy(args.precision):
        models = {name: build(name, args, words, tags) for name in VARIANTS}
    train = {name: [] for name in VARIANTS}
    infer = {name: [] for name in VARIANTS}
    per_batch = args.batch * args.steps
    for _ in range(args.rounds):
        for name, model in models.items():
            train[name].append(per_batch / timed(lambda: model.train_on_batch(words, tags), args.iterations, 2))
            infer[name].append(per_batch / timed(lambda: model.predict_on_batch(words), args.iterations, 2))
    base_train, base_infer = statistics.median(train["stock Keras"]), statistics.median(infer["stock Keras"])
    print(f"{args.cell} tagger, batch {args.batch} x {args.steps} steps, {args.units} units, "
          f"{args.layers} bidirectional layers, {args.padding:.0%} padding, {args.precision}; "
          f"median of {args.rounds} rounds")  # fmt: skip
    print(f"{'variant':<40} {'train words/s':>14} {'x stock':>8} {'infer words/s':>14} {'x stock':>8}")
    for name in VARIANTS:
        t, i = statistics.median(train[name]), statistics.median(infer[name])
        print(f"{name:<40} {t:>14,.0f} {t / base_train:>8.2f} {i:>14,.0f} {i / base_infer:>8.2f}")


if __name__ == "__main__":
    main()
