"""Greedy and beam search over a translator's ``encode`` / ``project_keys`` / ``decode_step`` (batched).

The decoder runs one step per output token, carrying its (h, c) and attention inputs forward; it
never re-reads the prefix, and what attention takes from the source alone is computed once per
batch (``project_keys``), not once per token. Each step is one compiled call (tf.function on
TensorFlow, see framework.inference.graph) that also does the per-token work over the vocabulary:
forcing EOS at the length limit, adding the beams' scores, the top-k over ``beam x vocabulary``
and reordering the states by parent beam. Only [batch, beam] arrays come back to the host, where the beams'
histories and finished hypotheses are kept (cheap). In beam search, sentences that are done leave
the batch once a quarter of its sentences are (``PRUNE_FRACTION``), so the steps after that no
longer compute their beams (greedy search measured no faster with the same, and keeps its batch).
Beam size 1 gives exactly the greedy output: both force EOS at the same length limit and pick the
arg-max token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from framework.inference.graph import compile_function, graph_function


PRUNE_FRACTION = 0.25  # beam search drops finished sentences once this share of its running batch is done


def _still_running(running: np.ndarray) -> np.ndarray | None:
    """The sentences to keep when enough are done to be worth a gather of the batch's tensors, else None."""
    if running.all() or (~running).sum() < PRUNE_FRACTION * len(running):
        return None
    return np.flatnonzero(running)


def _take(structure, rows: np.ndarray):
    """Rows ``rows`` of every tensor in ``structure`` (None stays None)."""
    return keras.tree.map_structure(lambda x: None if x is None else ops.take(x, rows, axis=0), structure)


@dataclass
class Hypothesis:
    """One output: token ids (without BOS/EOS), summed log-probability and the ranking score."""

    tokens: list[int]
    log_prob: float
    score: float


