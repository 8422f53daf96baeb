"""What the decoding-speed scripts share: their arguments, a trained translator's test sources, the
searches they time and their timing lines (scripts/measure_attention_projection.py,
scripts/measure_beam_pruning.py, scripts/measure_search_host_time.py)."""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import numpy as np

from framework.data.parallel import load_parallel_corpus
from framework.inference.translation import DecodeSettings


def decoding_arguments(doc: str) -> argparse.Namespace:
    """``run_dir`` and the timing options, parsed from the command line (``doc``: the script's docstring)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sentences", type=int, default=None, help="the first N test sentences (default: all)")
    return parser.parse_args()


def test_sources(run: Any, sentences: int | None) -> list[np.ndarray]:
    """Piece ids of the first ``sentences`` (None: all) test sources of a TranslatorRun."""
    return run.subwords.source.encode(load_parallel_corpus(run.cfg.data).split("test").sources[:sentences])


def beam5_and_greedy(run: Any) -> dict[str, DecodeSettings]:
    """The run's decode settings as beam 5 and as greedy, by the names the scripts print."""
    decode = run.cfg.get("decode")
    return {"beam 5": DecodeSettings.from_config(decode, {"strategy": "beam", "beam_size": 5}),
            "greedy": DecodeSettings.from_config(decode, {"strategy": "greedy"})}  # fmt: skip


def timing_line(name: str, seconds: list[float], sentences: int, width: int) -> str:
    """``name``, the median seconds with every round's, and the sentences/s of the median."""
    median = statistics.median(seconds)
    rounds = ", ".join(f"{s:.1f}" for s in seconds)
    return f"{name:<{width}} {median:6.1f} s ({rounds}) {sentences / median:7.1f} sentences/s"
