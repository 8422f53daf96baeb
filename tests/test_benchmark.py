"""The benchmark's figures exist and are consistent (shape, not speed: speed is never unit-tested)."""

import json
import types
from pathlib import Path

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf

from benchmark_helpers import TINY, tiny_overrides
from cli_helpers import run_as_user
from framework import benchmarking
from framework.benchmarking import format_table, lstm_flops_per_word, timed_in_turns

ROOT = Path(__file__).resolve().parents[1]


def test_flops_count_by_hand():
    # One BiLSTM layer, in=3, U=2: per direction 2*3*4*2 + 2*2*4*2 = 48 + 32 = 80; x2 directions; x3 train.
    assert lstm_flops_per_word(3, 2, 1, True) == 3 * 2 * 80
    # Second layer reads 2U = 4 inputs: 2*4*4*2 + 32 = 96 per direction.
    assert lstm_flops_per_word(3, 2, 2, True) == 3 * 2 * (80 + 96)
    assert lstm_flops_per_word(3, 2, 1, False, "gru") == 3 * (2 * 3 * 3 * 2 + 2 * 2 * 3 * 2)


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory) -> tuple[dict, str]:
    """recipes/benchmark.py at the tiny shapes, once for the file: what benchmark.json holds and what it printed."""
    run_dir = tmp_path_factory.mktemp("benchmark")
    done = run_as_user("benchmark", *tiny_overrides("benchmark."), f"hydra.run.dir={run_dir}", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((run_dir / "benchmark.json").read_text()), done.stdout


def test_benchmark_reports_every_figure(recipe_run):
    result = recipe_run[0]
    tagger = result["tagger"]
    for key in ("train_words_per_second", "plain_keras_train_words_per_second", "speedup_vs_plain_keras",
                "inference_words_per_second", "achieved_flops_per_second", "flops_fraction_of_matmul"):
        assert tagger[key] > 0, key
    assert tagger["speedup_vs_plain_keras"] == pytest.approx(
        tagger["train_words_per_second"] / tagger["plain_keras_train_words_per_second"])
    assert all(kernel.startswith(("cuDNN", "generic")) for kernel in tagger["kernels"].values())
    assert len(tagger["train_words_per_second_rounds"]) == 2
    # The FLOP fraction pairs each round's training rate with the matmul rate timed in that round.
    per_round = [tagger["recurrent_flops_per_word"] * words / matmul for words, matmul
                 in zip(tagger["train_words_per_second_rounds"], tagger["matmul_fp32_flops_per_second_rounds"])]
    assert tagger["flops_fraction_of_matmul"] == pytest.approx(sum(per_round) / 2)  # the median of two
    assert result["matmul_fp32_flops_per_second"] == tagger["matmul_fp32_flops_per_second"]
    assert sorted(tagger["train_words_per_second_rounds"])[0] <= tagger["train_words_per_second"]
    for section in ("translator", "translator_attention"):
        for key in ("train_tokens_per_second", "greedy_sentences_per_second", "beam2_sentences_per_second"):
            rounds = result[section][f"{key}_rounds"]  # timed in turns; 2 rounds: the median of their seconds
            assert len(rounds) == 2 and result[section][key] == pytest.approx(2 / sum(1 / r for r in rounds)), key
        assert result[section]["greedy_words_per_second"] > 0
        # 8 units: our loops are Keras' stock ones at this size, so there is no stock twin to time
        assert result[section]["speedup_vs_stock_loops"] is None
        assert result[section]["stock_loop_train_tokens_per_second_rounds"] == []
        # the recurrent FLOPs of a target token: the bidirectional encoder's over the source, the decoder's
        flops = result[section]["recurrent_flops_per_token"]
        assert flops == lstm_flops_per_word(8, 8, 1, True) + lstm_flops_per_word(8, 8, 1, False)
        per_round = [flops * tokens / matmul for tokens, matmul in
                     zip(result[section]["train_tokens_per_second_rounds"],
                         result[section]["matmul_fp32_flops_per_second_rounds"], strict=True)]  # fmt: skip
        assert result[section]["flops_fraction_of_matmul"] == pytest.approx(sum(per_round) / 2)
        assert result[section]["achieved_flops_per_second"] == pytest.approx(
            flops * result[section]["train_tokens_per_second"])
    assert result["memory"]["host_peak_rss_bytes"] > 0
    assert "keras" in result["environment"]
    table = format_table(result).splitlines()
    assert any(line.split()[0] == "tagger.speedup_vs_plain_keras" for line in table)
    # FLOP figures read in GFLOP/s and MFLOP; the rest as benchmark.json has them
    achieved = next(line.split() for line in table if line.startswith("tagger.achieved_flops_per_second "))
    assert achieved[2] == "GFLOP/s" and float(achieved[1].replace(",", "")) == pytest.approx(
        tagger["achieved_flops_per_second"] / 1e9, abs=1e-3)
    per_token = next(line.split() for line in table if line.startswith("translator.recurrent_flops_per_token "))
    assert per_token[2] == "MFLOP" and float(per_token[1]) == pytest.approx(
        result["translator"]["recurrent_flops_per_token"] / 1e6, abs=1e-3)
    assert result["translator"]["architecture"] == {"cell": "lstm", "encoder_bidirectional": True,
                                                    "bridge": "concat_dense", "attention": "none",
                                                    "tie_embeddings": False, "label_smoothing": 0.1, "model": None}
    assert result["translator_attention"]["architecture"]["attention"] == "general"
    assert "translators: the benchmark LSTM pair, lstm, bidirectional encoder, concat_dense bridge, without " \
           "attention and with general" in format_table(result)
    # one thread an op (framework.threads) leaves the reference matmul on one core: the table says so
    result["environment"].update(tensorflow_threads="intra-op 1, inter-op default", cpu_cores="2")
    assert "TensorFlow threads: intra-op 1, inter-op default; the reference matmul used 1 of 2 cores" in \
           format_table(result)
    result["environment"].update(tensorflow_threads="intra-op default, inter-op 1")
    assert "TensorFlow threads: intra-op default, inter-op 1\n" in format_table(result) + "\n"


def test_benchmark_recipe_writes_json(recipe_run):
    data, printed = recipe_run
    assert data["shapes"]["seq_len"] == 6
    # The recipe ran on this process' backend (scripts/gpu_check.sh runs it on PyTorch: tests/test_gpu_check_script.py).
    assert data["environment"]["keras_backend"] == keras.backend.backend()
    # Off a GPU the kernel report names the backend ("no GPU visible to the torch backend").
    assert all(kernel.startswith("cuDNN") or keras.backend.backend() in kernel
               for kernel in data["tagger"]["kernels"].values())  # fmt: skip
    assert "speedup_vs_plain_keras" in printed


def test_kernel_and_precision_comparison_reports_both_kernels_and_precisions(monkeypatch):
    from framework.benchmarking import kernel_and_precision_comparison
    from framework.models import bidirectional

    one_call_flags = {}  # model -> the ONE_CALL_CUDNN setting of each of its training steps
    train_on_batch = keras.Model.train_on_batch

    def recording_train_on_batch(model, *args, **kwargs):
        one_call_flags.setdefault(id(model), set()).add(bidirectional.ONE_CALL_CUDNN)
        return train_on_batch(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "train_on_batch", recording_train_on_batch)
    result = kernel_and_precision_comparison(OmegaConf.create(TINY))
    # the variants take turns call by call, each step under its own setting: per_direction_cudnn's off, the rest on
    assert sorted(map(sorted, one_call_flags.values())) == [[False]] + [[True]] * 4
    for key in ("default_kernel", "generic_kernel", "mixed_precision", "mixed_bfloat16"):
        assert result[f"{key}_train_words_per_second"] > 0
    assert [kernel.split(",")[0] for kernel in result["generic_kernel_kernels"]] == ["generic (use_cudnn=False)"]
    assert result["default_vs_generic_kernel_speedup"] == pytest.approx(
        result["default_kernel_train_words_per_second"] / result["generic_kernel_train_words_per_second"])
    assert result["mixed_bfloat16_vs_float32_speedup"] == pytest.approx(
        result["mixed_bfloat16_train_words_per_second"] / result["default_kernel_train_words_per_second"])
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_timed_in_turns_alternates_the_functions_call_by_call_in_every_round():
    calls = []
    seconds = timed_in_turns({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, rounds=2, steps=3,
                             warmup=1)  # fmt: skip
    # each round: one warmup call each, then the timed calls in turns, the order reversed at every other call
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"] * 2
    assert list(seconds) == ["a", "b"] and all(len(v) == 2 and min(v) >= 0.0 for v in seconds.values())


def test_timed_in_turns_gives_each_function_its_own_seconds_per_call(monkeypatch):
    ticks = iter(range(1000))
    clock = types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    monkeypatch.setattr(benchmarking, "time", clock)
    # with this clock every call lasts one tick, and "slow" reads it once more: two
    seconds = timed_in_turns({"fast": lambda: None, "slow": clock.perf_counter}, rounds=1, steps=4, warmup=0)
    assert seconds == {"fast": [1.0], "slow": [2.0]}


# --- model=<tagger config> ----------------------------------------------------------------------


def _benchmark_config(*overrides: str):
    """recipes/benchmark.py's settings as Hydra composes them and the recipe makes them plain (no run)."""
    from hydra import compose, initialize_config_dir

    from framework.cli import plain_config
    from framework.config import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return plain_config(compose(config_name="benchmark", overrides=list(overrides)))


def test_model_option_takes_a_tagger_configs_cell_head_and_directions():
    from framework.benchmarking import BILSTM_SOFTMAX, TaggerArchitecture

    default = _benchmark_config()
    assert default.model is None and TaggerArchitecture.of(default.benchmark, default.model) == BILSTM_SOFTMAX
    cfg = _benchmark_config("model=bigru_crf")
    assert TaggerArchitecture.of(cfg.benchmark, cfg.model) == TaggerArchitecture("gru", "crf", True, "bigru_crf")
    # benchmark.cell, when given, wins over the model's cell; the model's directions are kept
    cfg = _benchmark_config("model=bigru_crf", "benchmark.cell=lstm", "model.rnn.bidirectional=false")
    assert TaggerArchitecture.of(cfg.benchmark, cfg.model) == TaggerArchitecture("lstm", "crf", False, "bigru_crf")


def test_model_option_refuses_what_the_benchmark_would_not_measure():
    from hydra.errors import ConfigCompositionException

    from framework.benchmarking import architectures
    from framework.errors import ConfigError

    cfg = _benchmark_config("model=lstm_classifier")  # composes (a classifier config), but is not benchmarked
    with pytest.raises(ConfigError, match="model=lstm_classifier: the benchmark measures taggers and translators"):
        architectures(cfg.benchmark, cfg.model)
    for model in ("bilstm_crf", "seq2seq"):
        cfg = _benchmark_config(f"model={model}", "model.rnn.allow_non_cudnn=true", "model.rnn.recurrent_dropout=0.2")
        with pytest.raises(ConfigError, match=f"model={model}: model.rnn.allow_non_cudnn=true"):
            architectures(cfg.benchmark, cfg.model)
    # a translator the benchmark could not build fails before any timing, as the train recipe would
    cfg = _benchmark_config("model=seq2seq_attention", "model.attention=dot")
    with pytest.raises(ConfigError, match="model.attention=dot needs encoder outputs"):
        architectures(cfg.benchmark, cfg.model)
    with pytest.raises(ConfigCompositionException, match="attention"):
        _benchmark_config("model=seq2seq", "model.attention=luong")  # the config's own schema still types it


@pytest.mark.parametrize("arch", [("gru", "crf", True), ("lstm", "crf", False)])  # softmax: the tests above
def test_plain_tagger_is_the_same_network_on_stock_recurrent_layers(arch):
    from framework.benchmarking import TaggerArchitecture, _plain_tagger, _tagger, tagger_batch
    from framework.models.hoisted_rnn import HoistedGRU, HoistedLSTM

    b = OmegaConf.create({**TINY, "cell": None})
    architecture = TaggerArchitecture(*arch, model="test")
    ours, plain = _tagger(b, architecture), _plain_tagger(b, architecture)
    assert ours.count_params() == plain.count_params()
    layers = list(plain._flatten_layers())
    rnns = [layer for layer in layers if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU))]
    assert len(rnns) == b.layers * (2 if architecture.bidirectional else 1)
    assert all(type(rnn) is (keras.layers.LSTM if architecture.cell == "lstm" else keras.layers.GRU) for rnn in rnns)
    assert not any(isinstance(layer, (HoistedLSTM, HoistedGRU)) for layer in layers)
    x, tags = tagger_batch(b)
    assert np.isfinite(plain.train_on_batch(x if architecture.head == "crf" else x["words"], tags))


