"""Speed benchmark: our models vs plain Keras at fixed shapes, side by side in one process.

Backend-agnostic (numpy inputs, no tf.data), so ``KERAS_BACKEND=torch`` measures the same models
on a machine with PyTorch but no TensorFlow. Every figure is measured here, in this run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from omegaconf import OmegaConf

from framework.cli import user_errors
from framework.config import BenchmarkShapes
from framework.environment import describe_environment
from framework.errors import ConfigError
from framework.inference.search import Searcher
from framework.models import bidirectional as bidirectional_layers
from framework.models import cudnn as cudnn_rules
from framework.models.cudnn import gpu_available, kernel_report
from framework.models.build_translator import build_translator
from framework.models.model_checks import check_translator_config
from framework.models.kernel_observation import cudnn_passes_in_first_step
from framework.models.precision import precision_policy
from framework.models.rnn_stack import RecurrentStack
from framework.models.tagger import SequenceTagger
from framework.schemas.translation import Seq2SeqRNNConfig, TranslatorModelConfig


def _block(result: Any) -> None:
    """Wait for an asynchronous backend result by copying it to host memory."""
    if not isinstance(result, (dict, list, tuple, float, int, np.ndarray, np.generic)):
        keras.ops.convert_to_numpy(result)


def timed(function: Callable[[], Any], steps: int, warmup: int) -> float:
    """Seconds per call of ``function``, after ``warmup`` untimed calls (tracing, caches)."""
    for _ in range(warmup):
        _block(function())
    start = time.perf_counter()
    for _ in range(steps):
        _block(function())
    return (time.perf_counter() - start) / steps


def timed_in_turns(
    functions: dict[str, Callable[[], Any]], rounds: int, steps: int, warmup: int
) -> dict[str, list[float]]:
    """Seconds per call of each function, ``rounds`` times. In every round the functions take turns
    call by call, the order reversed at every other call, so that a burst of load on a shared machine
    slows all of them alike rather than whichever ran a block of calls during it (blocks spread the
    ratio of two figures about twice as wide: ``scripts/compare_timing_in_turns.py``)."""
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for _ in range(rounds):
        for function in functions.values():
            for _ in range(warmup):
                _block(function())
        spent = dict.fromkeys(names, 0.0)
        for call in range(steps):
            for name in names if call % 2 == 0 else reversed(names):
                start = time.perf_counter()
                _block(functions[name]())
                spent[name] += time.perf_counter() - start
        for name in names:
            seconds[name].append(spent[name] / steps)
    return seconds


def matmul_flops_per_second(size: int = 2048, repeats: int = 5) -> float:
    """The machine's fp32 matrix-multiply rate, from a large square matmul on the active backend."""
    a = keras.ops.convert_to_tensor(np.random.default_rng(0).random((size, size), dtype="float32"))
    # Waits for each product through one element of it: copying the whole product to the host
    # would be timed too (on an H200 that held the measured fp32 rate to 1.2 TFLOP/s).
    seconds = timed(lambda: keras.ops.matmul(a, a)[0, 0], repeats, 2)
    return 2.0 * size**3 / seconds


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of per-round ratios: each round's two figures were measured moments apart."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def lstm_flops_per_word(input_dim: int, units: int, layers: int, bidirectional: bool, cell: str = "lstm") -> float:
    """FLOPs of the recurrent math per word for training (forward + backward = 3x forward).

    Per layer and direction: input projection 2*in*G*U and recurrent matmul 2*U*G*U, with G = 4
    gates for an LSTM and 3 for a GRU; layers above the first read 2U (bidirectional) or U inputs.
    """
    gates = 4 if cell == "lstm" else 3
    directions = 2 if bidirectional else 1
    total, width = 0.0, input_dim
    for _ in range(layers):
        total += directions * (2 * width * gates * units + 2 * units * gates * units)
        width = units * directions
    return 3.0 * total


