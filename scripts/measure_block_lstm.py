"""Our BiLSTM loop against TensorFlow's fused CPU LSTM kernel, side by side in one process (issue 6).

TensorFlow ships a whole-sequence LSTM op in C++ (``tf.raw_ops.BlockLSTMV2`` and its gradient,
once ``tf.contrib.rnn.LSTMBlockFusedCell``): no per-step op dispatch at all. This script checks
whether it would beat the keras.ops loop that rnnseq runs off cuDNN (hoisted input projection,
both directions in one loop, gate-major steps). It times forward + backward of one bidirectional
layer at the benchmark's shapes, both ways, in turns, and first checks that the two compute the
same outputs (BlockLSTMV2 takes Keras' weights as they are: [x, h] @ [kernel; recurrent kernel],
gates i, f, c, o).

    python3 scripts/measure_block_lstm.py [--batch 64 --steps 40 --units 256 --inputs 128 512]

TensorFlow only (this is a measurement, not a code path: the models stay keras.ops).
"""

from __future__ import annotations

import argparse
import statistics

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
import numpy as np
import tensorflow as tf

from framework.benchmarking import timed
from framework.models.bidirectional import FusedBidirectional
from framework.models.hoisted_rnn import HoistedLSTM


def block_lstm(x, lstm):
    """One direction with BlockLSTMV2: ``x`` [T, B, in], the weights of a Keras LSTM."""
    units = lstm.cell.units
    zeros, no_peephole = tf.zeros((tf.shape(x)[1], units)), tf.zeros((units,))
    outputs = tf.raw_ops.BlockLSTMV2(
        seq_len_max=tf.cast(tf.shape(x)[0], tf.int64), x=x, cs_prev=zeros, h_prev=zeros,
        w=tf.concat([lstm.cell.kernel, lstm.cell.recurrent_kernel], axis=0), b=lstm.cell.bias,
        wci=no_peephole, wcf=no_peephole, wco=no_peephole, cell_clip=0.0, use_peephole=False,
    )  # fmt: skip
    return outputs[6]  # h at every step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--inputs", type=int, nargs="+", default=[128, 512], help="input widths (the layers)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    for width in args.inputs:
        layer = FusedBidirectional(HoistedLSTM(args.units, return_sequences=True))
        layer.build((args.batch, args.steps, width))
        x = tf.constant(np.random.default_rng(0).standard_normal((args.batch, args.steps, width), dtype="float32"))
        mask = tf.ones((args.batch, args.steps), tf.bool)

        def ours():
            return layer(x, mask=mask, training=True)

        def fused_op():
            time_major = tf.transpose(x, (1, 0, 2))
            forward = block_lstm(time_major, layer.forward_layer)
            backward = tf.reverse(block_lstm(tf.reverse(time_major, [0]), layer.backward_layer), [0])
            return tf.transpose(tf.concat([forward, backward], axis=-1), (1, 0, 2))

        gap = float(tf.reduce_max(tf.abs(tf.function(ours)() - tf.function(fused_op)())))
        variants = (("ours", ours), ("BlockLSTMV2", fused_op))
        steps = {name: _training_step(function, layer) for name, function in variants}
        times = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():
                times[name].append(timed(lambda: step()[0], args.iterations, 1))  # [0]: wait for a gradient
        flops = 3 * 2 * (2 * width * 4 * args.units + 2 * args.units * 4 * args.units) * args.batch * args.steps
        print(f"input width {width}: outputs differ by at most {gap:.1e}; recurrent math {flops / 1e9:.2f} GFLOP")
        for name, seconds in times.items():
            rounds = ", ".join(f"{1000 * s:.1f}" for s in seconds)
            median = statistics.median(seconds)
            print(f"  {name:12s} {1000 * median:7.1f} ms forward+backward ({flops / median / 1e9:.1f} GFLOP/s; "
                  f"rounds {rounds} ms)")  # fmt: skip


def _training_step(forward, layer):
    """forward + backward (the gradients of all weights) as one traced graph."""

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(forward()))
        return tape.gradient(loss, layer.trainable_variables)

    return step


if __name__ == "__main__":
    main()