def length_limits(source: np.ndarray, ratio: float, minimum: int = 3) -> np.ndarray:
    """Per-sentence maximum output length: ``ceil(ratio * source length)``, at least ``minimum``.

    The source length is that of the source as the encoder reads it, the EOS that closes it
    included (``pad_sources``), as JoeyNMT counts it.
    """
    lengths = (np.asarray(source) != 0).sum(axis=1)
    return np.maximum(np.ceil(lengths * ratio).astype(int), minimum)


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ((5 + length) / 6) ** alpha; alpha 0 ranks by raw log-probability."""
    return ((5.0 + length) / 6.0) ** alpha


def _constrain(log_probs, at_limit, eos: int, bos: int):
    """Rows at their length limit (``at_limit`` [N] bool) may only emit EOS; no row emits padding or BOS.

    Label smoothing gives every id some probability, and a padding or BOS id fed back as the next
    input (then dropped from the text) would still count towards the hypothesis' length and score.
    """
    vocab_ids = ops.expand_dims(ops.arange(ops.shape(log_probs)[-1]), 0)
    at_limit = ops.expand_dims(at_limit, -1)
    blocked = ops.logical_or(ops.logical_and(at_limit, ops.not_equal(vocab_ids, eos)),
                             ops.logical_or(ops.equal(vocab_ids, 0), ops.equal(vocab_ids, bos)))  # fmt: skip
    return ops.where(blocked, ops.cast(-np.inf, log_probs.dtype), log_probs)


class Searcher:
    """Batched greedy and beam search for a Seq2Seq model (see framework.models.seq2seq)."""

    def __init__(self, model):
        self.model = model
        self._encode = graph_function(model, "encode")
        self._project_keys = graph_function(model, "project_keys")
        self._greedy_step = compile_function(self._greedy_step_graph)
        self._beam_steps = {}

    def _start(self, source):
        """The encoder's outputs, source mask, projected keys and decoder states for ``source``."""
        outputs, mask, states = self._encode(source)
        return outputs, mask, self._project_keys(outputs), states

    def _greedy_step_graph(self, tokens, states, outputs, mask, keys, at_limit):
        """Arg-max token [B] and its log-probability [B], new states."""
        log_probs, states, _ = self.model.decode_step(tokens, states, outputs, mask, keys)
        log_probs = _constrain(log_probs, at_limit, self.model.eos_id, self.model.bos_id)
        best = ops.argmax(log_probs, axis=-1)
        return ops.cast(best, "int32"), ops.take_along_axis(log_probs, ops.expand_dims(best, -1), axis=-1)[:, 0], states

    def _beam_step(self, k: int):
        """The compiled step for beam size ``k``: scores [B, k], tokens [B, k], parents [B*k], states."""
        if k not in self._beam_steps:

            def step(tokens, states, outputs, mask, keys, scores, at_limit):
                log_probs, states, _ = self.model.decode_step(tokens, states, outputs, mask, keys)
                log_probs = _constrain(log_probs, at_limit, self.model.eos_id, self.model.bos_id)
                vocab = ops.shape(log_probs)[-1]
                total = ops.reshape(ops.reshape(scores, (-1, 1)) + log_probs, (-1, k * vocab))
                best_scores, best = ops.top_k(total, k)  # ties: the lower index first, like argmax
                beam_of, token_of = best // vocab, ops.cast(best % vocab, "int32")
                rows = ops.expand_dims(ops.arange(ops.shape(best)[0], dtype=beam_of.dtype) * k, -1)
                parents = ops.reshape(rows + beam_of, (-1,))
                states = keras.tree.map_structure(lambda s: ops.take(s, parents, axis=0), states)
                return best_scores, token_of, parents, states

            self._beam_steps[k] = compile_function(step)
        return self._beam_steps[k]

    def greedy(self, source: np.ndarray, max_length_ratio: float = 2.0) -> list[Hypothesis]:
        """Arg-max decoding of a batch of sources [B, S]."""
        outputs, mask, keys, states = self._start(source)
        limits = length_limits(source, max_length_ratio)
        batch = source.shape[0]
        tokens = np.full(batch, self.model.bos_id, dtype="int32")
        finished = np.zeros(batch, bool)
        results = [Hypothesis([], 0.0, 0.0) for _ in range(batch)]
        for t in range(int(limits.max()) + 1):
            tokens, log_probs, states = self._greedy_step(ops.convert_to_tensor(tokens), states, outputs, mask, keys,
                                                          ops.convert_to_tensor(t >= limits))  # fmt: skip
            tokens, log_probs = ops.convert_to_numpy(tokens), ops.convert_to_numpy(log_probs).astype("float64")
            for row in np.flatnonzero(~finished):
                results[row].log_prob += float(log_probs[row])
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
        outputs, mask, keys, states = _take(self._start(source), flat)
        limits = np.repeat(length_limits(source, max_length_ratio), k)
        scores = np.full((batch, k), -np.inf, dtype="float32")
        scores[:, 0] = 0.0  # only the first beam is expanded at the first step
        histories = np.zeros((batch * k, 0), dtype="int32")
        tokens = np.full(batch * k, self.model.bos_id, dtype="int32")
        done: list[list[Hypothesis]] = [[] for _ in range(batch)]
        running = list(done)  # the finished list of each sentence still in the batch
        step = self._beam_step(k)
        for t in range(int(limits.max()) + 1):
            scores, token_of, parents, states = step(ops.convert_to_tensor(tokens), states, outputs, mask, keys,
                                                     ops.convert_to_tensor(scores), ops.convert_to_tensor(t >= limits))  # fmt: skip
            scores, token_of, parents = (ops.convert_to_numpy(x) for x in (scores, token_of, parents))
            histories = np.concatenate([histories[parents], token_of.reshape(-1, 1)], axis=1)
            self._collect(running, scores, histories, token_of, alpha, t)
            scores = np.where(token_of == self.model.eos_id, -np.inf, scores).astype("float32")
            # a sentence is over with k finished hypotheses, or with no live beam left
            alive = np.array([len(d) < k for d in running]) & np.isfinite(scores).any(axis=1)
            if not alive.any():
                break
            tokens = token_of.reshape(-1)
            keep = _still_running(alive)
            if keep is not None:
                beams = (keep[:, None] * k + np.arange(k)).reshape(-1)
                outputs, mask, keys, states = _take((outputs, mask, keys, states), beams)
                tokens, limits, histories, scores = tokens[beams], limits[beams], histories[beams], scores[keep]
                running = [running[row] for row in keep]
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
