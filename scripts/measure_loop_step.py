"""What one time step of the fused BiLSTM loop costs, piece by piece, on TensorFlow (issue 6).

The loop's matmuls are small (both directions' batch rows times one gate's [U, U] block), and
they bound ``flops_fraction_of_matmul``. Each piece below runs alone in a ``tf.while_loop`` of
``seq_len`` chained iterations at the benchmark's shapes, in turns with the others and with the
large matmul, ``--rounds`` times (medians): the recurrent matmul of the forward pass, the two of
the backward pass (the gradient for h, summed over the gates; the one for the recurrent kernels,
accumulated across steps), the gate math, an empty iteration, and the shipped step
(``bidirectional._gate_major_lstm_step``) forward and backward in Keras' loop.

    python3 scripts/measure_loop_step.py [--rounds 3] [--set batch_size=64 units=256 seq_len=40]
"""

from __future__ import annotations

import argparse
import statistics

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
import numpy as np
import tensorflow as tf

from framework import benchmarking
from framework.models import bidirectional
from framework.models.hoisted_rnn import lstm_update_gate_major, run_time_major


def chained(body, state, steps: int):
    """A traced function running ``body`` ``steps`` times, each iteration on the last one's output."""

    @tf.function
    def run():
        return tf.while_loop(lambda i, *s: i < steps, lambda i, *s: (i + 1, *body(*s)), (0, *state))[1]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10, help="timed loops per piece and round")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    batch, units, steps = shapes.batch_size, shapes.units, shapes.seq_len
    rng = np.random.default_rng(0)

    def variable(*shape):
        return tf.Variable(rng.standard_normal(shape, dtype="float32") * 0.05)

    h, kernels, dz = variable(1, 2, batch, units), variable(4, 2, units, units), variable(4, 2, batch, units)
    z, c = variable(4, 2 * batch, units), variable(2 * batch, units)
    forward_cell, backward_cell = keras.layers.LSTMCell(units), keras.layers.LSTMCell(units)
    for cell in (forward_cell, backward_cell):
        cell.build((None, units))
    step = bidirectional._gate_major_lstm_step(forward_cell, backward_cell, units)
    projected = variable(steps, 4, 2 * batch, units)

    @tf.function
    def shipped_step():
        with tf.GradientTape() as tape:
            tape.watch(projected)
            zeros = tf.zeros((2 * batch, units))
            _, outputs, _ = run_time_major(step, projected, [zeros, zeros], None)
            loss = tf.reduce_sum(outputs)
        return tape.gradient(loss, [projected, forward_cell.recurrent_kernel])[0]

    pieces = {  # name: (traced function, how many of the step's recurrent matmuls it does)
        "forward: recurrent matmul": (chained(lambda x: (tf.matmul(x, kernels)[:1],), (h.read_value(),), steps), 1),
        "backward: gradient for h, summed over gates": (chained(
            lambda d: (d + tf.reduce_sum(tf.matmul(d, kernels, adjoint_b=True), 0, keepdims=True),),
            (dz.read_value(),), steps), 1),
        "backward: gradient for the kernels, accumulated": (chained(
            lambda total: (total + tf.matmul(h, dz, adjoint_a=True),), (tf.zeros_like(kernels),), steps), 1),
        "forward: gate math (3 sigmoid, 2 tanh)": (chained(  # z + cc: loop-variant, so not hoisted out
            lambda cc: (lstm_update_gate_major(forward_cell, z + cc, cc)[1],), (c.read_value(),), steps), 0),
        "an empty iteration": (chained(lambda x: (x + 1.0,), (c.read_value(),), steps), 0),
        "shipped step, forward + backward": (shipped_step, 3),
    }
    seconds = {name: [] for name in pieces}
    matmul_rates = []
    for _ in range(args.rounds):
        matmul_rates.append(benchmarking.matmul_flops_per_second(shapes.matmul_size))
        for name, (piece, _) in pieces.items():
            seconds[name].append(benchmarking.timed(piece, args.repeats, 2) / steps)
    matmul_rate = statistics.median(matmul_rates)
    flops = 2.0 * 2 * batch * units * 4 * units  # one of the step's three matmuls, both directions
    print(f"large matmul: {matmul_rate / 1e9:.1f} GFLOP/s; per step, one matmul of {flops / 1e6:.1f} MFLOP "
          f"would take {flops / matmul_rate * 1e6:.1f} us at that rate (a step has three: forward, two backward)")
    print(f"{'piece':52s} {'us/step':>9s} {'GFLOP/s':>9s}")
    for name, values in seconds.items():
        median, count = statistics.median(values), pieces[name][1]
        rate = f"{count * flops / median / 1e9:9.1f}" if count else f"{'':9s}"
        print(f"{name:52s} {median * 1e6:9.1f} {rate}")


if __name__ == "__main__":
    main()
