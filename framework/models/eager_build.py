"""Build a loaded model by running it on real inputs, not Keras' shape-only build.

When ``load_model`` rebuilds a subclassed model, Keras runs its ``call`` on shape-only tensors;
on PyTorch those live on the "meta" device while the weights are already on the GPU, and an
embedding lookup then reads indices that hold no values: a CUDA "index out of bounds" assert
that poisons the process (seen on an H200, scripts/gpu_check.sh). On PyTorch our models are
built by one call on ones of the recorded shapes instead (ids 1 are in every vocabulary).
"""

from __future__ import annotations

import keras
from keras import ops
from keras.src import tree


class EagerBuildFromConfig:
    """Mixin for keras.Model subclasses whose inputs are integer ids (a tensor or a dict of them)."""

    def build_from_config(self, config):
        if keras.backend.backend() != "torch" or not config or "input_shape" not in config:
            return super().build_from_config(config)
        shapes = config["input_shape"]
        inputs = tree.map_shape_structure(lambda shape: ops.ones([dim or 1 for dim in shape], dtype="int32"), shapes)
        self(inputs, training=False)
        self._build_shapes_dict = config
