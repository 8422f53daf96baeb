"""Training words/s of the benchmark's tagger alone, in this process (issue 6).

For settings that only take effect at process start (TensorFlow's thread pools, oneDNN), run it
once per setting, alternately, e.g. (with one intra-op thread the tagger's BiLSTM trains as two
loops, as the recipes train it, and the matmul then runs on one core: see README "Threads"):

    for setting in "" TF_NUM_INTEROP_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0; do
        env $setting python3 scripts/time_tagger_step.py --label "${setting:-default}"; done

XLA (``--jit-compile``, Keras' ``model.compile(jit_compile=True)``) with the matmul back-ends that
XLA:CPU can be told to use, each in its own process:

    python3 scripts/time_tagger_step.py --label "no XLA"
    for flags in "" --xla_cpu_use_onednn=true --xla_cpu_use_xnnpack=true \
            --xla_cpu_experimental_onednn_custom_call=true; do
        XLA_FLAGS="$flags" python3 scripts/time_tagger_step.py --jit-compile --label "XLA ${flags:-default}"; done
"""

from __future__ import annotations

import argparse
import statistics

from framework import benchmarking
from framework.environment import describe_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="default")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jit-compile", action="store_true", help="compile the training step with XLA")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    benchmarking.loops_for_process_threads()  # as in training
    x, tags = benchmarking.tagger_batch(shapes)
    model = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
    if args.jit_compile:
        model.compile(optimizer="adam", jit_compile=True)
        if not model.jit_compile:  # Keras falls back with a warning only (e.g. under TensorFlow's op determinism)
            raise SystemExit("error: Keras declined to compile the tagger with XLA; this would time it without")
    per_batch = shapes.batch_size * shapes.seq_len
    flops_per_word = benchmarking.lstm_flops_per_word(shapes.embed_dim, shapes.units, shapes.layers, bidirectional=True)
    rates, matmuls = [], []
    for _ in range(args.rounds):  # the matmul timed in every round, as the benchmark does
        rates.append(per_batch / benchmarking.timed(lambda: model.train_on_batch(x, tags), shapes.steps, shapes.warmup))
        matmuls.append(benchmarking.matmul_flops_per_second(shapes.matmul_size))
    fraction = benchmarking.median_ratio([rate * flops_per_word for rate in rates], matmuls)
    rounds = ", ".join(f"{rate:,.0f}" for rate in rates)
    threads = describe_environment().get("tensorflow_threads", "not TensorFlow's")
    print(f"{args.label}: {statistics.median(rates):,.0f} words/s (rounds: {rounds}); matmul GFLOP/s per round: "
          f"{', '.join(f'{m / 1e9:.1f}' for m in matmuls)}; FLOP fraction {fraction:.2f}; threads: {threads}")


if __name__ == "__main__":
    main()
