"""Greedy and beam search over a translator's ``encode`` / ``decode_step`` (batched).

The decoder runs one step per output token, carrying its (h, c) and attention inputs forward; it
never re-reads the prefix. The step is compiled once (tf.function on TensorFlow, see
framework.inference.graph); the bookkeeping of beams is numpy on the host. Beam size 1 gives exactly the
greedy output: both force EOS at the same length limit and pick the arg-max token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from framework.inference.graph import graph_function


@dataclass
class Hypothesis:
    """One output: token ids (without BOS/EOS), summed log-probability and the ranking score."""

    tokens: list[int]
    log_prob: float
    score: float


def length_limits(source: np.ndarray, ratio: float, minimum: int = 3) -> np.ndarray:
    """Per-sentence maximum output length: ``ceil(ratio * source length)``, at least ``minimum``."""
    lengths = (np.asarray(source) != 0).sum(axis=1)
    return np.maximum(np.ceil(lengths * ratio).astype(int), minimum)


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ((5 + length) / 6) ** alpha; alpha 0 ranks by raw log-probability."""
    return ((5.0 + length) / 6.0) ** alpha


def _force_eos(log_probs: np.ndarray, rows: np.ndarray, eos: int) -> np.ndarray:
    """Rows at their length limit may only emit EOS."""
    if rows.any():
        log_probs = log_probs.copy()
        eos_scores = log_probs[rows, eos].copy()
        log_probs[rows] = -np.inf
        log_probs[rows, eos] = eos_scores
    return log_probs


class Searcher:
    """Batched greedy and beam search for a Seq2Seq model (see framework.models.seq2seq)."""

    def __init__(self, model):
        self.model = model
        self._encode = graph_function(model, "encode")
        self._step = graph_function(model, "decode_step")

    def greedy(self, source: np.ndarray, max_length_ratio: float = 2.0) -> list[Hypothesis]:
        """Arg-max decoding of a batch of sources [B, S]."""
        outputs, mask, states = self._encode(source)
        limits = length_limits(source, max_length_ratio)
        batch = source.shape[0]
        tokens = np.full(batch, self.model.bos_id, dtype="int32")
        finished = np.zeros(batch, bool)
        results = [Hypothesis([], 0.0, 0.0) for _ in range(batch)]
        for t in range(int(limits.max()) + 1):
            log_probs, states, _ = self._step(ops.convert_to_tensor(tokens), states, outputs, mask)
            log_probs = _force_eos(np.asarray(log_probs), t >= limits, self.model.eos_id)
            tokens = log_probs.argmax(axis=-1).astype("int32")
            for row in np.flatnonzero(~finished):
                results[row].log_prob += float(log_probs[row, tokens[row]])
                if tokens[row] == self.model.eos_id:
                    finished[row] = True
                else:
                    results[row].tokens.append(int(tokens[row]))
            if finished.all():
                break
        for hypothesis in results:
            hypothesis.score = hypothesis.log_prob
        return results

    def beam(self, source: np.ndarray, beam_size: int = 5, alpha: float = 1.0, max_length_ratio: float = 2.0,
             nbest: int = 1) -> list[list[Hypothesis]]:  # fmt: skip
        """Beam search; returns the ``nbest`` hypotheses per source, best first (score = log p / lp(alpha))."""
        batch, k = source.shape[0], beam_size
        flat = np.repeat(np.arange(batch), k)
        outputs, mask, states = self._encode(source)
        outputs, mask = ops.take(outputs, flat, axis=0), ops.take(mask, flat, axis=0)
        states = keras.tree.map_structure(lambda s: ops.take(s, flat, axis=0), states)
        limits = np.repeat(length_limits(source, max_length_ratio), k)
        scores = np.full((batch, k), -np.inf)
        scores[:, 0] = 0.0  # only the first beam is expanded at the first step
        histories = np.zeros((batch * k, 0), dtype="int32")
        tokens = np.full(batch * k, self.model.bos_id, dtype="int32")
        done: list[list[Hypothesis]] = [[] for _ in range(batch)]
        for t in range(int(limits.max()) + 1):
            log_probs, states, _ = self._step(ops.convert_to_tensor(tokens), states, outputs, mask)
            log_probs = _force_eos(np.asarray(log_probs, dtype="float64"), t >= limits, self.model.eos_id)
            vocab = log_probs.shape[-1]
            total = (scores.reshape(-1, 1) + log_probs).reshape(batch, k * vocab)
            best = np.argsort(-total, axis=1, kind="stable")[:, :k]
            beam_of, token_of = best // vocab, (best % vocab).astype("int32")
            scores = np.take_along_axis(total, best, axis=1)
            parents = (np.arange(batch)[:, None] * k + beam_of).reshape(-1)
            histories = np.concatenate([histories[parents], token_of.reshape(-1, 1)], axis=1)
            self._collect(done, scores, histories, token_of, alpha, t)
            scores = np.where(token_of == self.model.eos_id, -np.inf, scores)
            if all(len(d) >= k for d in done) or not np.isfinite(scores).any():
                break
            states = keras.tree.map_structure(lambda s: ops.take(s, parents, axis=0), states)
            tokens = token_of.reshape(-1)
        return [sorted(d, key=lambda h: -h.score)[:nbest] for d in done]

    def _collect(self, done, scores, histories, token_of, alpha, t) -> None:
        """Move beams that just emitted EOS into their sentence's finished list."""
        batch, k = scores.shape
        for row, beam in zip(*np.nonzero(token_of == self.model.eos_id)):
            if len(done[row]) >= k or not math.isfinite(scores[row, beam]):
                continue
            words = [int(x) for x in histories[row * k + beam, :-1]]
            log_prob = float(scores[row, beam])
            done[row].append(Hypothesis(words, log_prob, log_prob / length_penalty(len(words) + 1, alpha)))
