"""A tiny random translator and a call counter, shared by the search, model and measuring-script tests."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from framework.models.bridge import Bridge
from framework.models.decoder import RNNDecoder
from framework.models.encoder import RNNEncoder
from framework.models.seq2seq import Seq2Seq


def random_translator(cell: str, attention: str | None, feeding: bool = False, build: bool = False) -> Seq2Seq:
    """One layer of 8 units each side (bidirectional encoder), seeded; ``build``: run once on a tiny batch."""
    keras.utils.set_random_seed(7)
    encoder = RNNEncoder(30, 8, cell, 8, 1, True, 0.0, name="encoder").get_config()
    bridge = Bridge("concat_dense", cell, 1, 1, True, 8, 8, name="bridge").get_config()
    decoder = RNNDecoder(25, 8, cell, 8, 1, 0.0, attention, 16, False, input_feeding=feeding,
                         name="decoder").get_config()  # fmt: skip
    model = Seq2Seq(encoder, bridge, decoder, label_smoothing=0.0)
    if build:
        model({"source": np.array([[4, 5, 6], [7, 8, 0]], "int32"), "target_in": np.array([[1, 4], [1, 5]], "int32")})
    return model


def record_calls(monkeypatch, layer: keras.layers.Layer, note: Callable[[], object] = lambda: True) -> list:
    """A list that gets ``note()`` each time ``layer`` is called (its class's ``__call__`` patched)."""
    calls, original = [], type(layer).__call__

    def recording_call(self, *args, **kwargs):
        if self is layer:
            calls.append(note())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(layer), "__call__", recording_call)
    return calls
