"""Perplexity of a language model on held-out text, with the RNN state carried through the text.

The token stream is cut into a few long contiguous rows, and each row is scored chunk by chunk
while the recurrent state flows from one chunk into the next. Every token is therefore predicted
from all the text before it in its row (not from the start of a short window), and the result
does not depend on the chunk length or on the training window size (``bptt``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from framework.data.text_corpus import evaluation_chunks
from framework.inference.graph import graph_function

ROW_TOKENS = 500  # at least this many tokens of running context per row (fewer rows on short texts)
MAX_ROWS = 64
CHUNK = 128  # tokens per model call; any value gives the same perplexity


def token_log_likelihoods(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """log p(target) for every position of ``logits`` [B, T, V] and ``targets`` [B, T]."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1))
    picked = np.take_along_axis(shifted, targets[..., None].astype(np.int64), axis=-1)[..., 0]
    return picked - log_norm


def score_stream(model, stream: np.ndarray) -> dict[str, float]:
    """Mean negative log-likelihood per token (nats), perplexity and token count of ``stream``.

    Args:
        model: a LanguageModel (its ``run`` takes and returns states).
        stream: token ids [N]; ``stream[0]`` is context only (the start-of-text end-of-line),
            the N - 1 following tokens are scored.
    """
    if len(stream) < 2:
        return {"loss": float("nan"), "perplexity": float("nan"), "tokens": 0}
    rows = max(1, min(MAX_ROWS, (len(stream) - 1) // ROW_TOKENS))
    total, count, states = 0.0, 0, None
    run = graph_function(model, "run")
    for inputs, targets in evaluation_chunks(np.asarray(stream), rows, CHUNK):
        logits, states = run(inputs, states)
        mask = targets != 0
        total -= float(token_log_likelihoods(np.asarray(logits), targets)[mask].sum())
        count += int(mask.sum())
    loss = total / count
    # exp overflows a float above ~709.78: such a model has diverged, and its perplexity is infinite
    # (which model selection never keeps), not a capped large number.
    return {"loss": loss, "perplexity": math.exp(loss) if loss < 709.0 else math.inf, "tokens": count}


def perplexity_metrics(model, stream: np.ndarray, split: str) -> dict[str, Any]:
    """``{split}/loss``, ``{split}/perplexity``, ``{split}/tokens`` and ``{split}/tokens_per_second``."""
    start = time.perf_counter()
    scores = score_stream(model, stream)
    seconds = max(time.perf_counter() - start, 1e-9)
    return {
        f"{split}/loss": scores["loss"],
        f"{split}/perplexity": scores["perplexity"],
        f"{split}/tokens": scores["tokens"],
        f"{split}/tokens_per_second": scores["tokens"] / seconds,
    }
