"""Luong "general" attention in decoding: keys projected every step (before) vs the query projected
(shipped), side by side in one process on a trained translator's test split (issue 6).

The score q · (W k) was computed by projecting the encoder outputs, W k, inside every decoding step:
the whole source again for each output token. framework/models/attention.py now computes (q Wᵀ) · k
with the same weights. This script loads the run's model twice, traces one copy's searches with the
old score and one with the shipped one, then decodes the test split with each, in turns,
``--rounds`` times (beam 5, then greedy), and says whether their outputs are identical.

    python3 scripts/measure_attention_projection.py <translator run dir> [--rounds 3] [--batch-size 128] [--sentences N]

Run it with nothing else on the machine. The run must use ``model.attention=general``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

from keras import ops

from framework.data.parallel import load_parallel_corpus
from framework.inference.translation import DecodeSettings, translate_ids
from framework.models import attention as attention_module
from framework.translation_tasks import load_translator_run

SHIPPED_SCORES = attention_module.Attention.scores


def keys_projected_each_step(self, query, keys):
    """The score before the change: W k computed from the keys at every call."""
    if self.kind == "general":
        return ops.matmul(query, ops.transpose(self.key_projection(keys), (0, 2, 1)))
    return SHIPPED_SCORES(self, query, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sentences", type=int, default=None, help="the first N test sentences (default: all)")
    args = parser.parse_args()
    before, shipped = load_translator_run(args.run_dir), load_translator_run(args.run_dir)
    if shipped.cfg.model.attention != "general":
        raise SystemExit(f"error: {args.run_dir}: model.attention is {shipped.cfg.model.attention}, not general")
    ids = shipped.subwords.source.encode(load_parallel_corpus(shipped.cfg.data).split("test").sources[: args.sentences])
    searches = {"beam 5": DecodeSettings.from_config(shipped.cfg.get("decode"), {"strategy": "beam", "beam_size": 5}),
                "greedy": DecodeSettings.from_config(shipped.cfg.get("decode"), {"strategy": "greedy"})}  # fmt: skip
    variants = {"keys projected each step": before.model, "query projected (shipped)": shipped.model}
    for (name, model), scores in zip(variants.items(), (keys_projected_each_step, SHIPPED_SCORES)):
        attention_module.Attention.scores = scores  # read when the searches are traced, here
        for settings in searches.values():
            translate_ids(model, ids, settings, args.batch_size)  # every batch shape traced before timing
    attention_module.Attention.scores = SHIPPED_SCORES
    seconds, outputs = {}, {}
    for _ in range(max(1, args.rounds)):
        for search, settings in searches.items():
            for name, model in variants.items():
                start = time.perf_counter()
                outputs[name, search] = translate_ids(model, ids, settings, args.batch_size)
                seconds.setdefault((name, search), []).append(time.perf_counter() - start)
    print(f"{len(ids)} test sentences of {args.run_dir}, batch {args.batch_size}; medians of {args.rounds} rounds in turns")
    for search in searches:
        first, second = (outputs[name, search] for name in variants)
        same = all(a[0].tokens == b[0].tokens for a, b in zip(first, second))
        for name in variants:
            rounds = ", ".join(f"{s:.1f}" for s in seconds[name, search])
            median = statistics.median(seconds[name, search])
            print(f"{search:<7} {name:<26} {median:6.1f} s ({rounds}) {len(ids) / median:7.1f} sentences/s")
        print(f"{search:<7} identical outputs: {same}")


if __name__ == "__main__":
    main()
