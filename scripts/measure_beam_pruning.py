"""Beam search with and without dropping finished sentences from the running batch, side by side in
one process on a trained translator's test split (issue 6).

framework/inference/search.py drops the sentences that are done once ``PRUNE_FRACTION`` of the
batch is, so later steps compute only the beams still searching. This script decodes the test split
with beam 5, in turns, ``--rounds`` times with pruning off (``PRUNE_FRACTION`` infinite) and as shipped,
and counts the sentences whose best output is the same.

    python3 scripts/measure_beam_pruning.py <translator run dir> [--rounds 3] [--batch-size 128] [--sentences N]

Run it with nothing else on the machine.
"""

from __future__ import annotations

import time

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

from framework.inference import search
from framework.inference.measuring import beam5_and_greedy, decoding_arguments, test_sources, timing_line
from framework.inference.translation import translate_ids
from framework.translation_tasks import load_translator_run


def main() -> None:
    args = decoding_arguments(__doc__)
    run = load_translator_run(args.run_dir)
    ids, settings = test_sources(run, args.sentences), beam5_and_greedy(run)["beam 5"]
    shipped = search.PRUNE_FRACTION
    variants = {"every beam to the end": float("inf"), f"pruned at {shipped:g} (shipped)": shipped}
    seconds, outputs = {}, {}
    try:
        for fraction in variants.values():
            search.PRUNE_FRACTION = fraction
            translate_ids(run.model, ids, settings, args.batch_size)  # every batch shape traced before timing
        for _ in range(max(1, args.rounds)):
            for name, fraction in variants.items():
                search.PRUNE_FRACTION = fraction
                start = time.perf_counter()
                outputs[name] = [nbest[0].tokens for nbest in translate_ids(run.model, ids, settings, args.batch_size)]
                seconds.setdefault(name, []).append(time.perf_counter() - start)
    finally:
        search.PRUNE_FRACTION = shipped
    print(f"{len(ids)} test sentences of {args.run_dir}, beam 5, batch {args.batch_size}; "
          f"medians of {args.rounds} rounds in turns")  # fmt: skip
    for name, timings in seconds.items():
        print(timing_line(name, timings, len(ids), 26))
    first, second = outputs.values()
    print(f"same best output: {sum(a == b for a, b in zip(first, second))} of {len(first)}")


if __name__ == "__main__":
    main()
