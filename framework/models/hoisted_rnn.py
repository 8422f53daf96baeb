"""LSTM and GRU layers whose generic (non-cuDNN) loop projects the inputs once, outside the loop.

Keras' generic loop computes ``x_t @ W`` inside every time step: T small matmuls forward and T
more for the gradient. cuDNN does not: it projects all steps with one large matmul and loops
over ``h @ U`` only. These subclasses do the same where cuDNN is not used (a CPU, or
``use_cudnn=False``): one ``[B*T, in] @ [in, G*U]`` matmul, then a loop over the recurrent
matmul. On a GPU with cuDNN-eligible settings they defer to Keras unchanged, so the cuDNN
kernel still runs. Weights, config and outputs are exactly Keras' (the tests compare them), so
checkpoints move freely between these and the stock layers.

The hoisted loop is taken when it computes the same thing as the stock one and pays: no
recurrent dropout, no unroll, no input dropout inside the cell while training (our models put
dropout between layers, never inside the cell), and at least ``MIN_HOISTED_UNITS`` units
(``MIN_HOISTED_UNITS_MIXED`` under mixed precision; framework.models.cudnn: smaller layers
measured slower). Otherwise the stock loop runs. They
override Keras' ``inner_loop`` and reuse its backend loop (``keras.src.backend.rnn``), internal
API that the equality tests pin against each Keras upgrade.
"""

from __future__ import annotations

import keras
from keras import ops
from keras.src import backend as keras_backend  # the active backend's rnn loop, as Keras' RNN uses

from framework.models import cudnn as cudnn_rules
from framework.models.cudnn import gpu_available


def _first(value):
    return value[0] if isinstance(value, (list, tuple)) else value


class _HoistedLoop:
    """The shared part: when to hoist, and the loop over precomputed input projections."""

    def _hoistable(self, training) -> bool:
        if self.use_cudnn in ("auto", True) and gpu_available():
            return False  # Keras runs cuDNN here, which already hoists
        if not cudnn_rules.hoists(self.cell.units, self.recurrent_dropout, self.unroll, self.compute_dtype):
            return False  # the stock loop: same result, and faster for small layers
        return not (training and self.dropout)

    def _cudnn_mask(self, mask):
        """The mask handed to Keras' own (cuDNN-capable) path. Keras' PyTorch backend runs cuDNN only
        without a mask (any mask sends it to the generic loop), so there a batch without padding,
        whose mask changes nothing, goes without one. One host sync per layer call, PyTorch GPUs only."""
        if mask is None or keras.backend.backend() != "torch" or not gpu_available():
            return mask
        if getattr(getattr(_first(mask), "device", None), "type", None) == "meta":
            return mask  # Keras' shape-only build on PyTorch's meta device: no values to look at
        return None if bool(ops.all(_first(mask))) else mask

    def _inputs(self, sequences, mask):
        """The sequences and mask in the order the loop reads them (reversed for go_backwards:
        the narrow inputs are flipped rather than the wide projections)."""
        mask = _first(mask) if mask is not None else None
        if not self.go_backwards:
            return sequences, mask
        return ops.flip(sequences, axis=1), (None if mask is None else ops.flip(mask, axis=1))

    def _loop(self, step, projected, initial_state, mask):
        return run_time_major(step, projected, initial_state, mask, zero_output_for_mask=self.zero_output_for_mask,
                              return_sequences=self.return_sequences)  # fmt: skip


UNKNOWN_STEPS = 2**31 - 1  # see run_time_major


def time_major(x):
    """[B, T, ...] -> [T, B, ...] (and back)."""
    return ops.transpose(x, (1, 0, *range(2, len(x.shape))))


def project_time_major(sequences, kernel, bias=None):
    """All steps' input projections, [T, B, G*U], from batch-major ``sequences`` [B, T, in].

    The loop runs over time-major tensors; transposing the narrow inputs before the matmul is
    cheaper than transposing the G times wider projections after it.
    """
    projected = ops.matmul(time_major(sequences), kernel)
    return projected if bias is None else projected + bias


def run_time_major(step, projected, states, mask, *, zero_output_for_mask=False, return_sequences=True):
    """Keras' backend loop over time-major ``projected``; returns (last, batch-major outputs, states)."""
    last, outputs, states = keras_backend.rnn(
        step,
        projected,
        states,
        mask=None if mask is None else time_major(mask),
        unroll=False,
        # Only an upper bound on the loop's iterations (it stops at the last step). Unknown at trace
        # time (a relaxed tf.function trace), Keras would fall back to ``inputs.shape[1]``: the batch
        # size of time-major inputs, which silently cut long sentences short.
        input_length=projected.shape[0] or UNKNOWN_STEPS,
        time_major=True,
        zero_output_for_mask=zero_output_for_mask,
        return_all_outputs=return_sequences,
    )
    return last, time_major(outputs), states


def lstm_update(cell, z, c_previous):
    """New (h, c) from the summed gate pre-activations ``z`` (Keras' i, f, c, o layout).

    The [B, 4U] layout, used when ``GATE_MAJOR`` is off: one recurrent activation over all four
    gates (the candidate's share is discarded) instead of three, the same values.
    """
    gates = cell.recurrent_activation(z)
    i, f, _, o = ops.split(gates, 4, axis=-1)
    candidate = cell.activation(z[:, 2 * cell.units : 3 * cell.units])
    c = f * c_previous + i * candidate
    return o * cell.activation(c), c


