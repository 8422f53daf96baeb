"""Translator comparisons: paired bootstrap significance (sacrebleu) and the sentences that differ most.

A BLEU difference between two systems on one test set may be noise; sacrebleu's paired
bootstrap resamples the test set and asks how often the difference would vanish (Koehn 2004),
giving a p-value per system against the baseline (the first run). The sentences where the
systems' sentence-level BLEU differ most show what the difference is made of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.errors import DataError

HYP_FILE, REF_FILE = "test.hyp.txt", "test.ref.txt"


def has_translations(run_dir: Path) -> bool:
    """Whether a run dir holds a translator's test output (hypotheses and references)."""
    return (run_dir / HYP_FILE).is_file() and (run_dir / REF_FILE).is_file()


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without line ends."""
    return path.read_text(encoding="utf-8").splitlines()


def load_systems(run_dirs: list[Path], names: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The references (of the first run) and each run's hypotheses; every file must align."""
    refs = read_lines(run_dirs[0] / REF_FILE)
    systems = []
    for run_dir, name in zip(run_dirs, names):
        hyps = read_lines(run_dir / HYP_FILE)
        if len(hyps) != len(refs) or read_lines(run_dir / REF_FILE) != refs:
            raise DataError(run_dir / HYP_FILE, None,
                            f"{len(hyps)} hypotheses; the runs must translate the same {len(refs)} test sentences")
        systems.append((name, hyps))
    return refs, systems


def paired_bootstrap(refs: list[str], systems: list[tuple[str, list[str]]], samples: int, seed: int) -> list[list[Any]]:
    """Rows of system, BLEU, bootstrap mean ± 95% CI and p-value against the first system."""
    import os

    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    previous = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = str(seed)  # sacrebleu reads its resampling seed from here
    try:
        test = PairedTest(systems, {"BLEU": BLEU()}, references=[refs], test_type="bs", n_samples=samples)
        _, results = test()
    finally:
        if previous is None:
            os.environ.pop("SACREBLEU_SEED", None)
        else:
            os.environ["SACREBLEU_SEED"] = previous
    rows = []
    for (name, _), result in zip(systems, results["BLEU"]):
        p_value = "baseline" if result.p_value is None else float(result.p_value)
        rows.append([name, float(result.score), f"{float(result.mean):.2f} ± {float(result.ci):.2f}", p_value])
    return rows


def differing_sentences(refs: list[str], systems: list[tuple[str, list[str]]], count: int) -> list[dict[str, Any]]:
    """The ``count`` sentences where the first two systems' sentence BLEU differ most."""
    from sacrebleu import sentence_bleu

    (name_a, hyps_a), (name_b, hyps_b) = systems[:2]
    scored = []
    for index, (ref, a, b) in enumerate(zip(refs, hyps_a, hyps_b)):
        if a == b:
            continue
        score_a, score_b = sentence_bleu(a, [ref]).score, sentence_bleu(b, [ref]).score
        scored.append({"line": index + 1, "reference": ref, name_a: a, name_b: b,
                       f"BLEU {name_a}": score_a, f"BLEU {name_b}": score_b, "delta": score_b - score_a})  # fmt: skip
    scored.sort(key=lambda row: (-abs(row["delta"]), row["line"]))
    return scored[:count]
