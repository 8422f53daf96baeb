"""What the recurrent kernels' gradient costs inside the time loop (issue 6), side by side.

Trains the benchmark's tagger (default shapes) twice in turns: as shipped, and with the
recurrent kernels cut from the gradient inside the fused loop (``stop_gradient``: those
kernels then do not train, so this is a measurement, never a model). The difference is what the
per-step kernel gradients and their accumulation cost; computing the same gradient after the loop
as one large matmul would take its FLOPs at the matmul rate the benchmark reports.

    python3 scripts/measure_kernel_gradient_cost.py [--rounds 4] [--set units=512 ...]
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras

from framework import benchmarking
from framework.models import bidirectional


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    x, tags = benchmarking.tagger_batch(shapes)
    shipped = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
    shipped.train_on_batch(x, tags)  # traced with the shipped kernels
    original = bidirectional.gate_major_kernels
    bidirectional.gate_major_kernels = lambda kernel, units: keras.ops.stop_gradient(original(kernel, units))
    try:
        cut = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "gradients do not exist for ...recurrent_kernel"
            cut.train_on_batch(x, tags)  # traced with the kernels cut from the gradient
    finally:
        bidirectional.gate_major_kernels = original
    words_per_batch = shapes.batch_size * shapes.seq_len
    steps = {"shipped": lambda: shipped.train_on_batch(x, tags),
             "recurrent kernels without gradient": lambda: cut.train_on_batch(x, tags)}  # fmt: skip
    seconds = benchmarking.timed_in_turns(steps, args.rounds, shapes.steps, shapes.warmup)
    for name, values in seconds.items():
        median = statistics.median(values)
        rounds = ", ".join(f"{words_per_batch / s:,.0f}" for s in values)
        print(f"{name:36s} {words_per_batch / median:9,.0f} words/s  {1000 * median:6.1f} ms/step  (rounds: {rounds})")


if __name__ == "__main__":
    main()
