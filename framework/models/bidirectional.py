"""A Bidirectional wrapper that runs both directions in one generic time loop.

``keras.layers.Bidirectional`` runs the forward and the backward layer one after the other: two
time loops of small matmuls. Off cuDNN (a CPU), the loop's per-step overhead dominates at
tagger sizes, so here both directions share one loop: the backward direction reads each
sentence reversed within its length (right-padded masks, as cuDNN also needs), which makes its
mask equal to the forward one; the two are stacked along the batch, each step does one batched
matmul ``[2, B, U] @ [2, U, G*U]`` with both recurrent kernels, and the results are split and
merged exactly as Keras merges them (outputs, zero at padded positions, and final states equal
the stock wrapper's; the tests compare them). Weights and config are the stock wrapper's. An
LSTM's loop runs gate-major (``hoisted_rnn.GATE_MAJOR``): inputs [T, 4, 2B, U] and recurrent
kernels [4, 2, U, U], so each step takes its gates apart along the leading axis for free.

Anything else (a GPU with cuDNN, initial states, a merge mode other than concat, settings the
hoisted loop does not take) goes through ``keras.layers.Bidirectional`` unchanged; on a PyTorch
GPU without the (all-true) mask of an unpadded batch, so that Keras can run both directions in one
cuDNN call (its PyTorch backend takes that path only without a mask; ``ONE_CALL_CUDNN``).
"""

from __future__ import annotations

import keras
from keras import ops
from keras.src.backend.common import global_state  # load_model's object-sharing maps (see __init__)

from framework.models import hoisted_rnn
from framework.models.hoisted_rnn import (HoistedGRU, HoistedLSTM, gate_major_kernels, gru_update, lstm_update,
                                         lstm_update_gate_major, project_time_major, run_time_major, time_major)


def reverse_within_lengths(x, mask):
    """Each row of ``x`` [B, T, D] reversed over its first ``sum(mask)`` steps; padding stays put."""
    if mask is None:
        return ops.flip(x, axis=1)
    batch, steps = ops.shape(x)[0], ops.shape(x)[1]
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)
    positions = ops.expand_dims(ops.arange(steps, dtype="int32"), 0)
    index = ops.where(positions < lengths, lengths - 1 - positions, positions)
    rows = ops.expand_dims(ops.arange(batch, dtype="int32") * steps, 1)
    flat = ops.reshape(x, (-1, x.shape[-1]))
    return ops.reshape(ops.take(flat, ops.reshape(index + rows, (-1,)), axis=0), ops.shape(x))


# One loop for both directions while training: each step's ops are then twice as large, which pays
# where every op runs on several threads (TensorFlow's default). With one thread an op, two loops,
# one a direction, run side by side on two cores instead; there the shared loop trained at 0.75-0.80x
# of them on a 2-core CPU (README "Threads"). framework.threads sets this from the process's setting.
FUSE_IN_TRAINING = True

# On a PyTorch GPU, an unpadded batch reaches Keras' one-call bidirectional cuDNN path (see the
# module docstring); False keeps two cuDNN calls, one per direction, for side-by-side measurement
# (recipes/benchmark.py's ``gpu`` section).
ONE_CALL_CUDNN = True


