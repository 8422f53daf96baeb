"""Where the benchmark tagger's training step spends its time, part by part (issue 6).

Times, in turns (``--rounds``, medians), at the benchmark's shapes: the whole training step
(``train_on_batch``), its forward pass with the loss, the forward and backward passes (the
gradients, no update), the optimizer's update alone (with gradients computed once), and the
recurrent encoder's forward and backward passes alone (on fixed embeddings, the tagger's own
encoder and weights). The parts overlap on the two cores and are not meant to add up; what the
figures say is how much of the step is the encoder, and so how much any change elsewhere can win.

    python3 scripts/measure_step_parts.py [--rounds 5] [--set batch_size=64 units=256 seq_len=40]
"""

from __future__ import annotations

import argparse
import statistics

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import numpy as np
import tensorflow as tf

from framework import benchmarking


def step_parts(shapes) -> dict:
    """The timed functions, by name, over one tagger and one batch."""
    x, tags = benchmarking.tagger_batch(shapes)
    model = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
    model.train_on_batch(x, tags)  # the optimizer's variables exist before its update is traced alone
    inputs = {key: tf.constant(value) for key, value in x.items()}
    gold = tf.constant(tags)
    weights = model.trainable_variables

    @tf.function
    def forward():
        return model.compute_loss(inputs, gold, model(inputs, training=True))

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(inputs, gold, model(inputs, training=True))
        return tape.gradient(loss, weights)

    fixed_gradients = gradients()

    @tf.function
    def update():
        model.optimizer.apply_gradients(zip(fixed_gradients, weights))

    embedded = tf.constant(np.random.default_rng(0).standard_normal(
        (shapes.batch_size, shapes.seq_len, shapes.embed_dim), dtype="float32"))  # fmt: skip
    mask = tf.ones((shapes.batch_size, shapes.seq_len), dtype=bool)  # the benchmark's batch has no padding

    @tf.function
    def encoder():
        with tf.GradientTape() as tape:
            tape.watch(embedded)
            outputs = model.encoder(embedded, mask=mask, training=True)
            loss = tf.reduce_sum(outputs * outputs)
        return tape.gradient(loss, [embedded, *model.encoder.trainable_variables])

    return {
        "training step (train_on_batch)": lambda: model.train_on_batch(x, tags),
        "forward pass and loss": forward,
        "forward + backward (gradients)": gradients,
        "optimizer update alone": update,
        "encoder forward + backward alone": encoder,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    seconds = benchmarking.timed_in_turns(step_parts(shapes), args.rounds, shapes.steps, shapes.warmup)
    whole = statistics.median(seconds["training step (train_on_batch)"])
    print(f"tagger, batch {shapes.batch_size} x {shapes.seq_len} steps, {shapes.units} units, {shapes.layers} layers; "
          f"medians of {args.rounds} rounds in turns")  # fmt: skip
    for name, values in seconds.items():
        median = statistics.median(values)
        rounds = ", ".join(f"{value * 1e3:.1f}" for value in values)
        print(f"{name:34s} {median * 1e3:8.2f} ms  {median / whole:5.0%} of the step  (rounds: {rounds})")


if __name__ == "__main__":
    main()
