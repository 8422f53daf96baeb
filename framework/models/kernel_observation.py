"""Count the RNN passes that Keras really ran on cuDNN, as opposed to the ones it should have.

``framework.models.cudnn.kernel_report`` reads each layer's arguments: it says which kernel a
layer is eligible for. Keras' backends can still fall back to the generic loop at run time
without a word (its PyTorch backend catches every exception of its cuDNN call), so the benchmark
also counts, while one training step runs, the calls that returned from Keras' cuDNN functions.
On TensorFlow those functions run while the step is traced, so count the step that traces.

This wraps private functions of ``keras.src.backend`` (pinned by the tests on each Keras
upgrade); a backend without them counts nothing.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator

import keras

# backend -> (module of its RNN functions, {function: RNN passes one successful call runs}).
# The one-call bidirectional functions run both directions; a NotImplementedError from them means
# "not here" (Keras then runs each direction on its own), so only their returns count.
CUDNN_FUNCTIONS = {
    "torch": ("keras.src.backend.torch.rnn",
              {"_cudnn_lstm": 1, "_cudnn_gru": 1, "bidirectional_lstm": 2, "bidirectional_gru": 2}),
    "tensorflow": ("keras.src.backend.tensorflow.rnn", {"_cudnn_lstm": 1, "_cudnn_gru": 1}),
}  # fmt: skip


class CudnnCounter:
    """How many RNN passes (one per direction) returned from a cuDNN call while observed."""

    def __init__(self):
        self.passes = 0


def _counting(function, passes: int, counter: CudnnCounter):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        counter.passes += passes
        return result

    return wrapper


@contextlib.contextmanager
def observe_cudnn() -> Iterator[CudnnCounter]:
    """Within the block, count the RNN passes that the active backend ran on cuDNN."""
    counter = CudnnCounter()
    module_name, functions = CUDNN_FUNCTIONS.get(keras.backend.backend(), ("", {}))
    patched = []  # (module, name, original)
    if module_name:
        rnn_module = importlib.import_module(module_name)
        # Keras' layers call the one-call bidirectional functions through keras.src.backend.
        backend_module = importlib.import_module("keras.src.backend")
        for name, passes in functions.items():
            for module in (rnn_module, backend_module):
                original = getattr(module, name, None)
                if original is not None and (module is rnn_module or name.startswith("bidirectional")):
                    patched.append((module, name, original))
                    setattr(module, name, _counting(original, passes, counter))
    try:
        yield counter
    finally:
        for module, name, original in reversed(patched):
            setattr(module, name, original)


def cudnn_passes_in_first_step(model: keras.Model, inputs, targets) -> int:
    """RNN passes that ran on cuDNN in ``model``'s first training step (which also traces it)."""
    with observe_cudnn() as counter:
        model.train_on_batch(inputs, targets)
    return counter.passes
