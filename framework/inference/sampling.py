"""Choosing the next token from logits: temperature, top-k, top-p (nucleus) and seeded sampling.

Pure numpy, so the filters are exact and testable without a model, and a sampling run is
reproduced by its seed alone (a ``numpy.random.Generator`` per sample). Temperature 0 means
greedy (argmax), the limit of sampling as the temperature goes to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEG_INF = -np.inf


@dataclass(frozen=True)
class SamplingSettings:
    """How to pick tokens.

    Args:
        temperature: divides the logits; 0 = greedy, < 1 sharper, > 1 flatter.
        top_k: keep only the k most likely tokens (0 = no limit).
        top_p: keep the smallest set of most likely tokens whose probability reaches p
            (Holtzman et al. 2020); 1.0 = no limit.
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    def __post_init__(self):
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1] (1 = off), got {self.top_p}")


def top_k_filter(logits: np.ndarray, k: int) -> np.ndarray:
    """Set every logit outside the k largest of its row to -inf (ties at the k-th value are kept).

    Args:
        logits: [batch, vocab] or [vocab].
        k: tokens to keep per row; 0 or >= vocab keeps all.
    """
    logits = np.array(logits, dtype=np.float64)
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    kth = np.sort(logits, axis=-1)[..., -k][..., None]
    return np.where(logits < kth, NEG_INF, logits)


def top_p_filter(logits: np.ndarray, p: float) -> np.ndarray:
    """Keep the smallest set of most likely tokens whose total probability reaches ``p``.

    The most likely token is always kept, so a tiny ``p`` degrades to greedy, never to nothing.

    Args:
        logits: [batch, vocab] or [vocab].
        p: the nucleus mass in (0, 1]; 1 keeps all tokens.
    """
    logits = np.array(logits, dtype=np.float64)
    if p >= 1.0:
        return logits
    order = np.argsort(-logits, axis=-1, kind="stable")
    ordered = np.take_along_axis(logits, order, axis=-1)
    probs = softmax(ordered)
    mass_before = np.cumsum(probs, axis=-1) - probs  # probability of the tokens ranked above
    drop_sorted = mass_before >= p
    drop = np.zeros_like(drop_sorted)
    np.put_along_axis(drop, order, drop_sorted, axis=-1)
    return np.where(drop, NEG_INF, logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64; -inf logits get probability 0."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / np.sum(weights, axis=-1, keepdims=True)


def filtered_probabilities(logits: np.ndarray, settings: SamplingSettings) -> np.ndarray:
    """The distribution sampling draws from: temperature, then top-k, then top-p.

    With temperature 0 all mass sits on the argmax (first index on ties), i.e. greedy.
    """
    logits = np.array(logits, dtype=np.float64)
    if settings.temperature == 0:
        probs = np.zeros_like(logits)
        np.put_along_axis(probs, np.argmax(logits, axis=-1)[..., None], 1.0, axis=-1)
        return probs
    logits = top_k_filter(logits / settings.temperature, settings.top_k)
    return softmax(top_p_filter(logits, settings.top_p))


def sample_tokens(logits: np.ndarray, settings: SamplingSettings, rngs: list[np.random.Generator]) -> np.ndarray:
    """One token id per row of ``logits`` [batch, vocab], row b drawn with ``rngs[b]``.

    One generator per row keeps a sample's tokens a function of its own seed only, whatever the
    batch it was generated in.
    """
    probs = filtered_probabilities(np.atleast_2d(logits), settings)
    if len(rngs) != len(probs):
        raise ValueError(f"{len(probs)} rows of logits but {len(rngs)} random generators")
    if settings.temperature == 0:
        return np.argmax(probs, axis=-1).astype(np.int64)
    return np.array([rng.choice(len(row), p=row) for rng, row in zip(rngs, probs)], dtype=np.int64)