def test_benchmark_of_a_model_reports_its_architecture_and_counts_its_flops():
    from framework.benchmarking import TaggerArchitecture, benchmark_tagger

    b = OmegaConf.create({**TINY, "cell": None, "rounds": 1})
    tagger = benchmark_tagger(b, TaggerArchitecture("gru", "crf", True, "bigru_crf"))
    assert tagger["architecture"] == {"cell": "gru", "head": "crf", "bidirectional": True, "model": "bigru_crf"}
    assert tagger["recurrent_flops_per_word"] == lstm_flops_per_word(b.embed_dim, b.units, b.layers, True, "gru")
    assert all("gru" in name for name in tagger["kernels"])
    assert tagger["speedup_vs_plain_keras"] > 0


# --- model=<translator config> ------------------------------------------------------------------


def test_model_option_takes_a_translator_configs_architecture_and_keeps_the_benchmark_tagger():
    from framework.benchmarking import BILSTM_SOFTMAX, LSTM_TRANSLATOR, TranslatorArchitecture, architectures

    default = _benchmark_config()
    assert architectures(default.benchmark, default.model) == (BILSTM_SOFTMAX, LSTM_TRANSLATOR)
    assert architectures(default.benchmark, _benchmark_config("model=bigru_crf").model)[1] == LSTM_TRANSLATOR
    cfg = _benchmark_config("model=seq2seq", "model.rnn.cell=gru", "benchmark.cell=gru")
    tagger, translator = architectures(cfg.benchmark, cfg.model)
    assert tagger == BILSTM_SOFTMAX.__class__(cell="gru")  # benchmark.cell is the tagger's
    # seq2seq has no attention: the benchmark's second translator adds Luong's general attention to it
    assert translator == TranslatorArchitecture("gru", False, "identity", "general", False, 0.1, "seq2seq")
    cfg = _benchmark_config("model=seq2seq_attention", "model.attention=additive", "model.tie_embeddings=true")
    translator = architectures(cfg.benchmark, cfg.model)[1]
    assert (translator.attention, translator.bridge, translator.tie_embeddings) == ("additive", "concat_dense", True)
    # the built config has the benchmark's sizes and no dropout, whatever the model config's
    b = OmegaConf.create(TINY)
    built = translator.config(b, attention=False)
    assert (built.embedding_dim, built.rnn.units, built.rnn.layers, built.rnn.dropout) == (8, 8, 1, 0.0)
    assert built.attention == "none" and translator.config(b, attention=True).attention == "additive"