@dataclasses.dataclass(frozen=True)
class TaggerArchitecture:
    """What the benchmark's tagger takes from a tagger config (``model=``); its sizes are the benchmark's."""

    cell: str = "lstm"
    head: str = "softmax"
    bidirectional: bool = True
    model: str | None = None  # the config's name, None for the benchmark's own BiLSTM softmax tagger

    @staticmethod
    def of(b: Any, model: Any = None) -> TaggerArchitecture:
        """``benchmark.cell`` if set, else the model's cell; the model's head and directions (from a
        plain config, whose choices are strings, as ``cli.plain_config`` makes the recipe's)."""
        if model is None:
            return TaggerArchitecture(cell=str(b.cell or "lstm"))
        _refuse_non_cudnn(model)
        return TaggerArchitecture(cell=str(b.cell or model.rnn.cell), head=str(model.head),
                                  bidirectional=bool(model.rnn.bidirectional), model=str(model.name))  # fmt: skip


BILSTM_SOFTMAX = TaggerArchitecture()  # the benchmark's own tagger, that of every recorded run


def _refuse_non_cudnn(model: Any) -> None:
    if model.rnn.allow_non_cudnn:
        raise ConfigError(f"model={model.name}: model.rnn.allow_non_cudnn=true; the benchmark builds "
                          "cuDNN-eligible layers only, so it would not measure this model")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TranslatorArchitecture:
    """What the benchmark's translators take from a translator config (``model=``); their sizes are the
    benchmark's. The benchmark times the translator without attention and with ``attention`` (the
    config's, or Luong's general where the config has none), as issue 6 asks for both."""

    cell: str = "lstm"
    encoder_bidirectional: bool = True
    bridge: str = "concat_dense"
    attention: str = "general"
    tie_embeddings: bool = False
    label_smoothing: float = 0.1
    model: str | None = None  # the config's name, None for the benchmark's own LSTM translators

    @staticmethod
    def of(b: Any, model: Any) -> TranslatorArchitecture:
        """The architecture of a plain translator config, checked at the benchmark's sizes with and without
        attention, so that a setting the translators cannot be built with fails before any timing."""
        _refuse_non_cudnn(model)
        attention = "general" if model.attention == "none" else str(model.attention)
        arch = TranslatorArchitecture(str(model.rnn.cell), bool(model.encoder_bidirectional), str(model.bridge),
                                      attention, bool(model.tie_embeddings), float(model.label_smoothing),
                                      str(model.name))  # fmt: skip
        for with_attention in (False, True):
            check_translator_config(arch.config(b, with_attention))
        return arch

    def config(self, b: Any, attention: bool) -> Any:
        """A plain TranslatorModelConfig of this architecture at the benchmark's sizes, without dropout."""
        rnn = Seq2SeqRNNConfig(cell=self.cell, units=b.units, layers=b.layers, dropout=0.0)
        model = TranslatorModelConfig(name=self.model or "benchmark", embedding_dim=b.embed_dim, rnn=rnn,
                                      encoder_bidirectional=self.encoder_bidirectional, bridge=self.bridge,
                                      attention=self.attention if attention else "none",
                                      tie_embeddings=self.tie_embeddings, label_smoothing=self.label_smoothing)
        return OmegaConf.create(OmegaConf.to_container(OmegaConf.structured(model), enum_to_str=True))


LSTM_TRANSLATOR = TranslatorArchitecture()  # the benchmark's own translators, those of every recorded run


def translator_flops_per_token(b: Any, arch: TranslatorArchitecture) -> float:
    """Recurrent FLOPs of teacher-forced training per target token: the encoder's over a source as long
    as the target (the benchmark's are both ``b.seq_len``) and the one-direction decoder's, each reading
    embeddings. Attention, the bridge and the output layer are not recurrent and are not counted."""
    encoder = lstm_flops_per_word(b.embed_dim, b.units, b.layers, arch.encoder_bidirectional, arch.cell)
    return encoder + lstm_flops_per_word(b.embed_dim, b.units, b.layers, False, arch.cell)


