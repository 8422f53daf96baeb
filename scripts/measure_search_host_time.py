"""How much of greedy and beam search is host work between the compiled calls (issue 6).

The search runs one compiled call per output token (framework/inference/search.py) and keeps the
beams' histories and finished hypotheses in numpy on the host. Compiling the whole search as one
graph (a ``while_loop`` over the steps) could at most save that host share. This script decodes a
trained translator's test split ``--rounds`` times per search and splits each decode's wall time
into the compiled calls (encode, key projection, steps: their results converted to numpy, so each
call's time includes its compute) and the rest.

    python3 scripts/measure_search_host_time.py <translator run dir> [--rounds 3] [--batch-size 128] [--sentences N]

Run it with nothing else on the machine.
"""

from __future__ import annotations

import statistics
import time

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
from keras import ops

from framework.inference.measuring import beam5_and_greedy, decoding_arguments, test_sources
from framework.inference.translation import DecodeSettings, searcher_for, translate_ids
from framework.translation_tasks import load_translator_run


class CallClock:
    """Wraps a searcher's compiled functions; adds the seconds spent in them (results made numpy)."""

    def __init__(self):
        self.seconds, self.calls = 0.0, 0

    def wrap(self, function):
        def timed(*args):
            start = time.perf_counter()
            result = function(*args)
            for tensor in keras.tree.flatten(result):
                if tensor is not None:
                    ops.convert_to_numpy(tensor)  # waits for the call's compute, wherever it runs
            self.seconds += time.perf_counter() - start
            self.calls += 1
            return result

        return timed


def time_search(model, ids, settings: DecodeSettings, rounds: int, batch_size: int) -> dict:
    """Per round: wall seconds of ``translate_ids`` and seconds inside the compiled calls (traced first)."""
    translate_ids(model, ids, settings, batch_size)  # every batch shape traced before timing
    searcher = searcher_for(model)
    clock = CallClock()
    originals = (searcher._encode, searcher._project_keys, searcher._greedy_step, dict(searcher._beam_steps))
    searcher._encode, searcher._project_keys = clock.wrap(originals[0]), clock.wrap(originals[1])
    searcher._greedy_step = clock.wrap(originals[2])
    searcher._beam_steps = {k: clock.wrap(step) for k, step in originals[3].items()}
    walls, inside = [], []
    try:
        for _ in range(max(1, rounds)):
            before, start = clock.seconds, time.perf_counter()
            translate_ids(model, ids, settings, batch_size)
            walls.append(time.perf_counter() - start)
            inside.append(clock.seconds - before)
    finally:
        searcher._encode, searcher._project_keys, searcher._greedy_step, searcher._beam_steps = originals
    return {"wall": walls, "compiled": inside, "calls_per_round": clock.calls // max(1, rounds)}


def report(search: str, timings: dict) -> str:
    """One line: median wall, median time in compiled calls, the host's share (median over rounds)."""
    wall, inside = statistics.median(timings["wall"]), statistics.median(timings["compiled"])
    host = statistics.median(w - c for w, c in zip(timings["wall"], timings["compiled"]))
    share = statistics.median((w - c) / w for w, c in zip(timings["wall"], timings["compiled"]))
    rounds = ", ".join(f"{w:.1f}/{c:.1f}" for w, c in zip(timings["wall"], timings["compiled"]))
    return (f"{search:<7} wall {wall:6.2f} s, compiled calls {inside:6.2f} s, host {host:5.2f} s ({share:.1%}); "
            f"{timings['calls_per_round']} calls a round; rounds wall/compiled: {rounds}")  # fmt: skip


def main() -> None:
    args = decoding_arguments(__doc__)
    run = load_translator_run(args.run_dir)
    ids = test_sources(run, args.sentences)
    print(f"{len(ids)} test sentences of {args.run_dir}, batch {args.batch_size}; medians of {args.rounds} rounds")
    for search, settings in beam5_and_greedy(run).items():
        print(report(search, time_search(run.model, ids, settings, args.rounds, args.batch_size)))


if __name__ == "__main__":
    main()
