"""Training words/s of the benchmark's tagger alone, in this process (issue 6).

For settings that only take effect at process start (TensorFlow's thread pools, oneDNN), run it
once per setting, alternately, e.g.:

    for setting in "" TF_NUM_INTEROP_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_ENABLE_ONEDNN_OPTS=0; do
        env $setting python3 scripts/time_tagger_step.py --label "${setting:-default}"; done
"""

from __future__ import annotations

import argparse
import statistics

from omegaconf import OmegaConf

from framework import benchmarking
from framework.config import BenchmarkShapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="default")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shapes = OmegaConf.structured(BenchmarkShapes)
    x, tags = benchmarking.tagger_batch(shapes)
    model = benchmarking._tagger(shapes, "lstm")
    per_batch = shapes.batch_size * shapes.seq_len
    rates = [per_batch / benchmarking.timed(lambda: model.train_on_batch(x, tags), shapes.steps, shapes.warmup)
             for _ in range(args.rounds)]  # fmt: skip
    matmul = benchmarking.matmul_flops_per_second(shapes.matmul_size) / 1e9
    rounds = ", ".join(f"{rate:,.0f}" for rate in rates)
    print(f"{args.label}: {statistics.median(rates):,.0f} words/s (rounds: {rounds}); matmul {matmul:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