def architectures(b: Any, model: Any = None) -> tuple[TaggerArchitecture, TranslatorArchitecture]:
    """The tagger and the translators that ``model=`` asks for: a tagger config sets the tagger, a
    translator config the translators; the other keeps the benchmark's own."""
    if model is None or "head" in model:
        return TaggerArchitecture.of(b, model), LSTM_TRANSLATOR
    if "bridge" in model:
        return TaggerArchitecture.of(b), TranslatorArchitecture.of(b, model)
    raise ConfigError(f"model={model.name}: the benchmark measures taggers and translators; expected a tagger "
                      "config (bilstm_softmax, bilstm_crf, bigru_crf, tiny) or a translator config "
                      "(seq2seq, seq2seq_attention)")  # fmt: skip


def _encoder_config(b: Any, arch: TaggerArchitecture, use_cudnn: bool | str = "auto") -> dict[str, Any]:
    return RecurrentStack(cell=arch.cell, units=b.units, num_layers=b.layers, bidirectional=arch.bidirectional,
                          dropout=0.0, use_cudnn=use_cudnn, name="encoder").get_config()  # fmt: skip


def _tagger(b: Any, arch: TaggerArchitecture, use_cudnn: bool | str = "auto", kind: type = SequenceTagger):
    model = kind(b.vocab_size, 64, b.num_tags, word_dim=b.embed_dim, char_kind="none",
                 encoder=_encoder_config(b, arch, use_cudnn), embedding_dropout=0.0, head=arch.head)  # fmt: skip
    model.compile(optimizer="adam")
    model(tagger_batch(b)[0])  # built before its first training step, which counts that step's cuDNN passes alone
    return model


class StockStack(keras.layers.Layer):
    """Stock ``keras.layers.LSTM`` / ``GRU`` (in ``Bidirectional``) layers, from a RecurrentStack's config."""

    def __init__(self, cell="lstm", units=128, num_layers=2, bidirectional=True, name="encoder", **_):
        super().__init__(name=name)
        self.supports_masking = True
        self.rnns = _stock_rnns(cell, units, num_layers, bidirectional)

    def call(self, x, mask=None, training=None):
        for rnn in self.rnns:
            x = rnn(x, mask=mask, training=training)
        return x


def _stock_rnns(cell: str, units: int, layers: int, bidirectional: bool) -> list[keras.layers.Layer]:
    layer = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    return [keras.layers.Bidirectional(layer(units, return_sequences=True)) if bidirectional
            else layer(units, return_sequences=True) for _ in range(layers)]  # fmt: skip


class StockEncoderTagger(SequenceTagger):
    """Our tagger with stock recurrent layers: the plain CRF tagger (Keras has no CRF layer)."""

    def _encoder(self, config):
        return StockStack(**config)


