"""How noisy is ``speedup_vs_plain_keras``? Two ways of timing in turns, repeated (issue 6).

On a shared machine the load changes within seconds. Each repeat times the benchmark's tagger
(ours) and the plain Keras one twice over: in blocks (``--steps`` calls of ours, then as many of
plain Keras, as the benchmark did until session 18) and call by call
(``benchmarking.timed_in_turns``: the two alternate, the order reversed at every other call, as
the benchmark does now), and prints each method's ratio, plain ÷ ours seconds per call. The
spread of a method's ratios over the repeats is its noise.

    python3 scripts/compare_timing_in_turns.py [--repeats 8] [--set steps=10 warmup=3]
"""

from __future__ import annotations

import argparse
import statistics

from framework import benchmarking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. steps=10")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    x, tags = benchmarking.tagger_batch(shapes)
    bilstm = benchmarking.BILSTM_SOFTMAX
    ours, plain = benchmarking._tagger(shapes, bilstm), benchmarking._plain_tagger(shapes, bilstm)
    calls = {"ours": lambda: ours.train_on_batch(x, tags), "plain": lambda: plain.train_on_batch(x["words"], tags)}
    per_batch = shapes.batch_size * shapes.seq_len
    ratios: dict[str, list[float]] = {"blocks": [], "call by call": []}
    for repeat in range(args.repeats):
        blocks = {name: benchmarking.timed(call, shapes.steps, shapes.warmup) for name, call in calls.items()}
        turns = {name: seconds[0] for name, seconds in
                 benchmarking.timed_in_turns(calls, 1, shapes.steps, shapes.warmup).items()}  # fmt: skip
        line = []
        for method, seconds in (("blocks", blocks), ("call by call", turns)):
            ratios[method].append(seconds["plain"] / seconds["ours"])
            line.append(f"{method}: ours {per_batch / seconds['ours']:,.0f} words/s, plain "
                        f"{per_batch / seconds['plain']:,.0f}, ratio {ratios[method][-1]:.3f}")  # fmt: skip
        print(f"repeat {repeat + 1}: " + "; ".join(line), flush=True)
    for method, values in ratios.items():
        print(f"{method}: ratio min {min(values):.3f}, median {statistics.median(values):.3f}, max {max(values):.3f}, "
              f"standard deviation {statistics.stdev(values) if len(values) > 1 else 0.0:.3f}")


if __name__ == "__main__":
    main()