@keras.saving.register_keras_serializable(package="rnnseq")
class FusedBidirectional(keras.layers.Bidirectional):
    """``keras.layers.Bidirectional`` over a HoistedLSTM/HoistedGRU with one loop for both directions."""

    def __init__(self, layer, *args, **kwargs):
        # Keras recreates ``layer`` (forward and backward) by serializing it. Inside load_model's
        # object-sharing scope that bookkeeping keys objects by id(), which a freed temporary layer
        # hands on to the next one, so the "recreated" layer could come back as an earlier,
        # unrelated layer. Nothing is shared here: run the recreation outside that scope.
        keys = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")
        saved = [global_state.get_global_attribute(key) for key in keys]
        for key in keys:
            global_state.set_global_attribute(key, None)
        try:
            super().__init__(layer, *args, **kwargs)
        finally:
            for key, value in zip(keys, saved):
                global_state.set_global_attribute(key, value)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if not self._fusable(initial_state, training):
            if ONE_CALL_CUDNN and isinstance(self.forward_layer, (HoistedLSTM, HoistedGRU)):
                mask = self.forward_layer._cudnn_mask(mask)  # None only for an unpadded batch on a PyTorch GPU
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        return self._fused_call(sequences, mask)

    def _fusable(self, initial_state, training) -> bool:
        forward, backward = self.forward_layer, self.backward_layer
        if initial_state is not None or self.stateful or self.merge_mode != "concat":
            return False
        if type(forward) is not type(backward) or not isinstance(forward, (HoistedLSTM, HoistedGRU)):
            return False
        if isinstance(forward, HoistedGRU) and forward.cell.reset_after != backward.cell.reset_after:
            return False
        same_math = (forward.cell.activation is backward.cell.activation
                     and forward.cell.recurrent_activation is backward.cell.recurrent_activation
                     and forward.cell.use_bias == backward.cell.use_bias)  # fmt: skip
        # Training only: there the shared loop pays (forward and backward pass); in inference the
        # reversal gathers cost more than the second loop saves (measured: scripts/measure_rnn_loops.py).
        return (FUSE_IN_TRAINING and same_math and bool(training)
                and forward._hoistable(training) and backward._hoistable(training))  # fmt: skip

    def _fused_call(self, sequences, mask):
        forward, backward = self.forward_layer, self.backward_layer
        is_lstm = isinstance(forward, HoistedLSTM)
        units = forward.cell.units
        sequences = ops.convert_to_tensor(sequences)
        batch = ops.shape(sequences)[0]
        reversed_sequences = reverse_within_lengths(sequences, mask)
        if is_lstm and hoisted_rnn.GATE_MAJOR:
            projected = _project_gate_major(forward.cell, backward.cell, sequences, reversed_sequences, units)
            step = _gate_major_lstm_step(forward.cell, backward.cell, units)
        else:
            projected = ops.concatenate(
                [_project(forward.cell, sequences, is_lstm), _project(backward.cell, reversed_sequences, is_lstm)],
                axis=1,
            )  # [T, 2B, G*U]: the forward rows, then the backward ones
            make_step = _lstm_step if is_lstm else _gru_step
            step = make_step(forward.cell, backward.cell, units)
        both_masks = None if mask is None else ops.concatenate([mask, mask], axis=0)
        # Right padding comes after every real step in both directions, so only final states
        # need the loop to mask (hold) them; all-step outputs just get zeroed at padding after.
        mask_in_loop = both_masks if (self.return_state or not self.return_sequences) else None
        zeros = ops.zeros((2 * batch, units), dtype=projected.dtype)
        last, outputs, states = run_time_major(
            step, projected, [zeros, zeros] if is_lstm else [zeros], mask_in_loop,
            zero_output_for_mask=forward.zero_output_for_mask, return_sequences=self.return_sequences,
        )  # fmt: skip
        if self.return_sequences and mask_in_loop is None and both_masks is not None:
            outputs = outputs * ops.expand_dims(ops.cast(both_masks, outputs.dtype), -1)
        if self.return_sequences:
            # Unstacking the leading axis shares memory; slicing rows off would copy (and its
            # gradient would pad each half back to full size).
            y, y_backward = ops.unstack(ops.reshape(outputs, (2, batch, ops.shape(outputs)[1], units)), axis=0)
            y_reversed = reverse_within_lengths(y_backward, mask)
        else:
            y, y_reversed = last[:batch], last[batch:]
        output = ops.concatenate([ops.cast(y, self.compute_dtype), ops.cast(y_reversed, self.compute_dtype)], axis=-1)
        if not self.return_state:
            return output
        return (output, *[s[:batch] for s in states], *[s[batch:] for s in states])


def _project_gate_major(forward_cell, backward_cell, sequences, reversed_sequences, units):
    """Both directions' input projections as one batched matmul over the narrow inputs, laid out
    gate-major [T, 4, 2B, U] by one transpose of the projections (rather than concatenating the
    two wide projections, then transposing them)."""
    projected = _project_both(forward_cell, backward_cell, sequences, reversed_sequences)
    return _gate_major_projections(projected, ops.shape(sequences)[1], ops.shape(sequences)[0], units)


