"""Greedy and beam search (framework.inference.search) on a real tiny Seq2Seq and on a table model.

The table model's next-token log-probabilities depend only on the previous token, so every
sequence's probability is known by hand: greedy takes the likelier first token and ends up with
a worse sentence than beam search finds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from keras import ops

from framework.inference.search import Searcher, length_limits, length_penalty
from framework.inference.translation import DecodeSettings, translate_ids
from translator_helpers import random_translator, record_calls

PAD, BOS, EOS, A, B, C = range(6)
TINY = 1e-9


def _table(rows: dict[int, dict[int, float]], vocab: int = 6) -> np.ndarray:
    """log P(next | previous) [V, V]; unlisted rows are uniform, unlisted cells get TINY mass."""
    table = np.full((vocab, vocab), 1.0 / vocab)
    for previous, probs in rows.items():
        table[previous] = TINY
        for token, p in probs.items():
            table[previous, token] = p
    return np.log(table / table.sum(axis=1, keepdims=True)).astype("float32")


class TableModel:
    """A stand-in for Seq2Seq: the state is the previous token; log-probs come from a table."""

    bos_id, eos_id = BOS, EOS

    def __init__(self, table: np.ndarray):
        self.table = ops.convert_to_tensor(table)

    def encode(self, source):
        batch = ops.shape(source)[0]
        outputs = ops.zeros((batch, ops.shape(source)[1], 1))
        return outputs, ops.not_equal(source, 0), [[ops.zeros((batch, 1))]]

    def project_keys(self, outputs):
        return None

    def decode_step(self, tokens, states, outputs, mask, keys=None):
        return ops.take(self.table, tokens, axis=0), [[ops.cast(ops.expand_dims(tokens, 1), "float32")]], None


# After BOS: A 0.6, B 0.4. After A: EOS 0.4 (A-EOS: 0.24). After B: EOS 0.9 (B-EOS: 0.36).
GARDEN_PATH = _table({BOS: {A: 0.6, B: 0.4}, A: {EOS: 0.4, A: 0.3, C: 0.3}, B: {EOS: 0.9, C: 0.1},
                      C: {EOS: 1.0}})  # fmt: skip
SOURCE = np.array([[4, 5, 3, 0], [3, 4, 5, 3]], "int32")


def test_greedy_takes_the_garden_path_and_beam_finds_the_better_sentence():
    searcher = Searcher(TableModel(GARDEN_PATH))
    greedy = searcher.greedy(SOURCE)
    assert [h.tokens for h in greedy] == [[A], [A]]
    assert greedy[0].log_prob == pytest.approx(math.log(0.6 * 0.4), abs=1e-5)
    beams = searcher.beam(SOURCE, beam_size=2, alpha=0.0, nbest=2)
    for nbest in beams:
        assert [h.tokens for h in nbest] == [[B], [A]]
        assert nbest[0].log_prob == pytest.approx(math.log(0.4 * 0.9), abs=1e-5)
        assert nbest[1].log_prob == pytest.approx(math.log(0.6 * 0.4), abs=1e-5)


def test_nbest_lists_are_ordered_by_length_normalised_score():
    searcher = Searcher(TableModel(GARDEN_PATH))
    for alpha in (0.0, 1.0):
        for nbest in searcher.beam(SOURCE, beam_size=4, alpha=alpha, nbest=4):
            assert len(nbest) == 4
            scores = [h.score for h in nbest]
            assert scores == sorted(scores, reverse=True)
            for h in nbest:  # score = log p / GNMT length penalty over the tokens plus EOS
                assert h.score == pytest.approx(h.log_prob / length_penalty(len(h.tokens) + 1, alpha))
        # B-C (0.04) falls off the beam at step 2, behind A-A and A-C (0.18 each). In a vocabulary of
        # four real tokens (PAD and BOS are never emitted) the first step's four best include EOS
        # (1e-9): the empty sentence finishes first and takes the fourth place before A-A (0.072) ends.
        assert [tuple(h.tokens) for h in nbest] == [(B,), (A,), (A, C), ()]


def test_length_limit_forces_eos():
    never_ends = _table({BOS: {A: 1.0}, A: {A: 0.7, B: 0.3}, B: {A: 0.6, B: 0.4}})
    searcher = Searcher(TableModel(never_ends))
    source = np.array([[3, 4, 5, 3, 0, 0], [3, 4, 5, 3, 4, 5]], "int32")
    limits = length_limits(source, 1.0)
    assert limits.tolist() == [4, 6]
    greedy = searcher.greedy(source, max_length_ratio=1.0)
    assert [len(h.tokens) for h in greedy] == [4, 6]
    assert greedy[0].tokens == [A, A, A, A]
    for nbest, limit in zip(searcher.beam(source, beam_size=3, alpha=0.0, max_length_ratio=1.0, nbest=3), limits):
        # EOS (mass 1e-9 after every token) is forced at the limit; the beams that took it earlier
        # by choice are shorter, and none is longer
        assert nbest and all(len(h.tokens) <= limit for h in nbest)
        assert [A] * int(limit) in [h.tokens for h in nbest]
    assert length_limits(np.array([[3, 0, 0]]), 1.0).tolist() == [3]  # at least 3 tokens


def test_search_never_emits_padding_or_bos():
    # A model that puts most of its mass on PAD and BOS (label smoothing gives them some): the
    # search must pick among real tokens, as if PAD and BOS were not in the vocabulary.
    likes_pad = _table({BOS: {PAD: 0.5, BOS: 0.3, A: 0.15, B: 0.05}, A: {PAD: 0.6, BOS: 0.3, EOS: 0.1}})
    searcher = Searcher(TableModel(likes_pad))
    greedy = searcher.greedy(SOURCE, max_length_ratio=2.0)
    assert [h.tokens for h in greedy] == [[A], [A]]
    for nbest in searcher.beam(SOURCE, beam_size=3, alpha=0.0, max_length_ratio=2.0, nbest=3):
        assert nbest and all(PAD not in h.tokens and BOS not in h.tokens for h in nbest)
        assert nbest[0].tokens == [A]


@pytest.mark.parametrize("cell,attention", [("lstm", "general"), ("gru", None)])
def test_beam_size_one_gives_exactly_the_greedy_tokens(cell, attention):
    model = random_translator(cell, attention)
    rng = np.random.default_rng(0)
    lengths = [7, 3, 5, 9, 1]
    source = np.zeros((len(lengths), max(lengths)), "int32")
    for row, n in enumerate(lengths):
        source[row, :n] = rng.integers(3, 30, n)
    searcher = Searcher(model)
    greedy = searcher.greedy(source, max_length_ratio=1.5)
    beam = searcher.beam(source, beam_size=1, alpha=0.0, max_length_ratio=1.5)
    assert [h.tokens for h in greedy] == [nbest[0].tokens for nbest in beam]
    for g, nbest in zip(greedy, beam):
        assert g.log_prob == pytest.approx(nbest[0].log_prob, abs=1e-4)
    assert any(len(h.tokens) > 0 for h in greedy)


@pytest.mark.parametrize("feeding", [False, True], ids=["luong", "input-feeding"])
def test_search_projects_the_additive_keys_once_per_batch_not_per_step(feeding, monkeypatch):
    # U k + b depends on the source alone: recomputing it inside every decoding step cost a
    # [beam x batch, S, D] x [D, units] product per output token. Counted in Python, so the count
    # is per trace on TensorFlow (the steps are compiled) and per call on PyTorch: either way the
    # step itself must not project keys.
    model = random_translator("lstm", "additive", feeding=feeding, build=True)
    source = np.array([[4, 5, 6, 7], [8, 9, 0, 0]], "int32")
    decode_step, in_step = model.decode_step, [False]

    def flagged_step(*args, **kwargs):
        in_step[0] = True
        try:
            return decode_step(*args, **kwargs)
        finally:
            in_step[0] = False

    model.decode_step = flagged_step
    calls = record_calls(monkeypatch, model.decoder.attention.key_projection, lambda: in_step[0])
    searcher = Searcher(model)
    greedy = searcher.greedy(source, max_length_ratio=2.0)
    beam = searcher.beam(source, beam_size=3, alpha=0.0, max_length_ratio=2.0)
    assert calls and not any(calls)  # projected before the steps, never inside one
    assert len(greedy) == len(beam) == 2


def test_beam_search_drops_finished_sentences_from_the_batch_without_changing_results(monkeypatch):
    from framework.inference import search as search_module

    model = random_translator("lstm", "additive")
    rng = np.random.default_rng(4)
    lengths = [9, 2, 6, 1, 8, 3, 2, 7]  # an untrained model runs to its limits: sentences end at different steps
    source = np.zeros((len(lengths), max(lengths)), "int32")
    for row, n in enumerate(lengths):
        source[row, :n] = rng.integers(3, 30, n)

    def beam_with(fraction):
        """n-best lists, and the rows each step ran, with ``PRUNE_FRACTION`` = ``fraction``."""
        monkeypatch.setattr(search_module, "PRUNE_FRACTION", fraction)
        searcher, rows = Searcher(model), []
        step = searcher._beam_step(3)
        searcher._beam_steps[3] = lambda tokens, *args: rows.append(int(tokens.shape[0])) or step(tokens, *args)
        return searcher.beam(source, beam_size=3, alpha=0.6, max_length_ratio=1.5, nbest=3), rows

    kept, kept_rows = beam_with(float("inf"))
    pruned, pruned_rows = beam_with(0.25)
    assert set(kept_rows) == {len(lengths) * 3}  # never pruned: every step runs every beam
    assert pruned_rows[0] == len(lengths) * 3 and pruned_rows[-1] < pruned_rows[0]
    assert pruned_rows == sorted(pruned_rows, reverse=True) and len(pruned_rows) <= len(kept_rows)
    for a, b in zip(kept, pruned):
        assert [h.tokens for h in a] == [h.tokens for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)


def test_translate_ids_restores_input_order_and_skips_empty_sources():
    model = random_translator("lstm", "additive")
    rng = np.random.default_rng(1)
    sources = [rng.integers(3, 30, n).astype("int32") for n in (6, 2, 0, 4)]
    settings = DecodeSettings("greedy", max_length_ratio=1.5)
    batched = translate_ids(model, sources, settings, batch_size=2)
    single = [translate_ids(model, [ids], settings, batch_size=1)[0] for ids in sources]
    assert [b[0].tokens for b in batched] == [s[0].tokens for s in single]
    assert batched[2][0].tokens == []


def test_a_model_and_its_compiled_search_are_freed_together():
    # The searcher (and its compiled steps) live on the model: once the model is dropped, both go,
    # so the trials of an in-process sweep do not pile up models.
    import gc
    import weakref

    from framework.inference.graph import graph_function
    from framework.inference.translation import searcher_for

    model = random_translator("lstm", None)
    translate_ids(model, [np.array([4, 5, 6], "int32")], DecodeSettings("beam", beam_size=2), batch_size=1)
    graph_function(model, "encode")
    assert searcher_for(model) is searcher_for(model)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_decode_names_carry_every_setting_off_the_default():
    assert DecodeSettings("greedy").short_name() == "greedy"
    assert DecodeSettings("beam", beam_size=5).short_name() == "beam5"
    assert DecodeSettings("beam", beam_size=5, length_penalty=0.6).short_name() == "beam5-lp0.6"
    assert DecodeSettings("greedy", length_penalty=0.6, max_length_ratio=1.5).short_name() == "greedy-len1.5"
    assert DecodeSettings("beam", beam_size=4, nbest=2).short_name() == "beam4-nbest2"