# LSTM loops over gate-major tensors (training 1.16x the [B, 4U] layout at the benchmark's shapes,
# README "Speed benchmark"); False restores that layout, for side-by-side measurements
# (scripts/measure_rnn_loops.py).
GATE_MAJOR = True


def gate_major(x, units):
    """[T, N, 4U] -> [T, 4, N, U]: each gate's block contiguous, so a step unstacks them for free."""
    return ops.transpose(ops.reshape(x, (ops.shape(x)[0], -1, 4, units)), (0, 2, 1, 3))


def gate_major_kernels(kernel, units):
    """A recurrent kernel [..., U, 4U] as [4, ..., U, U]: one [U, U] matrix per gate."""
    split = ops.reshape(kernel, (*kernel.shape[:-1], 4, units))
    rank = len(split.shape)
    return ops.transpose(split, (rank - 2, *range(rank - 2), rank - 1))


def lstm_update_gate_major(cell, z, c_previous):
    """New (h, c) from gate-major pre-activations ``z`` [4, N, U] (i, f, c, o): the gates come
    apart along the leading axis, which shares memory, where a split of the last axis copies
    (and its gradient concatenates) every step."""
    z_i, z_f, z_c, z_o = ops.unstack(z, axis=0)
    c = cell.recurrent_activation(z_f) * c_previous + cell.recurrent_activation(z_i) * cell.activation(z_c)
    return cell.recurrent_activation(z_o) * cell.activation(c), c


def gru_update(cell, x_projected, h_previous, recurrent):
    """New h of a GRU from the step's input projections (Keras' z, r, h layout) and
    ``recurrent(h, part)``: ``h`` times the recurrent kernel's columns ``part`` (None: all of
    them, plus the recurrent bias of ``reset_after``). Shared by the one- and two-direction loops."""
    units = cell.units
    x_z, x_r, x_h = ops.split(x_projected, 3, axis=-1)
    if cell.reset_after:
        r_z, r_r, r_h = ops.split(recurrent(h_previous, None), 3, axis=-1)
        z = cell.recurrent_activation(x_z + r_z)
        r = cell.recurrent_activation(x_r + r_r)
        candidate = cell.activation(x_h + r * r_h)
    else:
        r_z, r_r = ops.split(recurrent(h_previous, slice(0, 2 * units)), 2, axis=-1)
        z = cell.recurrent_activation(x_z + r_z)
        r = cell.recurrent_activation(x_r + r_r)
        candidate = cell.activation(x_h + recurrent(r * h_previous, slice(2 * units, None)))
    return z * h_previous + (1 - z) * candidate


@keras.saving.register_keras_serializable(package="rnnseq")
class HoistedLSTM(_HoistedLoop, keras.layers.LSTM):
    """``keras.layers.LSTM`` with the input projection out of the generic time loop."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._hoistable(training):
            return super().inner_loop(sequences, initial_state, self._cudnn_mask(mask), training=training)
        cell = self.cell
        sequences, mask = self._inputs(sequences, mask)
        projected = project_time_major(sequences, cell.kernel, cell.bias if cell.use_bias else None)
        if GATE_MAJOR:
            kernels = gate_major_kernels(cell.recurrent_kernel, cell.units)  # [4, U, U]

            def step(z_input, states):
                h_previous, c_previous = states
                z = z_input + ops.matmul(ops.expand_dims(h_previous, 0), kernels)
                h, c = lstm_update_gate_major(cell, z, c_previous)
                return h, [h, c]

            return self._loop(step, gate_major(projected, cell.units), list(initial_state), mask)

        def step(z_input, states):
            h_previous, c_previous = states
            z = z_input + ops.matmul(h_previous, cell.recurrent_kernel)
            h, c = lstm_update(cell, z, c_previous)
            return h, [h, c]

        return self._loop(step, projected, list(initial_state), mask)


@keras.saving.register_keras_serializable(package="rnnseq")
class HoistedGRU(_HoistedLoop, keras.layers.GRU):
    """``keras.layers.GRU`` with the input projection out of the generic time loop.

    Both GRU variants hoist: ``reset_after=True`` (cuDNN's) applies the reset gate to
    ``h @ U_h + b``; ``reset_after=False`` multiplies ``r * h`` before the matmul.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._hoistable(training):
            return super().inner_loop(sequences, initial_state, self._cudnn_mask(mask), training=training)
        cell = self.cell
        sequences, mask = self._inputs(sequences, mask)
        input_bias, recurrent_bias = None, None
        if cell.use_bias:
            input_bias, recurrent_bias = (cell.bias, None) if not cell.reset_after else (cell.bias[0], cell.bias[1])
        projected = project_time_major(sequences, cell.kernel, input_bias)

        def recurrent(h, part):
            product = ops.matmul(h, cell.recurrent_kernel if part is None else cell.recurrent_kernel[:, part])
            return product if recurrent_bias is None else product + recurrent_bias

        def step(x_projected, states):
            h = gru_update(cell, x_projected, _first(states), recurrent)
            return h, [h]

        return self._loop(step, projected, [_first(initial_state)], mask)
