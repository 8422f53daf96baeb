"""Translator comparisons: paired bootstrap significance (sacrebleu) and the sentences that differ most.

A BLEU difference between two systems on one test set may be noise; sacrebleu's paired
bootstrap resamples the test set and asks how often the difference would vanish (Koehn 2004),
giving a p-value per system against the baseline (the first run). The sentences where the
systems' sentence-level BLEU differ most show what the difference is made of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.data.text_files import read_utf8
from framework.errors import DataError

HYP_FILE, REF_FILE = "test.hyp.txt", "test.ref.txt"


def has_translations(run_dir: Path) -> bool:
    """Whether a run dir holds a translator's test output (hypotheses and references)."""
    return (run_dir / HYP_FILE).is_file() and (run_dir / REF_FILE).is_file()


def read_lines(path: Path) -> list[str]:
    r"""The sentences of a file written one a line: split on ``\n`` only, as the translator wrote them.

    Not ``str.splitlines()``, which also breaks a sentence at U+2028, U+0085, form feed or a lone
    ``\r``. A final newline ends the last line, a trailing ``\r`` (CRLF) and a leading BOM are
    dropped, as :func:`framework.data.parallel.read_lines` reads a corpus; unlike that reader, a
    file of blank lines is allowed (a model may translate every sentence to nothing).

    Raises:
        DataError: the file cannot be read, or a byte is not UTF-8 (with line and column).
    """
    lines = read_utf8(path).split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return [line.removesuffix("\r") for line in lines]


def _first_difference(lines: list[str], others: list[str]) -> int:
    """The 1-based number of the first line where two lists differ (one past the shorter one's end)."""
    return next((n for n, (a, b) in enumerate(zip(lines, others), start=1) if a != b), min(len(lines), len(others)) + 1)


def load_systems(run_dirs: list[Path], names: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The references (of the first run) and each run's hypotheses; every file must align.

    Raises:
        DataError: a run's references are not the first run's (other test sentences: names the
            first differing line), or a run has not one hypothesis per reference.
    """
    base_ref = run_dirs[0] / REF_FILE
    refs = read_lines(base_ref)
    systems = []
    for run_dir, name in zip(run_dirs, names):
        run_refs = refs if run_dir == run_dirs[0] else read_lines(run_dir / REF_FILE)
        if run_refs != refs:
            line = _first_difference(run_refs, refs)
            what = (f"{len(run_refs)} references but {base_ref} has {len(refs)}" if len(run_refs) != len(refs)
                    else f"this reference differs from line {line} of {base_ref}")  # fmt: skip
            raise DataError(run_dir / REF_FILE, line if len(run_refs) == len(refs) else None,
                            f"{what}; the runs must be tested on the same test sentences")  # fmt: skip
        hyps = read_lines(run_dir / HYP_FILE)
        if len(hyps) != len(refs):
            raise DataError(run_dir / HYP_FILE, None,
                            f"{len(hyps)} hypotheses for the {len(refs)} references in {run_dir / REF_FILE}; "
                            "expected one hypothesis a line, line-aligned with the references")  # fmt: skip
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


def _labels(name_a: str, name_b: str) -> tuple[str, str]:
    """The two systems' names as shown beside their sentences; two equal names get a position."""
    return (f"{name_a} (1st)", f"{name_b} (2nd)") if name_a == name_b else (name_a, name_b)


def differing_sentences(refs: list[str], systems: list[tuple[str, list[str]]],
                        count: int) -> tuple[list[str], list[list[Any]]]:  # fmt: skip
    """The ``count`` sentences where the first two systems' sentence BLEU differ most.

    Returns:
        (header, rows): one row per sentence, its fields in the header's order: line, reference,
        each system's translation and sentence BLEU, and the BLEU delta (second - first). The
        header's fixed labels cannot clash with a run's name: a system's fields are labelled
        ``translation <name>`` and ``BLEU <name>``.
    """
    from sacrebleu import sentence_bleu

    (name_a, hyps_a), (name_b, hyps_b) = systems[:2]
    label_a, label_b = _labels(name_a, name_b)
    header = ["line", "reference", f"translation {label_a}", f"translation {label_b}",
              f"BLEU {label_a}", f"BLEU {label_b}", f"delta (BLEU {label_b} - BLEU {label_a})"]  # fmt: skip
    rows = []
    for index, (ref, a, b) in enumerate(zip(refs, hyps_a, hyps_b)):
        if a == b:
            continue
        score_a, score_b = sentence_bleu(a, [ref]).score, sentence_bleu(b, [ref]).score
        rows.append([index + 1, ref, a, b, score_a, score_b, score_b - score_a])
    rows.sort(key=lambda row: (-abs(row[-1]), row[0]))
    return header, rows[:count]