def _project_both(forward_cell, backward_cell, sequences, reversed_sequences):
    """Both directions' input projections with their biases, [2, T*B, 4U] (rows time-major)."""
    x = ops.stack([time_major(sequences), time_major(reversed_sequences)], axis=0)  # [2, T, B, in]
    projected = ops.matmul(ops.reshape(x, (2, -1, x.shape[-1])), _stack(forward_cell.kernel, backward_cell.kernel))
    if forward_cell.use_bias:
        projected = projected + ops.expand_dims(_stack(forward_cell.bias, backward_cell.bias), 1)
    return projected


def _gate_major_projections(projected, steps, batch, units):
    """[2, T*B, 4U] from ``_project_both`` -> [T, 4, 2B, U], the fused loop's inputs."""
    projected = ops.reshape(projected, (2, steps, batch, 4, units))
    return ops.reshape(ops.transpose(projected, (1, 3, 0, 2, 4)), (steps, 4, 2 * batch, units))


def _project(cell, sequences, is_lstm):
    """All steps' input projections at once [T, B, G*U], with the input-side bias."""
    bias = None
    if cell.use_bias:
        bias = cell.bias if is_lstm or not cell.reset_after else cell.bias[0]
    return project_time_major(sequences, cell.kernel, bias)


def _batched(h, kernels, units):
    """``[h_fw; h_bw] @ [U_fw, U_bw]``: one batched matmul over the two stacked directions."""
    stacked = ops.reshape(h, (2, -1, units))
    return ops.matmul(stacked, kernels)  # [2, B, G*U]


def _stack(forward_weight, backward_weight):
    return ops.concatenate([ops.expand_dims(forward_weight, 0), ops.expand_dims(backward_weight, 0)], axis=0)


def _flat(x):
    return ops.reshape(x, (-1, x.shape[-1]))


def _gate_major_lstm_step(forward_cell, backward_cell, units):
    """The LSTM step over gate-major inputs [4, 2B, U] with both directions' recurrent kernels as
    [4, 2, U, U]: one batched matmul per step, the gates unstacked along the leading axis."""
    kernels = gate_major_kernels(_stack(forward_cell.recurrent_kernel, backward_cell.recurrent_kernel), units)
    return _gate_major_lstm_step_with(forward_cell, kernels, units)


def _gate_major_lstm_step_with(cell, kernels, units):
    """``_gate_major_lstm_step`` with the recurrent kernels [4, 2, U, U] given (``cell``: the activations)."""

    def step(z_input, states):
        h_previous, c_previous = states
        recurrent = ops.matmul(ops.reshape(h_previous, (1, 2, -1, units)), kernels)  # [4, 2, B, U]
        h, c = lstm_update_gate_major(cell, z_input + ops.reshape(recurrent, (4, -1, units)), c_previous)
        return h, [h, c]

    return step


def _lstm_step(forward_cell, backward_cell, units):
    kernels = _stack(forward_cell.recurrent_kernel, backward_cell.recurrent_kernel)

    def step(z_input, states):
        h_previous, c_previous = states
        z = z_input + _flat(_batched(h_previous, kernels, units))
        h, c = lstm_update(forward_cell, z, c_previous)
        return h, [h, c]

    return step


def _gru_step(forward_cell, backward_cell, units):
    cell = forward_cell
    kernels = _stack(forward_cell.recurrent_kernel, backward_cell.recurrent_kernel)
    recurrent_bias = None
    if cell.use_bias and cell.reset_after:
        recurrent_bias = ops.expand_dims(_stack(forward_cell.bias[1], backward_cell.bias[1]), 1)

    def recurrent(h, part):
        product = _batched(h, kernels if part is None else kernels[:, :, part], units)
        return _flat(product if recurrent_bias is None or part is not None else product + recurrent_bias)

    def step(x_projected, states):
        h = gru_update(cell, x_projected, states[0], recurrent)
        return h, [h]

    return step