def _plain_tagger(b: Any, arch: TaggerArchitecture) -> keras.Model:
    """The same network with stock Keras layers, no framework code; a CRF tagger keeps our
    embeddings and CRF head around the stock recurrent layers, so that what differs is the RNN."""
    if arch.head == "crf":
        return _tagger(b, arch, kind=StockEncoderTagger)
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(b.vocab_size, b.embed_dim, mask_zero=True)(inputs)
    for rnn in _stock_rnns(arch.cell, b.units, b.layers, arch.bidirectional):
        x = rnn(x)
    model = keras.Model(inputs, keras.layers.Dense(b.num_tags)(x))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def tagger_batch(b: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The benchmark's fixed tagger batch: (inputs of our tagger, gold tags); full-length sentences
    of random word ids (no padding), ``inputs["words"]`` also feeds the plain Keras tagger."""
    rng = np.random.default_rng(0)
    words = rng.integers(2, b.vocab_size, (b.batch_size, b.seq_len)).astype("int32")
    tags = rng.integers(0, b.num_tags, (b.batch_size, b.seq_len)).astype("int32")
    return {"words": words, "chars": np.zeros((b.batch_size, b.seq_len, 1), "int32")}, tags


def _time_round(b: Any, calls: dict[str, Callable[[], Any]], rounds: dict[str, list[float]]) -> None:
    """One round of a model's timings: first the large matmul, the FLOP fraction's reference under this
    round's load (back to back after its warm-up calls, not cold after a training step), then ``calls``
    in turns, call by call; each figure is appended to ``rounds`` under its name."""
    rounds["matmul"].append(matmul_flops_per_second(b.matmul_size))
    for name, seconds in timed_in_turns(calls, 1, b.steps, b.warmup).items():
        rounds[name].extend(seconds)


def benchmark_tagger(b: Any, arch: TaggerArchitecture = BILSTM_SOFTMAX) -> dict[str, Any]:
    """Training and inference words/s of our tagger and of the plain Keras one, same shapes.

    Our training step, plain Keras' and our inference take turns call by call (``timed_in_turns``),
    ``b.rounds`` rounds of ``b.steps`` calls each, and the medians of the rounds are kept, so that a
    burst of load on a shared machine slows all of them rather than one. Each round first times the
    large matmul, so ``flops_fraction_of_matmul`` compares figures measured under the same load.
    """
    x, tags = tagger_batch(b)
    ours, plain = _tagger(b, arch), _plain_tagger(b, arch)
    words = x if isinstance(plain, SequenceTagger) else x["words"]  # the plain tagger's inputs (a CRF twin: ours)
    cudnn_passes = cudnn_passes_in_first_step(ours, x, tags)
    plain_cudnn_passes = cudnn_passes_in_first_step(plain, words, tags)
    per_batch = b.batch_size * b.seq_len
    calls = {
        "ours": lambda: ours.train_on_batch(x, tags),
        "plain": lambda: plain.train_on_batch(words, tags),
        "infer": lambda: ours.predict_on_batch(x),
    }
    rounds: dict[str, list[float]] = {"matmul": [], **{name: [] for name in calls}}
    for _ in range(max(1, b.rounds)):
        _time_round(b, calls, rounds)
    train_ours, train_plain, infer_ours = (statistics.median(rounds[key]) for key in ("ours", "plain", "infer"))
    flops = lstm_flops_per_word(b.embed_dim, b.units, b.layers, arch.bidirectional, arch.cell)
    achieved = [flops * per_batch / seconds for seconds in rounds["ours"]]
    return {
        "architecture": dataclasses.asdict(arch),
        "train_words_per_second": per_batch / train_ours,
        "plain_keras_train_words_per_second": per_batch / train_plain,
        "speedup_vs_plain_keras": train_plain / train_ours,
        "inference_words_per_second": per_batch / infer_ours,
        "recurrent_flops_per_word": flops,
        "achieved_flops_per_second": flops * per_batch / train_ours,
        "matmul_fp32_flops_per_second": statistics.median(rounds["matmul"]),
        "flops_fraction_of_matmul": median_ratio(achieved, rounds["matmul"]),
        "train_words_per_second_rounds": [per_batch / t for t in rounds["ours"]],
        "matmul_fp32_flops_per_second_rounds": rounds["matmul"],
        "plain_keras_train_words_per_second_rounds": [per_batch / t for t in rounds["plain"]],
        "kernels": kernel_report(ours),
        "cudnn_passes_per_step": cudnn_passes,
        "plain_keras_cudnn_passes_per_step": plain_cudnn_passes,
    }


@contextlib.contextmanager
def stock_loops():
    """Within the block our LSTM/GRU layers run Keras' own generic loop at every size: no input projection
    hoisted out of the loop and, as FusedBidirectional fuses hoisted layers only, one loop per direction.
    A model is traced under the setting of its first training step: call it within the block every time."""
    saved = cudnn_rules.MIN_HOISTED_UNITS, cudnn_rules.MIN_HOISTED_UNITS_MIXED
    cudnn_rules.MIN_HOISTED_UNITS = cudnn_rules.MIN_HOISTED_UNITS_MIXED = sys.maxsize
    try:
        yield
    finally:
        cudnn_rules.MIN_HOISTED_UNITS, cudnn_rules.MIN_HOISTED_UNITS_MIXED = saved


def benchmark_translator(b: Any, attention: bool, arch: TranslatorArchitecture = LSTM_TRANSLATOR) -> dict[str, Any]:
    """Teacher-forced training tokens/s and greedy / beam decoding sentences/s of a translator
    (``arch`` at the benchmark's sizes, with its attention or without).

    Training, greedy and beam decoding are timed in turns, ``b.rounds`` times, and the medians
    kept, as the tagger's figures are; each search is traced for its shapes before the first round.
    Each round first times the large matmul, as the tagger's do, for ``flops_fraction_of_matmul``.
    The same translator with Keras' stock loops (:func:`stock_loops`) trains in turns with ours, call
    by call, for ``speedup_vs_stock_loops``; where ours are the stock ones already (cuDNN on a GPU, or
    layers too small to hoist) there is nothing to compare, and those figures are None.
    """
    rng = np.random.default_rng(1)
    source = rng.integers(3, b.vocab_size, (b.batch_size, b.seq_len)).astype("int32")
    target = rng.integers(3, b.vocab_size, (b.batch_size, b.seq_len + 1)).astype("int32")
    target[:, 0] = 1
    config, batch, labels = arch.config(b, attention), {"source": source, "target_in": target[:, :-1]}, target[:, 1:]

    def built() -> keras.Model:
        translator = build_translator(config, b.vocab_size, b.vocab_size)
        translator.compile(optimizer="adam")
        translator(batch)  # built before its first training step, which counts that step's cuDNN passes alone
        return translator

    model = built()
    kernels = kernel_report(model)
    # a stock-loop twin only where our loops are not Keras' own already (the layers' own rule, as reported)
    stock = built() if any(cudnn_rules.HOISTED in kernel for kernel in kernels.values()) else None

    def stock_step() -> Any:
        with stock_loops():
            return stock.train_on_batch(batch, labels)

    cudnn_passes = cudnn_passes_in_first_step(model, batch, labels)
    searcher = Searcher(model)
    sentences = source[: b.decode_sentences]
    ratio = 1.0  # an untrained model rarely emits EOS: every output runs to the source length
    searcher.greedy(sentences, ratio)  # trace each search's step for these shapes
    searcher.beam(sentences, b.beam_size, 1.0, ratio)
    rounds, greedy_tokens = {"matmul": [], "train": [], "stock": [], "greedy": [], "beam": []}, []

    def greedy_search() -> None:
        greedy_tokens.append(sum(len(h.tokens) for h in searcher.greedy(sentences, ratio)))

    turns = {"train": lambda: model.train_on_batch(batch, labels)}
    if stock is not None:
        turns["stock"] = stock_step
    for _ in range(max(1, b.rounds)):
        _time_round(b, turns, rounds)
        rounds["greedy"].append(timed(greedy_search, 1, 0))
        rounds["beam"].append(timed(lambda: searcher.beam(sentences, b.beam_size, 1.0, ratio), 1, 0))
    train, greedy, beam = (statistics.median(rounds[key]) for key in ("train", "greedy", "beam"))
    stock_train = statistics.median(rounds["stock"]) if stock is not None else None
    tokens = b.batch_size * b.seq_len
    flops = translator_flops_per_token(b, arch)
    return {
        "train_tokens_per_second": tokens / train,
        "stock_loop_train_tokens_per_second": None if stock_train is None else tokens / stock_train,
        "speedup_vs_stock_loops": None if stock_train is None else stock_train / train,
        "greedy_sentences_per_second": len(sentences) / greedy,
        "greedy_words_per_second": statistics.median(n / t for n, t in zip(greedy_tokens, rounds["greedy"])),
        f"beam{b.beam_size}_sentences_per_second": len(sentences) / beam,
        "recurrent_flops_per_token": flops,
        "achieved_flops_per_second": flops * tokens / train,
        "flops_fraction_of_matmul": median_ratio([flops * tokens / t for t in rounds["train"]], rounds["matmul"]),
        "train_tokens_per_second_rounds": [tokens / t for t in rounds["train"]],
        "stock_loop_train_tokens_per_second_rounds": [tokens / t for t in rounds["stock"]],
        "matmul_fp32_flops_per_second_rounds": rounds["matmul"],
        "greedy_sentences_per_second_rounds": [len(sentences) / t for t in rounds["greedy"]],
        f"beam{b.beam_size}_sentences_per_second_rounds": [len(sentences) / t for t in rounds["beam"]],
        "kernels": kernels,
        "cudnn_passes_per_step": cudnn_passes,
        "architecture": {**dataclasses.asdict(arch), "attention": arch.attention if attention else "none"},
    }


def peak_memory_bytes() -> dict[str, int]:
    """Peak host memory of this process, and peak accelerator memory where the backend reports it."""
    peaks = {"host_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            peaks["gpu_peak_bytes"] = int(torch.cuda.max_memory_allocated())
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            peaks["gpu_peak_bytes"] = int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    return peaks


@contextlib.contextmanager
def one_call_cudnn(enabled: bool):
    """Within the block, whether bidirectional layers may take Keras' one-call cuDNN path (PyTorch)."""
    saved, bidirectional_layers.ONE_CALL_CUDNN = bidirectional_layers.ONE_CALL_CUDNN, enabled
    try:
        yield
    finally:
        bidirectional_layers.ONE_CALL_CUDNN = saved


def kernel_and_precision_comparison(b: Any, arch: TaggerArchitecture = BILSTM_SOFTMAX) -> dict[str, Any]:
    """Tagger training words/s with the default kernel against ``use_cudnn=False`` (the generic
    loop), and in float32 against mixed precision: float16 compute with loss scaling (the GPU
    choice) and bfloat16 (for CPUs with bf16 matmuls), float32 weights, at the benchmark's shapes.
    On a GPU the first pair is cuDNN vs generic on the same device; ``per_direction_cudnn`` is the
    default with one cuDNN call per direction (``bidirectional.ONE_CALL_CUDNN`` off: on a PyTorch
    GPU the default runs both in one). Each variant's ``cudnn_passes_per_step`` counts the RNN
    passes that really ran on cuDNN. The variants take turns call by call (``timed_in_turns``),
    ``b.rounds`` rounds; medians are reported."""
    x, tags = tagger_batch(b)
    variants = {"default_kernel": ("auto", "float32"), "generic_kernel": (False, "float32"),
                "per_direction_cudnn": ("auto", "float32"),
                "mixed_precision": ("auto", "mixed_float16"), "mixed_bfloat16": ("auto", "mixed_bfloat16")}  # fmt: skip
    models = {}
    for name, (use_cudnn, policy) in variants.items():
        with precision_policy(policy):
            models[name] = _tagger(b, arch, use_cudnn)
    def variant(name: str):
        return one_call_cudnn(name != "per_direction_cudnn")

    cudnn_passes = {}
    for name, model in models.items():
        with variant(name):
            cudnn_passes[name] = cudnn_passes_in_first_step(model, x, tags)

    def training_step(name: str, model: keras.Model) -> Callable[[], Any]:
        def step() -> Any:
            with variant(name):
                return model.train_on_batch(x, tags)

        return step

    seconds = timed_in_turns({name: training_step(name, model) for name, model in models.items()}, b.rounds,
                             b.steps, b.warmup)  # fmt: skip
    rates = {}
    for name, model in models.items():
        rates[f"{name}_train_words_per_second"] = b.batch_size * b.seq_len / statistics.median(seconds[name])
        rates[f"{name}_kernels"] = sorted(set(kernel_report(model).values()))
        rates[f"{name}_cudnn_passes_per_step"] = cudnn_passes[name]
    default = rates["default_kernel_train_words_per_second"]
    rates["default_vs_generic_kernel_speedup"] = default / rates["generic_kernel_train_words_per_second"]
    rates["mixed_precision_vs_float32_speedup"] = rates["mixed_precision_train_words_per_second"] / default
    rates["mixed_bfloat16_vs_float32_speedup"] = rates["mixed_bfloat16_train_words_per_second"] / default
    rates["one_call_vs_per_direction_cudnn_speedup"] = default / rates["per_direction_cudnn_train_words_per_second"]
    return rates


def shapes_from_command_line(overrides: list[str]) -> Any:
    """The measuring scripts' ``--set key=value`` shapes; a bad key or value is one ``error:`` line (exit 2),
    before anything is built or timed."""
    with user_errors():
        return BenchmarkShapes.with_overrides(overrides)


def loops_for_process_threads() -> None:
    """Our BiRNNs' loops for this process's TensorFlow pools, as the train recipes choose them
    (framework.threads: with ``TF_NUM_INTRAOP_THREADS=1``, two loops rather than one)."""
    if keras.backend.backend() == "tensorflow":
        from framework.threads import apply_thread_settings

        apply_thread_settings(None, None)


def run_benchmark(b: Any, model: Any = None) -> dict[str, Any]:
    """All measurements of one benchmark run, as written to benchmark.json (``model``: a tagger or
    translator config, or None for the benchmark's own BiLSTM softmax tagger and LSTM translators)."""
    loops_for_process_threads()
    keras.utils.set_random_seed(0)
    arch, translator = architectures(b, model)
    tagger = benchmark_tagger(b, arch)
    return {
        "shapes": {**{key: b[key] for key in b}, "cell": arch.cell},
        "matmul_fp32_flops_per_second": tagger["matmul_fp32_flops_per_second"],
        "tagger": tagger,
        "translator": benchmark_translator(b, False, translator),
        "translator_attention": benchmark_translator(b, True, translator),
        # cuDNN vs the generic kernel and mixed precision: on a GPU (or when asked), as issue 6's GPU target needs
        "gpu": kernel_and_precision_comparison(b, arch) if (gpu_available() or b.compare_kernels) else None,
        "memory": peak_memory_bytes(),
        "environment": describe_environment(),
    }


FLOP_UNITS = (("flops_per_second", 1e9, "GFLOP/s"), ("flops_per_word", 1e6, "MFLOP"), ("flops_per_token", 1e6, "MFLOP"))


def _scaled(key: str, value: float) -> tuple[float, str]:
    """A FLOP figure in GFLOP/s or MFLOP, so that the table reads at a glance (the JSON keeps FLOPs)."""
    for suffix, scale, unit in FLOP_UNITS:
        if key.endswith(suffix):
            return value / scale, unit
    return value, ""


def _threads_note(environment: dict[str, str]) -> list[str]:
    """TensorFlow's pools (framework.threads), and a warning where one op may use fewer threads than there are
    cores: the reference matmul, one op, then runs at that share of the machine's rate, not all of it."""
    threads = environment.get("tensorflow_threads")
    if not threads:
        return []
    per_op = re.match(r"intra-op (\d+)", threads)
    cores = int(environment.get("cpu_cores", "0"))
    if per_op and int(per_op.group(1)) < cores:
        return [f"TensorFlow threads: {threads}; the reference matmul used {per_op.group(1)} of {cores} cores, "
                "so flops_fraction_of_matmul is against that rate, not the machine's"]
    return [f"TensorFlow threads: {threads}"]


def format_table(result: dict[str, Any]) -> str:
    """The headline figures as an aligned text table, named by their keys in benchmark.json."""
    rows = [("matmul fp32", *_scaled("matmul_fp32_flops_per_second", result["matmul_fp32_flops_per_second"]))]
    notes = []
    for section in ("tagger", "translator", "translator_attention", "gpu"):
        for key, value in (result.get(section) or {}).items():
            if isinstance(value, (float, int)) and not isinstance(value, bool):
                rows.append((f"{section}.{key}", *_scaled(key, value)))
            elif key == "kernels":
                notes.append(f"{section} RNN kernels: {'; '.join(sorted(set(value.values())))}")
    rows.append(("host peak RSS", result["memory"]["host_peak_rss_bytes"] / 2**20, "MiB"))
    arch = result["tagger"]["architecture"]
    notes.insert(0, f"tagger: {arch['model'] or 'the benchmark BiLSTM'}, {arch['cell']}, {arch['head']} head, "
                      f"{'bidirectional' if arch['bidirectional'] else 'one direction'}")
    arch = result["translator_attention"]["architecture"]
    notes.insert(1, f"translators: {arch['model'] or 'the benchmark LSTM pair'}, {arch['cell']}, "
                    f"{'bidirectional' if arch['encoder_bidirectional'] else 'one-direction'} encoder, "
                    f"{arch['bridge']} bridge, without attention and with {arch['attention']}")
    notes += _threads_note(result["environment"])
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name:<{width}}  {value:>12,d}  {unit}".rstrip() if isinstance(value, int)
             else f"{name:<{width}}  {value:>12,.3f}  {unit}".rstrip() for name, value, unit in rows]  # fmt: skip
    return "\n".join(lines + notes)
