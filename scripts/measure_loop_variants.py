"""Three rewrites of the fused BiLSTM loop, each timed against the shipped one in one process (issue 6).

The loop's small matmuls and per-step operations bound ``flops_fraction_of_matmul``. These are
the rewrites tried to move it, kept here so that the README's figures for them can be rerun:

1. two wide recurrent GEMMs per step (``[2, B, U] @ [2, U, 4U]``, the product then transposed to
   gate-major) instead of one batched matmul over eight ``[U, U]`` blocks;
2. ``k`` time steps per iteration of the loop (its per-iteration cost paid ``T / k`` times);
3. a hand-written backward pass for the whole loop (``tf.custom_gradient``): the forward loop keeps
   the gates, a backward loop computes each step's gate gradients and one matmul for ``dh``, and the
   recurrent kernels' gradient is one batched matmul after the loop;
4. TensorFlow's own backward pass of the loop with the recurrent kernels held constant in it (a
   ``GradientTape`` inside ``tf.custom_gradient``), their gradient then one batched matmul of
   ``h_{t-1}`` with the input projections' gradient, which is every step's ``dz`` already;
5. fewer activation ops a step: the weights' gate columns put in the order i, f, o, c once per call
   (outside the loop), so one sigmoid covers the three sigmoid gates ([3, 2B, U]) instead of three;
6. one sigmoid over all four gates, the candidate's tanh as ``2 sigmoid(2z) - 1`` with the factor 2
   folded into the candidate's weight columns once per call.

1, 2, 5 and 6 train the benchmark's tagger (training words/s, in turns, medians of ``--rounds``; 5 and 6
first checked to give the shipped outputs on the same weights); 3 and 4
time forward + backward of one fused layer at the tagger's second layer's shapes and first check
that they compute the shipped gradients. None of them is shipped: see the README ("Speed benchmark").

    python3 scripts/measure_loop_variants.py [--rounds 4] [--steps-per-iteration 2 4 8] [--set units=256 ...]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import types

import framework  # noqa: F401  (first: it turns TensorFlow's oneDNN kernels on before TensorFlow loads)

import keras
import tensorflow as tf
from keras import ops

from framework import benchmarking
from framework.models import bidirectional, cudnn, hoisted_rnn
from framework.models.hoisted_rnn import lstm_update_gate_major


TRACED: set[str] = set()  # the rewrites that a traced training step took (a check that each was measured)


def wide_gemm_step(forward_cell, backward_cell, units):
    """Rewrite 1: the recurrent matmul as one [B, U] @ [U, 4U] GEMM per direction."""
    TRACED.add("wide")
    kernels = bidirectional._stack(forward_cell.recurrent_kernel, backward_cell.recurrent_kernel)  # [2, U, 4U]

    def step(z_input, states):
        h_previous, c_previous = states
        recurrent = ops.matmul(ops.reshape(h_previous, (2, -1, units)), kernels)  # [2, B, 4U]
        recurrent = ops.transpose(ops.reshape(recurrent, (2, -1, 4, units)), (2, 0, 1, 3))  # [4, 2, B, U]
        h, c = lstm_update_gate_major(forward_cell, z_input + ops.reshape(recurrent, (4, -1, units)), c_previous)
        return h, [h, c]

    return step


def _gate_columns(weight, units, order):
    """``weight`` [..., 4U] with its gate blocks (Keras' i, f, c, o) taken in ``order``, (gate, scale) pairs."""
    blocks = [weight[..., gate * units : (gate + 1) * units] for gate, _ in order]
    scaled = [block * scale if scale != 1 else block for block, (_, scale) in zip(blocks, order)]
    return ops.concatenate(scaled, axis=-1)


SHIPPED_PROJECTIONS = bidirectional._project_gate_major  # before any rewrite replaces them
SHIPPED_STEP = bidirectional._gate_major_lstm_step


@contextlib.contextmanager
def reordered_gates(order, update):
    """Rewrites 5 and 6 in place: the shipped fused loop run on its cells' weights with their gate
    blocks in ``order`` ((Keras gate, scale) pairs), and ``update(z, c_previous) -> (h, c)`` as its
    step's gate math."""

    def reordered(cell, units):
        """The weights the shipped projection and step read, with their gate blocks reordered."""
        return types.SimpleNamespace(
            kernel=_gate_columns(cell.kernel, units, order),
            recurrent_kernel=_gate_columns(cell.recurrent_kernel, units, order),
            bias=_gate_columns(cell.bias, units, order) if cell.use_bias else None,
            use_bias=cell.use_bias,
        )

    def project(forward_cell, backward_cell, sequences, reversed_sequences, units):
        return SHIPPED_PROJECTIONS(reordered(forward_cell, units), reordered(backward_cell, units), sequences,
                                   reversed_sequences, units)  # fmt: skip

    def make_step(forward_cell, backward_cell, units):
        return SHIPPED_STEP(reordered(forward_cell, units), reordered(backward_cell, units), units)

    def gate_math(cell, z, c_previous):
        TRACED.add(update.__name__)
        return update(z, c_previous)

    with replaced(bidirectional, "_project_gate_major", project):
        with replaced(bidirectional, "_gate_major_lstm_step", make_step):
            with replaced(bidirectional, "lstm_update_gate_major", gate_math):
                yield


def one_sigmoid_ifo(z, c_previous):
    """Rewrite 5's gate math: z [4, N, U] in the order i, f, o, c."""
    sigmoid_gates, z_c = ops.split(z, [3], axis=0)
    i, f, o = ops.unstack(ops.sigmoid(sigmoid_gates), axis=0)
    c = f * c_previous + i * ops.tanh(ops.squeeze(z_c, 0))
    return o * ops.tanh(c), c


def one_sigmoid_all(z, c_previous):
    """Rewrite 6's gate math: z [4, N, U] in Keras' order, the candidate's block doubled."""
    i, f, s_c, o = ops.unstack(ops.sigmoid(z), axis=0)
    c = f * c_previous + i * (2.0 * s_c - 1.0)
    return o * ops.tanh(c), c


def steps_per_iteration(k: int):
    """Rewrite 2: ``run_time_major`` whose loop body runs ``k`` consecutive steps (the fused
    training loop's case: no mask in the loop, all outputs returned)."""
    shipped = hoisted_rnn.run_time_major

    def run(step, projected, states, mask, *, zero_output_for_mask=False, return_sequences=True):
        steps = projected.shape[0]
        if mask is not None or not return_sequences or steps % k:
            return shipped(step, projected, states, mask, zero_output_for_mask=zero_output_for_mask,
                           return_sequences=return_sequences)  # fmt: skip

        def k_steps(z_group, group_states):
            outputs = []
            for z in ops.unstack(z_group, axis=0):
                h, group_states = step(z, group_states)
                outputs.append(h)
            return ops.stack(outputs, axis=0), group_states

        TRACED.add(f"{k} steps")
        grouped = ops.reshape(projected, (steps // k, k, *projected.shape[1:]))
        last, outputs, states = hoisted_rnn.keras_backend.rnn(
            k_steps, grouped, states, unroll=False, input_length=steps // k, time_major=True
        )  # outputs [T / k, k, N, U]
        return last[-1], hoisted_rnn.time_major(ops.reshape(outputs, (steps, *outputs.shape[2:]))), states

    return run


@contextlib.contextmanager
def replaced(module, name: str, value):
    """``module.name`` is ``value`` while a model traces its training step inside this block."""
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def hand_written_loop(projected, kernels):
    """Rewrite 3: the fused gate-major LSTM loop, [T, 4, 2B, U] projections and [4, 2, U, U]
    kernels -> outputs [T, 2B, U], with its backward pass written out."""
    steps, rows, units = projected.shape[0], projected.shape[2], projected.shape[3]
    # One sigmoid over all four gates: tanh(x) = 2 sigmoid(2x) - 1 for the candidate (gate 2).
    scale = ops.reshape(ops.convert_to_tensor([1.0, 1.0, 2.0, 1.0]), (4, 1, 1))
    shift = ops.reshape(ops.convert_to_tensor([0.0, 0.0, 1.0, 0.0]), (4, 1, 1))
    zeros = ops.zeros((rows, units))

    @tf.custom_gradient
    def loop(projected, kernels):
        def step(z_input, states):
            h, c = states
            recurrent = ops.reshape(ops.matmul(ops.reshape(h, (1, 2, -1, units)), kernels), (4, -1, units))
            gates = ops.sigmoid((z_input + recurrent) * scale) * scale - shift
            i, f, g, o = ops.unstack(gates, axis=0)
            c = f * c + i * g
            h = o * ops.tanh(c)
            return (h, gates, c), [h, c]

        _, (outputs, gates, cells), _ = hoisted_rnn.keras_backend.rnn(
            step, projected, [zeros, zeros], unroll=False, input_length=steps, time_major=True
        )  # fmt: skip

        def gradient(d_outputs):
            cells_before = ops.concatenate([ops.expand_dims(zeros, 0), cells[:-1]], axis=0)
            kernels_t = ops.transpose(kernels, (0, 1, 3, 2))

            def back_step(inputs, states):
                d_output, gate, c, c_before = inputs
                dh_next, dc_next = states
                i, f, g, o = ops.unstack(gate, axis=0)
                dh, tanh_c = d_output + dh_next, ops.tanh(c)
                dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)
                sigmoid = (gate + shift) / scale
                dz = ops.stack([dc * g, dc * c_before, dc * i, dh * tanh_c], 0) * sigmoid * (1.0 - sigmoid) * scale**2
                dh_before = ops.sum(ops.matmul(ops.reshape(dz, (4, 2, -1, units)), kernels_t), axis=0)
                return dz, [ops.reshape(dh_before, (-1, units)), dc * f]

            _, d_projected, _ = hoisted_rnn.keras_backend.rnn(
                back_step, (d_outputs, gates, cells, cells_before), [zeros, zeros], go_backwards=True,
                unroll=False, input_length=steps, time_major=True,
            )  # fmt: skip
            d_projected = ops.flip(d_projected, axis=0)  # the loop ran backwards: outputs in reverse time
            before = ops.concatenate([ops.expand_dims(zeros, 0), outputs[:-1]], axis=0)  # h_{t-1}, [T, 2B, U]
            # [1, 2, U, T*B]: per direction, h_{t-1} of every step and sentence as columns
            before = ops.reshape(ops.transpose(ops.reshape(before, (steps, 2, -1, units)), (1, 3, 0, 2)),
                                 (1, 2, units, -1))  # fmt: skip
            dz = ops.transpose(ops.reshape(d_projected, (steps, 4, 2, -1, units)), (1, 2, 0, 3, 4))
            return d_projected, ops.matmul(before, ops.reshape(dz, (4, 2, -1, units)))

        return outputs, gradient

    return loop(projected, kernels)


def _merged_directions(outputs, batch, units):
    """A rewrite's loop outputs [2B, T, U] (forward rows, then the backward ones reversed in time)
    as the layer's [B, T, 2U], the backward direction put back in order."""
    y, y_backward = ops.unstack(ops.reshape(outputs, (2, batch, -1, units)), axis=0)
    return ops.concatenate([y, ops.flip(y_backward, axis=1)], axis=-1)


def hand_written_layer(layer, sequences):
    """The fused layer's training call (no padding) with the loop of ``hand_written_loop``."""
    forward, backward = layer.forward_layer.cell, layer.backward_layer.cell
    units, batch = forward.units, sequences.shape[0]
    reversed_sequences = ops.flip(sequences, axis=1)
    projected = bidirectional._project_gate_major(forward, backward, sequences, reversed_sequences, units)
    kernels = hoisted_rnn.gate_major_kernels(bidirectional._stack(forward.recurrent_kernel, backward.recurrent_kernel),
                                             units)  # fmt: skip
    outputs = hoisted_rnn.time_major(hand_written_loop(projected, kernels))  # [2B, T, U]
    return _merged_directions(outputs, batch, units)


def kernel_gradient_after_loop(forward_cell, projected, kernels, batch):
    """Rewrite 4: the fused loop over both directions' projections ``projected`` [2, T*B, 4U] and
    recurrent kernels [2, U, 4U] -> outputs [T, 2B, U]; autodiff runs the loop's backward pass with
    the kernels constant, and their gradient is ``h_{t-1}^T dz_t`` summed over t, one matmul."""
    units = forward_cell.units

    @tf.custom_gradient
    def loop(projected, kernels):
        with tf.GradientTape() as tape:
            tape.watch(projected)
            steps = projected.shape[1] // batch
            gate_major = bidirectional._gate_major_projections(projected, steps, batch, units)
            blocks = hoisted_rnn.gate_major_kernels(tf.stop_gradient(kernels), units)  # [4, 2, U, U]
            step = bidirectional._gate_major_lstm_step_with(forward_cell, blocks, units)
            zeros = ops.zeros((2 * batch, units))
            _, outputs, _ = hoisted_rnn.keras_backend.rnn(step, gate_major, [zeros, zeros], unroll=False,
                                                          input_length=steps, time_major=True)  # fmt: skip

        def gradient(d_outputs):
            d_projected = tape.gradient(outputs, projected, output_gradients=d_outputs)  # [2, T*B, 4U]: dz
            before = ops.concatenate([ops.expand_dims(zeros, 0), outputs[:-1]], axis=0)  # h_{t-1}, [T, 2B, U]
            before = ops.reshape(ops.transpose(ops.reshape(before, (steps, 2, batch, units)), (1, 0, 2, 3)),
                                 (2, -1, units))  # fmt: skip
            return d_projected, tf.matmul(before, d_projected, transpose_a=True)  # [2, U, 4U]

        return outputs, gradient

    return loop(projected, kernels)


def kernel_gradient_after_loop_layer(layer, sequences):
    """The fused layer's training call (no padding) with the loop of ``kernel_gradient_after_loop``."""
    forward, backward = layer.forward_layer.cell, layer.backward_layer.cell
    units, batch = forward.units, sequences.shape[0]
    projected = bidirectional._project_both(forward, backward, sequences, ops.flip(sequences, axis=1))
    kernels = bidirectional._stack(forward.recurrent_kernel, backward.recurrent_kernel)
    outputs = hoisted_rnn.time_major(kernel_gradient_after_loop(forward, projected, kernels, batch))  # [2B, T, U]
    return _merged_directions(outputs, batch, units)


def forward_backward(call, sequences, weights, d_outputs):
    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch(sequences)
            loss = tf.reduce_sum(call(sequences) * d_outputs)
        return tape.gradient(loss, [sequences, *weights])

    return run


def tagger_variants(shapes, ks: list[int], rounds: int) -> None:
    x, tags = benchmarking.tagger_batch(shapes)
    variants = {"shipped": (None, contextlib.nullcontext()),
                "two wide recurrent GEMMs per step": ("wide", replaced(bidirectional, "_gate_major_lstm_step",
                                                                       wide_gemm_step))}  # fmt: skip
    for name, key, order in (("one sigmoid over i, f, o", "one_sigmoid_ifo", ((0, 1), (1, 1), (3, 1), (2, 1))),
                             ("one sigmoid over all four gates", "one_sigmoid_all", ((0, 1), (1, 1), (2, 2), (3, 1)))):
        variants[name] = (key, reordered_gates(order, globals()[key]))
    for k in ks:
        if shapes.seq_len % k == 0:
            variants[f"{k} steps per loop iteration"] = (f"{k} steps", replaced(bidirectional, "run_time_major",
                                                                                steps_per_iteration(k)))  # fmt: skip
    models, reference = {}, None
    for name, (key, variant) in variants.items():
        with variant:
            models[name] = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
            if reference is None:
                reference = models[name].get_weights(), models[name](x, training=True)
            else:  # the same weights must give the shipped outputs
                models[name].set_weights(reference[0])
                gap = float(ops.max(ops.abs(models[name](x, training=True) - reference[1])))
                if gap > 1e-5:
                    raise SystemExit(f"error: the rewrite '{name}' differs from the shipped outputs by {gap:.2e}")
            models[name].train_on_batch(x, tags)  # traced with the variant
        if key is not None and key not in TRACED:
            raise SystemExit(f"error: the training step did not reach the rewrite '{name}' (no fused loop?)")
    steps = {name: (lambda model=model: model.train_on_batch(x, tags)) for name, model in models.items()}
    per_batch = shapes.batch_size * shapes.seq_len
    rates = {name: [per_batch / seconds for seconds in values]
             for name, values in benchmarking.timed_in_turns(steps, rounds, shapes.steps, shapes.warmup).items()}
    shipped = statistics.median(rates["shipped"])
    print(f"tagger training, batch {shapes.batch_size} x {shapes.seq_len} steps, {shapes.units} units; "
          f"medians of {rounds} rounds in turns")  # fmt: skip
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:40s} {median:9,.0f} words/s  x{median / shipped:.2f}  (rounds: "
              f"{', '.join(f'{v:,.0f}' for v in values)})")  # fmt: skip


def layer_variants(shapes, rounds: int) -> None:
    units = shapes.units
    layer = bidirectional.FusedBidirectional(hoisted_rnn.HoistedLSTM(units, return_sequences=True))
    sequences = tf.random.stateless_normal((shapes.batch_size, shapes.seq_len, 2 * units), seed=(0, 1))
    d_outputs = tf.random.stateless_normal((shapes.batch_size, shapes.seq_len, 2 * units), seed=(0, 2))
    mask = tf.ones((shapes.batch_size, shapes.seq_len), bool)
    layer(sequences, mask=mask, training=True)
    weights = layer.trainable_variables
    rewrites = {"hand-written backward pass": hand_written_layer,
                "kernel gradient after the loop": kernel_gradient_after_loop_layer}  # fmt: skip
    calls = {"shipped": forward_backward(lambda s: layer(s, mask=mask, training=True), sequences, weights, d_outputs)}
    for name, rewrite in rewrites.items():
        calls[name] = forward_backward(lambda s, rewrite=rewrite: rewrite(layer, s), sequences, weights, d_outputs)
    expected, gaps = calls["shipped"](), []
    for name in rewrites:
        gaps.append(max(float(tf.reduce_max(tf.abs(a - b)) / (tf.reduce_max(tf.abs(a)) + 1e-12))
                        for a, b in zip(expected, calls[name]())))  # fmt: skip
        if gaps[-1] > 1e-4:
            raise SystemExit(f"error: the rewrite '{name}' differs from the shipped gradients by {gaps[-1]:.2e}")
    seconds = benchmarking.timed_in_turns(calls, rounds, shapes.steps, shapes.warmup)
    print(f"one fused layer ({2 * units} inputs, {units} units), forward + backward; gradients agree to "
          f"{max(gaps):.1e} (relative)")  # fmt: skip
    for name, values in seconds.items():
        print(f"{name:40s} {1000 * statistics.median(values):9.2f} ms  (rounds: "
              f"{', '.join(f'{1000 * v:.1f}' for v in values)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps-per-iteration", type=int, nargs="*", default=[2, 4, 8], metavar="K")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    keras.utils.set_random_seed(0)
    with cudnn.hoisting_everywhere():  # the fused loop at any size given, as it runs at the default 256 units
        tagger_variants(shapes, args.steps_per_iteration, args.rounds)
        layer_variants(shapes, args.rounds)


if __name__ == "__main__":
    main()
