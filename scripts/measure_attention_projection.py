"""Attention in decoding: the keys' projection redone at every output token (before) vs the shipped
scores, side by side in one process on a trained translator's test split (issue 6).

A decoding step scores one output token against the whole source. Before, each step projected the
source again: Luong's general score q · (W k) computed W k, Bahdanau's additive v · tanh(W q + U k)
computed U k + b. framework/models/attention.py now computes general as (q Wᵀ) · k with the same
weights, and the search computes additive's U k + b once per batch (``Attention.project_keys``).
This script loads the run's model twice, traces one copy's searches with the old scores and one
with the shipped ones, then decodes the test split with each, in turns, ``--rounds`` times (beam 5,
then greedy), and says whether their outputs are identical.

    python3 scripts/measure_attention_projection.py <translator run dir> [--rounds 3] [--batch-size 128] [--sentences N]

Run it with nothing else on the machine. The run must use ``model.attention`` general or additive.
"""

from __future__ import annotations

import time

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

from keras import ops

from framework.inference.measuring import beam5_and_greedy, decoding_arguments, test_sources, timing_line
from framework.inference.translation import translate_ids
from framework.models.attention import Attention
from framework.translation_tasks import load_translator_run

SHIPPED_SCORES, SHIPPED_PROJECT_KEYS = Attention.scores, Attention.project_keys


def keys_projected_each_step(self, query, keys, projected_keys=None):
    """General's score before its change: W k computed from the keys at every call."""
    if self.kind == "general":
        return ops.matmul(query, ops.transpose(self.key_projection(keys), (0, 2, 1)))
    return SHIPPED_SCORES(self, query, keys, projected_keys)


def nothing_kept(self, keys):
    """Additive before its change: nothing projected ahead, so every step computes U k + b."""
    return None


BEFORE = {"general": ("scores", keys_projected_each_step), "additive": ("project_keys", nothing_kept)}
SHIPPED = {"general": "query projected (shipped)", "additive": "keys projected once (shipped)"}


def compare(before, shipped, kind: str, ids, searches: dict, rounds: int, batch_size: int) -> list[str]:
    """Decode ``ids`` with two copies of one translator, ``before`` traced with the old ``kind`` scores;
    returns the report's lines: per search and variant the median seconds and its rounds, then
    whether the two outputs are identical."""
    attribute, old = BEFORE[kind]
    shipped_method = getattr(Attention, attribute)
    variants = {"keys projected each step": before, SHIPPED[kind]: shipped}
    try:
        for model, method in zip(variants.values(), (old, shipped_method)):
            setattr(Attention, attribute, method)  # read when the searches are traced, here
            for settings in searches.values():
                translate_ids(model, ids, settings, batch_size)  # every batch shape traced before timing
    finally:
        setattr(Attention, attribute, shipped_method)
    seconds, outputs = {}, {}
    for _ in range(max(1, rounds)):
        for search, settings in searches.items():
            for name, model in variants.items():
                start = time.perf_counter()
                outputs[name, search] = translate_ids(model, ids, settings, batch_size)
                seconds.setdefault((name, search), []).append(time.perf_counter() - start)
    lines = []
    for search in searches:
        first, second = (outputs[name, search] for name in variants)
        same = all(a[0].tokens == b[0].tokens for a, b in zip(first, second))
        for name in variants:
            lines.append(timing_line(f"{search:<7} {name}", seconds[name, search], len(ids), 37))
        lines.append(f"{search:<7} identical outputs: {same}")
    return lines


def main() -> None:
    args = decoding_arguments(__doc__)
    before, shipped = load_translator_run(args.run_dir), load_translator_run(args.run_dir)
    kind = shipped.cfg.model.attention
    if kind not in BEFORE:
        raise SystemExit(f"error: {args.run_dir}: model.attention is {kind}, not general or additive")
    ids = test_sources(shipped, args.sentences)
    print(f"{len(ids)} test sentences of {args.run_dir} ({kind} attention), batch {args.batch_size}; "
          f"medians of {args.rounds} rounds in turns")  # fmt: skip
    lines = compare(before.model, shipped.model, kind, ids, beam5_and_greedy(shipped), args.rounds, args.batch_size)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
