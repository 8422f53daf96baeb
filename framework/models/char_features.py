"""Character-level word features: a CNN with max pooling, or a BiLSTM's final states.

Both read ``chars`` [batch, time, chars] (0 = padding) and return [batch, time, features].
The first character position of every word (also padded words) counts as real, so no row
is all padding: cuDNN's LSTM rejects empty sequences. The BiLSTM, a time loop per batch, runs
once per distinct word of the batch (0.6 of its token positions on EWT) and hands each token its word's
states; the CNN, one convolution per batch, runs per token.
"""

from __future__ import annotations

import keras
from keras import ops

from framework.models.bidirectional import FusedBidirectional
from framework.models.cudnn import gpu_available
from framework.models.hoisted_rnn import HoistedLSTM

# The character BiLSTM runs once per distinct word of a batch, not once per token (README
# "Measured quality and speed"); False runs it per token, for side-by-side measurement.
DISTINCT_WORDS = True


def _char_mask(chars):
    """[B, T, C] bool: real characters, plus position 0 so every row has at least one step."""
    first = ops.arange(ops.shape(chars)[-1]) == 0
    return ops.logical_or(ops.not_equal(chars, 0), first)


@keras.saving.register_keras_serializable(package="rnnseq")
class CharCNN(keras.layers.Layer):
    """Embed characters, convolve along each word, max-pool over its real characters (Ma & Hovy 2016).

    Args:
        num_chars: character vocabulary size (id 0 is padding).
        dim: character embedding size.
        filters: convolution filters = output features per word.
        kernel_size: characters per window.
    """

    def __init__(self, num_chars: int, dim: int = 30, filters: int = 50, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.num_chars, self.dim, self.filters, self.kernel_size = num_chars, dim, filters, kernel_size
        self.embedding = keras.layers.Embedding(num_chars, dim, name="char_embedding")
        # A (1, k) Conv2D over [B, T, C, dim] convolves each word without reshaping to [B*T, C].
        self.conv = keras.layers.Conv2D(filters, (1, kernel_size), padding="same", activation="tanh", name="char_conv")

    def call(self, chars):
        embedded = self.embedding(chars)  # [B, T, C, dim]
        # Padded characters embed as zeros, like the convolution's own "same" padding, so a word's
        # features do not depend on how far its batch is padded (batch-independent predictions).
        embedded = embedded * ops.cast(ops.expand_dims(ops.not_equal(chars, 0), -1), embedded.dtype)
        x = self.conv(embedded)  # [B, T, C, F]
        mask = ops.expand_dims(_char_mask(chars), -1)
        x = ops.where(mask, x, ops.full_like(x, -1e4))
        return ops.max(x, axis=2)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "dim": self.dim,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
        }


def _deduplicates(flat) -> bool:
    """Whether the character BiLSTM runs on distinct words only: not under JAX, whose compiled
    steps need static shapes, nor on a GPU, where cuDNN runs it and this was not measured, nor on
    PyTorch's shape-only "meta" tensors, which hold no values to compare."""
    if not DISTINCT_WORDS or keras.backend.backend() == "jax" or gpu_available():
        return False
    return getattr(getattr(flat, "device", None), "type", None) != "meta"


@keras.saving.register_keras_serializable(package="rnnseq")
class CharBiLSTM(keras.layers.Layer):
    """Embed characters and run a bidirectional LSTM over each word; concat both final states (Lample et al. 2016).

    Args:
        num_chars: character vocabulary size (id 0 is padding).
        dim: character embedding size.
        units: LSTM units per direction (output features = 2 * units).
        use_cudnn: passed to the LSTM (see framework.models.cudnn).
    """

    def __init__(self, num_chars: int, dim: int = 30, units: int = 25, use_cudnn="auto", **kwargs):
        super().__init__(**kwargs)
        self.num_chars, self.dim, self.units, self.use_cudnn = num_chars, dim, units, use_cudnn
        self.embedding = keras.layers.Embedding(num_chars, dim, name="char_embedding")
        self.rnn = FusedBidirectional(HoistedLSTM(units, use_cudnn=use_cudnn), merge_mode="concat", name="char_bilstm")

    def call(self, chars):
        shape = ops.shape(chars)
        flat = ops.reshape(chars, (-1, shape[2]))  # [B*T, C]
        if not _deduplicates(flat):
            states = self.rnn(self.embedding(flat), mask=_char_mask(flat))  # [B*T, 2u]
        else:
            # A word's states depend on its characters alone, and about 40% of a batch's token
            # positions repeat a word seen elsewhere in it on EWT (and all padded positions are alike).
            words, token_word = ops.unique(flat, sorted=False, return_inverse=True, axis=0)  # [W, C], [B*T]
            states = ops.take(self.rnn(self.embedding(words), mask=_char_mask(words)), token_word, axis=0)
        return ops.reshape(states, (shape[0], shape[1], 2 * self.units))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], 2 * self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "dim": self.dim,
            "units": self.units,
            "use_cudnn": self.use_cudnn,
        }
