"""The measuring scripts behind the README's speed figures still run and print what it quotes.

Each runs in this process at tiny sizes (their numbers mean nothing here; the format and the
sanity checks they make do).
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import keras
import pytest

from benchmark_helpers import tiny_overrides
from op_determinism import op_determinism
from translator_helpers import random_translator
from framework.config import BenchmarkShapes
from framework.models import char_features, cudnn

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
TINY_SHAPES = tiny_overrides()
NUMBER = r"[\d,]+(?:\.\d+)?"


def run_script(name: str, arguments: list[str], monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", [name, *arguments])
    with cudnn.hoisting_everywhere():  # the loops under test run at 8 units, under MIN_HOISTED_UNITS
        runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    return capsys.readouterr().out


@pytest.mark.parametrize("jit_compile", [False, True])
def test_time_tagger_step_prints_rate_matmul_and_fraction(jit_compile, monkeypatch, capsys, without_op_determinism):
    arguments = ["--label", "tiny", "--rounds", "2", "--set", *TINY_SHAPES] + (["--jit-compile"] if jit_compile else [])
    out = run_script("time_tagger_step.py", arguments, monkeypatch, capsys)
    pattern = (rf"tiny: {NUMBER} words/s \(rounds: {NUMBER}, {NUMBER}\); "
               rf"matmul GFLOP/s per round: {NUMBER}, {NUMBER}; FLOP fraction {NUMBER}; threads: .+")  # fmt: skip
    assert re.fullmatch(pattern, out.strip()), out


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's op determinism")
def test_time_tagger_step_refuses_to_time_without_the_xla_it_was_asked_for(monkeypatch, capsys):
    with op_determinism(True), pytest.raises(SystemExit, match="declined to compile the tagger with XLA"):
        # under op determinism Keras compiles without XLA, with a warning only
        run_script("time_tagger_step.py", ["--jit-compile", "--set", *TINY_SHAPES], monkeypatch, capsys)


def test_time_tagger_step_rejects_an_unknown_shape_in_one_line(monkeypatch, capsys):
    """Every script that takes ``--set`` checks it under framework.cli.user_errors, before any timing."""
    with pytest.raises(SystemExit) as exited:
        run_script("time_tagger_step.py", ["--set", "seq_len=4", "hidden_size=8"], monkeypatch, capsys)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --set hidden_size=8: Key 'hidden_size' not in 'BenchmarkShapes' (keys: ")
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_kernel_gradient_cost_times_both_variants(monkeypatch, capsys):
    out = run_script("measure_kernel_gradient_cost.py", ["--rounds", "1", "--set", *TINY_SHAPES], monkeypatch, capsys)
    lines = out.strip().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["shipped", "recurrent kernels without gradient"], out
    assert all(re.search(rf"{NUMBER} words/s +{NUMBER} ms/step", line) for line in lines), out


def test_timing_comparison_prints_both_methods_ratios_every_repeat(monkeypatch, capsys):
    out = run_script("compare_timing_in_turns.py", ["--repeats", "2", "--set", *TINY_SHAPES], monkeypatch, capsys)
    lines = out.strip().splitlines()
    method = rf"ours {NUMBER} words/s, plain {NUMBER}, ratio {NUMBER}"
    for repeat, line in enumerate(lines[:2], 1):
        assert re.fullmatch(rf"repeat {repeat}: blocks: {method}; call by call: {method}", line), line
    spread = rf"ratio min {NUMBER}, median {NUMBER}, max {NUMBER}, standard deviation {NUMBER}"
    assert [re.fullmatch(rf"(blocks|call by call): {spread}", line).group(1) for line in lines[2:]] == [
        "blocks", "call by call"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_measure_rnn_loops_reports_every_variant(cell, monkeypatch, capsys):
    arguments = ["--cell", cell, "--batch", "4", "--steps", "5", "--units", "8", "--layers", "1", "--embed", "8",
                 "--vocab", "50", "--tags", "3", "--rounds", "1", "--iterations", "1"]  # fmt: skip
    out = run_script("measure_rnn_loops.py", arguments, monkeypatch, capsys)
    rows = out.strip().splitlines()[2:]
    assert [row[:40].strip() for row in rows] == [
        "stock Keras", "hoisted projection", "hoisted + one loop for both directions", "+ gate-major LSTM steps",
        "gate-major, a loop per direction",
    ]  # fmt: skip
    assert all(float(row.split()[-3]) > 0 for row in rows), out  # training speed relative to stock


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's fused LSTM op")
def test_block_lstm_comparison_computes_the_same_outputs(monkeypatch, capsys):
    arguments = ["--batch", "3", "--steps", "4", "--units", "5", "--inputs", "6", "--rounds", "1", "--iterations", "1"]
    out = run_script("measure_block_lstm.py", arguments, monkeypatch, capsys)
    gap = re.search(r"outputs differ by at most (\S+);", out)
    assert gap and float(gap.group(1)) < 1e-5, out
    assert re.search(rf"ours +{NUMBER} ms forward\+backward", out) and re.search(r"BlockLSTMV2 +[\d.]+ ms", out), out


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.while_loop pieces")
def test_loop_step_pieces_are_all_timed(monkeypatch, capsys):
    out = run_script("measure_loop_step.py", ["--rounds", "1", "--repeats", "1", "--set", *TINY_SHAPES], monkeypatch,
                     capsys)  # fmt: skip
    lines = out.strip().splitlines()
    assert re.match(rf"large matmul: {NUMBER} GFLOP/s; per step, one matmul of {NUMBER} MFLOP", lines[0]), out
    names = [line[:52].strip() for line in lines[2:]]
    assert names == ["forward: recurrent matmul", "backward: gradient for h, summed over gates",
                     "backward: gradient for the kernels, accumulated", "forward: gate math (3 sigmoid, 2 tanh)",
                     "an empty iteration", "shipped step, forward + backward"], out  # fmt: skip
    assert all(float(line[52:].split()[0]) > 0 for line in lines[2:]), out


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.custom_gradient and tf.GradientTape")
def test_loop_variants_are_each_traced_timed_and_checked(monkeypatch, capsys):
    arguments = ["--rounds", "1", "--steps-per-iteration", "2", "3", "4", "--set", *TINY_SHAPES]
    out = run_script("measure_loop_variants.py", arguments, monkeypatch, capsys)
    lines = out.strip().splitlines()
    # seq_len 6: 4 steps per iteration does not divide it and is left out
    assert [line[:40].strip() for line in lines[1:7]] == [
        "shipped", "two wide recurrent GEMMs per step", "one sigmoid over i, f, o", "one sigmoid over all four gates",
        "2 steps per loop iteration", "3 steps per loop iteration"
    ], out  # fmt: skip
    assert all(re.search(rf"{NUMBER} words/s  x{NUMBER}", line) for line in lines[1:7]), out
    agreement = re.search(r"gradients agree to (\S+) \(relative\)", lines[7])
    assert agreement and float(agreement.group(1)) < 1e-5, out
    assert [line[:40].strip() for line in lines[8:]] == [
        "shipped", "hand-written backward pass", "kernel gradient after the loop"], out


def test_loop_variants_refuse_a_rewrite_that_changes_the_outputs(monkeypatch, capsys):
    script = runpy.run_path(str(SCRIPTS / "measure_loop_variants.py"))["tagger_variants"].__globals__
    # rewrite 6's weights (Keras' gate order, candidate doubled) under rewrite 5's gate math
    monkeypatch.setitem(script, "one_sigmoid_all", script["one_sigmoid_ifo"])
    with cudnn.hoisting_everywhere(), pytest.raises(SystemExit, match="'one sigmoid over all four gates' differs"):
        script["tagger_variants"](BenchmarkShapes.with_overrides(TINY_SHAPES), [], rounds=1)


def test_loop_variants_refuse_a_rewrite_the_training_step_never_took(monkeypatch, capsys):
    from framework.models.bidirectional import FusedBidirectional

    monkeypatch.setattr(FusedBidirectional, "_fusable", lambda self, initial_state, training: False)
    with pytest.raises(SystemExit, match="did not reach the rewrite 'two wide recurrent GEMMs per step'"):
        run_script("measure_loop_variants.py", ["--rounds", "1", "--set", *TINY_SHAPES], monkeypatch, capsys)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="compares against Keras on TensorFlow")
def test_fused_lstm_ceiling_trains_all_three_taggers_and_names_pytorchs_kernel(monkeypatch, capsys):
    pytest.importorskip("torch")
    out = run_script("measure_fused_lstm_ceiling.py", ["--rounds", "2", "--set", *TINY_SHAPES], monkeypatch, capsys)
    lines = out.strip().splitlines()
    assert re.fullmatch(rf"tagger training, batch 4 x 6 steps, 1 BiLSTM layers of 8; medians of 2 rounds, in blocks; "
                        rf"TensorFlow matmul GFLOP/s per round: {NUMBER}, {NUMBER}", lines[0]), out  # fmt: skip
    kernel = r"LSTM kernel: oneDNN's fused LSTM \(mkldnn_rnn_layer\)"
    assert re.fullmatch(rf"PyTorch \S+, \d+ threads, {kernel}", lines[1]), out
    assert [line[:26].strip() for line in lines[2:]] == [
        "our tagger (TensorFlow)", "plain Keras (TensorFlow)", "torch.nn.LSTM (PyTorch)"], out
    rate = rf"{NUMBER} words/s  x{NUMBER} plain Keras  FLOP fraction {NUMBER}  \(rounds: {NUMBER}, {NUMBER}\)"
    assert all(re.fullmatch(rate, line[26:].strip()) for line in lines[2:]), out
    assert " x1.00 plain Keras" in lines[3], out  # plain Keras against itself


def test_fused_lstm_ceiling_refuses_a_backend_other_than_tensorflow(monkeypatch, capsys):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(SystemExit, match="compares against Keras on TensorFlow"):
        run_script("measure_fused_lstm_ceiling.py", ["--set", *TINY_SHAPES], monkeypatch, capsys)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function and tf.GradientTape")
def test_step_parts_are_all_timed_against_the_whole_step(monkeypatch, capsys):
    out = run_script("measure_step_parts.py", ["--rounds", "2", "--set", *TINY_SHAPES], monkeypatch, capsys)
    lines = out.strip().splitlines()
    assert [line[:34].strip() for line in lines[1:]] == [
        "training step (train_on_batch)", "forward pass and loss", "forward + backward (gradients)",
        "optimizer update alone", "encoder forward + backward alone",
    ], out  # fmt: skip
    assert re.search(rf" {NUMBER} ms +100% of the step", lines[1]), out
    assert all(re.search(rf" {NUMBER} ms +\d+% of the step  \(rounds: {NUMBER}, {NUMBER}\)$", line)
               for line in lines[1:]), out  # fmt: skip


def test_char_features_script_times_both_settings_on_real_batches(monkeypatch, capsys):
    arguments = ["--experiment", "pos_sample", "--batches", "3", "--rounds", "1", "model.chars.kind=bilstm",
                 "model.chars.units=4", "model.rnn.units=8", "model.embedding.dim=8"]  # fmt: skip
    monkeypatch.setattr(char_features, "DISTINCT_WORDS", True)  # the script sets it; restored after the test
    out = run_script("measure_char_features.py", arguments, monkeypatch, capsys)
    lines = out.strip().splitlines()
    head = re.fullmatch(rf"pos_sample: 3 training batches, {NUMBER} words; distinct words per token position "
                        rf"({NUMBER}); medians of 1 rounds in turns", lines[0])  # fmt: skip
    assert head and 0 < float(head.group(1)) < 1, out
    assert [line[:30].strip() for line in lines[1:]] == ["char BiLSTM per token", "char BiLSTM per distinct word"], out
    rate = rf"{NUMBER} training words/s  x{NUMBER}  \(rounds: {NUMBER}\)$"
    assert all(re.search(rate, line) for line in lines[1:]), out


def test_char_features_script_refuses_an_experiment_without_a_char_bilstm(monkeypatch, capsys):
    with pytest.raises(SystemExit, match="no character BiLSTM"):
        run_script("measure_char_features.py", ["--experiment", "pos_sample", "model.chars.kind=cnn"], monkeypatch,
                   capsys)  # fmt: skip


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's profiler")
def test_profile_tagger_step_sums_op_time_by_type(monkeypatch, capsys):
    out = run_script("profile_tagger_step.py", ["--steps", "2", "--top", "40", "--set", *TINY_SHAPES], monkeypatch,
                     capsys)  # fmt: skip
    lines = out.strip().splitlines()
    assert "oneDNN on (TF_ENABLE_ONEDNN_OPTS=1)" in lines[0], out  # framework/onednn.py turned it on
    assert re.fullmatch(rf"{NUMBER} ms a step \(traced\), op time {NUMBER} ms a step over the compute threads",
                        lines[1]), out  # fmt: skip
    rows = {line.split()[0]: line for line in lines[2:]}
    assert all(re.search(rf" {NUMBER} ms +\d+ calls +{NUMBER} us/call$", row) for row in rows.values()), out
    assert {"_MklMatMul", "_MklBatchMatMulV2"} & rows.keys(), out  # the loops' matmuls ran on oneDNN


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's profiler")
def test_profile_by_node_tells_the_loops_matmul_from_its_gradients(monkeypatch, capsys):
    out = run_script("profile_tagger_step.py", ["--steps", "2", "--top", "200", "--by-node", "--set", *TINY_SHAPES],
                     monkeypatch, capsys)  # fmt: skip
    matmul_nodes = [line.split()[-1] for line in out.strip().splitlines()[2:] if line.startswith("_MklBatchMatMulV2")]
    in_loop = [node for node in matmul_nodes if "/while/" in node]
    assert any("gradients" not in node for node in in_loop), out  # the forward loop's recurrent matmul
    assert any("gradients" in node for node in in_loop), out  # and its gradient, on a row of its own
    assert all(not re.search(r"_\d+(/|$)", node) for node in matmul_nodes), out  # copies add up under one name


def test_attention_projection_script_compares_additive_keys_per_step_with_keys_kept():
    """scripts/measure_attention_projection.py on an additive translator (the run-dir path is tested in
    tests/training/test_translator_run.py, on a general one): both variants decode, alike."""
    import numpy as np

    from framework.inference.translation import DecodeSettings
    from framework.models.attention import Attention

    script = runpy.run_path(str(SCRIPTS / "measure_attention_projection.py"))
    before, shipped = (random_translator("lstm", "additive", build=True) for _ in range(2))
    shipped.set_weights(before.get_weights())
    rng = np.random.default_rng(2)
    ids = [rng.integers(3, 30, n).astype("int32") for n in (5, 3, 7)]
    searches = {"beam 5": DecodeSettings("beam", beam_size=2), "greedy": DecodeSettings("greedy")}
    lines = script["compare"](before, shipped, "additive", ids, searches, 1, 2)
    assert "beam 5  identical outputs: True" in lines and "greedy  identical outputs: True" in lines, lines
    assert sum("keys projected once (shipped)" in line for line in lines) == 2, lines
    assert Attention.project_keys is script["SHIPPED_PROJECT_KEYS"]  # the patch is undone


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_search_host_time_script_splits_wall_time_into_compiled_calls_and_host(strategy):
    import numpy as np

    from framework.inference.translation import DecodeSettings, searcher_for, translate_ids

    script = runpy.run_path(str(SCRIPTS / "measure_search_host_time.py"))
    model = random_translator("lstm", "general", build=True)
    rng = np.random.default_rng(3)
    ids = [rng.integers(3, 30, n).astype("int32") for n in (5, 3, 7, 4)]
    settings = DecodeSettings(strategy, beam_size=2, max_length_ratio=1.5)
    expected = [h[0].tokens for h in translate_ids(model, ids, settings, 2)]
    searcher = searcher_for(model)
    functions = (searcher._encode, searcher._project_keys, searcher._greedy_step, dict(searcher._beam_steps))
    timings = script["time_search"](model, ids, settings, 2, 2)
    assert len(timings["wall"]) == len(timings["compiled"]) == 2
    assert all(0 < c < w for w, c in zip(timings["wall"], timings["compiled"])), timings
    # two batches: each one encode, one key projection and at least one step (at most 1.5 x 8 + 1)
    assert 2 * 3 <= timings["calls_per_round"] <= 2 * (2 + 13), timings
    line = script["report"](strategy, timings)
    assert re.fullmatch(rf"{strategy:<7} wall +{NUMBER} s, compiled calls +{NUMBER} s, host +-?{NUMBER} s "
                        rf"\(-?{NUMBER}%\); \d+ calls a round; rounds wall/compiled: .+", line), line
    # the searcher's own compiled functions are back in place, and decode as before
    assert (searcher._encode, searcher._project_keys, searcher._greedy_step) == functions[:3]
    assert searcher._beam_steps == functions[3]
    assert [h[0].tokens for h in translate_ids(model, ids, settings, 2)] == expected
