"""What a compiled, fused LSTM kernel reaches at the benchmark's tagger shapes on this CPU (issue 6).

On some CPUs the Keras-ops loops stay short of issue 6's CPU targets (``speedup_vs_plain_keras``
>= 1.3, ``flops_fraction_of_matmul`` >= 0.6; README "An Intel Xeon CPU"), and the lever left is a
compiled, backend-specific loop kernel. PyTorch ships one: ``torch.nn.LSTM`` on a CPU runs
oneDNN's fused LSTM primitive, forward and backward, the time loop in C++. This script trains the
benchmark's network (embeddings, stacked BiLSTM, a softmax layer, Adam, full-length sentences) in
plain PyTorch beside our tagger and plain Keras on TensorFlow, in one process, and prints each one's
training words/s, its ratio to plain Keras and its FLOP fraction of the same round's large TensorFlow
matmul: what such a kernel could be worth here before anyone writes one. It needs PyTorch
(``pip install -e ".[torch]"`` or PyTorch's CPU build) and the TensorFlow backend.

Unlike the benchmark, each round times the three in blocks (``benchmark.steps`` calls each, after
``benchmark.warmup`` untimed ones, the order reversed every other round), not call by call: after a
PyTorch call its OpenMP threads keep spinning for a while and slow whatever TensorFlow runs next
(timed call by call, the TensorFlow taggers trained 25-40% slower than with ``OMP_WAIT_POLICY=PASSIVE``
in the run before; README "An Intel Xeon CPU"), and the untimed calls that open each block absorb that.

    python3 scripts/measure_fused_lstm_ceiling.py [--rounds 3] [--set units=256 ...]
"""

from __future__ import annotations

import argparse
import statistics

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
import numpy as np

from framework import benchmarking


def torch_tagger(torch, shapes):
    """The benchmark's BiLSTM softmax tagger in plain PyTorch, and its training step (returns the loss)."""
    embedding = torch.nn.Embedding(shapes.vocab_size, shapes.embed_dim)
    lstm = torch.nn.LSTM(shapes.embed_dim, shapes.units, num_layers=shapes.layers, bidirectional=True,
                         batch_first=True)  # fmt: skip
    output = torch.nn.Linear(2 * shapes.units, shapes.num_tags)
    model = torch.nn.ModuleList([embedding, lstm, output])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step(words, tags):
        optimizer.zero_grad(set_to_none=True)
        logits = output(lstm(embedding(words))[0])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, shapes.num_tags), tags.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    return train_step


def lstm_kernel(torch, step) -> str:
    """Which of PyTorch's CPU LSTM kernels ``step`` ran, read from its profiler trace."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as trace:
        step()
    names = {event.name for event in trace.events()}
    if any("mkldnn_rnn" in name for name in names):
        return "oneDNN's fused LSTM (mkldnn_rnn_layer)"
    return "ATen's LSTM loop (no oneDNN)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("error: this script compares against Keras on TensorFlow; unset KERAS_BACKEND")
    try:
        import torch
    except ImportError:
        raise SystemExit("error: PyTorch is not installed (pip install -e '.[torch]')") from None
    shapes = benchmarking.shapes_from_command_line(args.set)
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)
    benchmarking.loops_for_process_threads()  # as in training
    x, tags = benchmarking.tagger_batch(shapes)
    ours = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
    plain = benchmarking._plain_tagger(shapes, benchmarking.BILSTM_SOFTMAX)
    torch_step = torch_tagger(torch, shapes)
    words, gold = torch.from_numpy(x["words"].astype(np.int64)), torch.from_numpy(tags.astype(np.int64))
    calls = {
        "our tagger (TensorFlow)": lambda: ours.train_on_batch(x, tags),
        "plain Keras (TensorFlow)": lambda: plain.train_on_batch(x["words"], tags),
        "torch.nn.LSTM (PyTorch)": lambda: torch_step(words, gold),
    }
    kernel = lstm_kernel(torch, calls["torch.nn.LSTM (PyTorch)"])
    rounds: dict[str, list[float]] = {"matmul": [], **{name: [] for name in calls}}
    for round_number in range(args.rounds):
        rounds["matmul"].append(benchmarking.matmul_flops_per_second(shapes.matmul_size))
        for name in calls if round_number % 2 == 0 else reversed(calls):
            rounds[name].append(benchmarking.timed(calls[name], shapes.steps, shapes.warmup))
    per_batch = shapes.batch_size * shapes.seq_len
    flops = benchmarking.lstm_flops_per_word(shapes.embed_dim, shapes.units, shapes.layers, bidirectional=True)
    print(f"tagger training, batch {shapes.batch_size} x {shapes.seq_len} steps, {shapes.layers} BiLSTM layers of "
          f"{shapes.units}; medians of {args.rounds} rounds, in blocks; TensorFlow matmul GFLOP/s per round: "
          f"{', '.join(f'{m / 1e9:.1f}' for m in rounds['matmul'])}")  # fmt: skip
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, LSTM kernel: {kernel}")
    plain_seconds = rounds["plain Keras (TensorFlow)"]
    for name in calls:
        seconds = rounds[name]
        rates = [per_batch / s for s in seconds]
        fraction = benchmarking.median_ratio([rate * flops for rate in rates], rounds["matmul"])
        speedup = benchmarking.median_ratio(plain_seconds, seconds)
        print(f"{name:26s} {statistics.median(rates):9,.0f} words/s  x{speedup:.2f} plain Keras  FLOP fraction "
              f"{fraction:.2f}  (rounds: {', '.join(f'{r:,.0f}' for r in rates)})")  # fmt: skip


if __name__ == "__main__":
    main()