def test_benchmark_of_a_translator_config_builds_and_reports_it():
    from framework.benchmarking import TranslatorArchitecture, benchmark_translator
    from framework.models import cudnn
    from framework.models.decoder import RNNDecoder

    b = OmegaConf.create({**TINY, "rounds": 1})
    arch = TranslatorArchitecture("gru", False, "identity", "additive", True, 0.0, "seq2seq")
    built = []
    init = RNNDecoder.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append(self)

    # our hoisted, fused loops at 8 units (and on JAX): a stock twin to time
    with pytest.MonkeyPatch.context() as patch, cudnn.hoisting_everywhere():
        patch.setattr(RNNDecoder, "__init__", recording_init)
        plain, attended = benchmark_translator(b, False, arch), benchmark_translator(b, True, arch)
    for result in (plain, attended):
        assert result["speedup_vs_stock_loops"] == pytest.approx(
            result["train_tokens_per_second"] / result["stock_loop_train_tokens_per_second"])
        assert len(result["stock_loop_train_tokens_per_second_rounds"]) == 1
    assert plain["architecture"] == {"cell": "gru", "encoder_bidirectional": False, "bridge": "identity",
                                     "attention": "none", "tie_embeddings": True, "label_smoothing": 0.0,
                                     "model": "seq2seq"}  # fmt: skip
    assert attended["architecture"]["attention"] == "additive"
    attentions = [decoder.attention_kind for decoder in built]  # the first translator's decoders, then the second's
    assert attentions[0] is None and attentions[-1] == "additive" and set(attentions) == {None, "additive"}
    assert all(decoder.get_config()["cell"] == "gru" and decoder.get_config()["tie_embeddings"] for decoder in built)
    assert all("gru" in name for name in {**plain["kernels"], **attended["kernels"]})
    assert plain["beam2_sentences_per_second"] > 0 and attended["train_tokens_per_second"] > 0
    # a one-direction encoder: as many recurrent FLOPs as the decoder's
    assert plain["recurrent_flops_per_token"] == 2 * lstm_flops_per_word(8, 8, 1, False, "gru")


def test_stock_loops_turn_the_hoisted_and_fused_loops_off_within_the_block_only():
    from framework.benchmarking import stock_loops
    from framework.models import cudnn
    from framework.models.bidirectional import FusedBidirectional
    from framework.models.rnn_stack import recurrent_layer

    layer = FusedBidirectional(recurrent_layer("lstm", cudnn.MIN_HOISTED_UNITS))
    layer.build((2, 3, 4))
    with cudnn.hoisting_everywhere():  # on JAX too
        fused = layer._fusable(None, training=True)
        with stock_loops():
            assert not layer.forward_layer._hoistable(training=True) and not layer._fusable(None, training=True)
        assert layer._fusable(None, training=True) == fused
    assert fused == (not cudnn.gpu_available())  # on a CPU the benchmark's own loops are the fused, hoisted ones
