"""Build a model by running it on real inputs, not by Keras' shape-only build, on PyTorch.

When Keras builds a subclassed model from shapes (``load_model``, or the first ``fit`` /
``train_on_batch`` of an unbuilt model), it runs ``call`` on tensors of PyTorch's "meta" device,
which hold no values, while the weights already live on the GPU: an embedding or CRF lookup then
launches a real gather with indices read from nowhere, a CUDA "index out of bounds" assert that
poisons the process (seen on an H200, scripts/gpu_check.sh). So on PyTorch our models build by
one eager call: on the first real batch before training, on ones of the recorded shapes when
loaded (id 1 is in every vocabulary). Other backends keep Keras' own build.
"""

from __future__ import annotations

import keras
from keras import ops
from keras.src import tree
from keras.src.trainers.data_adapters import data_adapter_utils


class BuildOnRealInputs:
    """Mixin for keras.Model subclasses whose inputs are integer ids (a tensor or a dict of them)."""

    def build_from_config(self, config):
        if keras.backend.backend() != "torch" or not config or "input_shape" not in config:
            return super().build_from_config(config)
        shapes = config["input_shape"]
        inputs = tree.map_shape_structure(lambda shape: ops.ones([dim or 1 for dim in shape], dtype="int32"), shapes)
        self(inputs, training=False)
        self._build_shapes_dict = config

    def _symbolic_build(self, iterator=None, data_batch=None):
        # Keras' hook before the first train/test/predict step (keras.src.trainers.trainer, 3.15)
        if keras.backend.backend() == "torch" and not all(layer.built for layer in self._flatten_layers()):
            if data_batch is None and iterator is not None:
                for _, _, data in iterator:  # the first batch, taken exactly as Keras' own build takes it
                    data_batch = data[0] if isinstance(data, (list, tuple)) else next(data)
                    break
            if data_batch is not None:
                x = data_adapter_utils.unpack_x_y_sample_weight(data_batch)[0]
                self(x, training=False)
        return super()._symbolic_build(iterator=iterator, data_batch=data_batch)
