"""BLEU, chrF and TER with sacrebleu on detokenised output against raw references.

Scores follow sacrebleu's defaults (BLEU with the 13a tokeniser, cased; chrF with character
6-grams, beta 2; TER lowercased, tercom tokens), on the 0-100 scale sacrebleu reports, each with
its signature so a number can be reproduced exactly: ``sacrebleu test.ref.txt -i test.hyp.txt
-m bleu chrf ter`` on the run dir's files gives the same values. Confidence intervals resample
sentences (percentile bootstrap) from per-sentence BLEU statistics, so 1,000 resamples take
milliseconds instead of 1,000 corpus passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _metrics():
    from sacrebleu.metrics import BLEU, CHRF, TER

    return {"bleu": BLEU(), "chrf": CHRF(), "ter": TER()}


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str], prefix: str) -> dict[str, Any]:
    """``{prefix}/bleu``, ``/chrf``, ``/ter`` and their ``/..._signature`` strings, plus BLEU's parts.

    Raises:
        ValueError: different numbers of hypotheses and references.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    scores: dict[str, Any] = {}
    for name, metric in _metrics().items():
        result = metric.corpus_score(list(hypotheses), [list(references)])
        scores[f"{prefix}/{name}"] = float(result.score)
        scores[f"{prefix}/{name}_signature"] = str(metric.get_signature())
        if name == "bleu":
            scores[f"{prefix}/bleu_brevity_penalty"] = float(result.bp)
            scores[f"{prefix}/length_ratio"] = float(result.sys_len / result.ref_len) if result.ref_len else 0.0
            scores[f"{prefix}/bleu_precisions"] = [float(p) for p in result.precisions]
    return scores


def sentence_statistics(hypotheses: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-sentence BLEU statistics [N, 10]: 4 matched n-gram counts, 4 totals, hyp and ref length."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(effective_order=True)  # the counts are the same; this only silences sentence-BLEU advice
    rows = []
    for hypothesis, reference in zip(hypotheses, references):
        score = metric.sentence_score(hypothesis, [reference])
        rows.append([*score.counts, *score.totals, score.sys_len, score.ref_len])
    return np.asarray(rows, dtype=np.int64).reshape(-1, 10)


def bleu_from_statistics(stats: np.ndarray) -> float:
    """Corpus BLEU of summed statistics (equals sacrebleu's corpus_score on the same sentences)."""
    from sacrebleu.metrics import BLEU

    total = np.asarray(stats).sum(axis=0)
    # smooth_method="exp" as sacrebleu's corpus_score (compute_bleu's default is none): without it a
    # resample with no matching 4-gram scored 0, and the interval could exclude the score itself.
    return float(BLEU.compute_bleu(list(total[:4]), list(total[4:8]), int(total[8]), int(total[9]),
                                   smooth_method="exp").score)  # fmt: skip


def bootstrap_bleu(hypotheses: Sequence[str], references: Sequence[str], samples: int = 1000,
                   seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """95% percentile interval of corpus BLEU over sentence resamples (Koehn 2004)."""
    stats = sentence_statistics(hypotheses, references)
    rng = np.random.default_rng(seed)
    draws = [bleu_from_statistics(stats[rng.integers(0, len(stats), len(stats))]) for _ in range(samples)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)

