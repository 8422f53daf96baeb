"""The translator's state hand-over, one-step decoding, and what Keras returns with return_state."""

import keras
import numpy as np
import pytest

from framework.models.bridge import Bridge, source_layer
from framework.models.cudnn import kernel_report
from framework.models.encoder import RNNEncoder
from framework.models.seq2seq import Seq2Seq
from translator_helpers import record_calls

to_numpy = keras.ops.convert_to_numpy  # backend tensors (also PyTorch's, which np.asarray refuses)


def _model(cell="lstm", bidirectional=False, bridge="identity", attention=None, enc_layers=2, dec_layers=2,
           tie=False, feeding=False):
    encoder = RNNEncoder(20, 8, cell, 6, enc_layers, bidirectional, 0.0, name="encoder").get_config()
    bridge_cfg = Bridge(bridge, cell, enc_layers, dec_layers, bidirectional, 6, 6, name="bridge").get_config()
    from framework.models.decoder import RNNDecoder

    decoder = RNNDecoder(18, 8, cell, 6, dec_layers, 0.0, attention, 12 if bidirectional else 6, tie,
                         input_feeding=feeding, name="decoder").get_config()
    return Seq2Seq(encoder, bridge_cfg, decoder, label_smoothing=0.0)


def _source(rng, lengths, vocab=20):
    batch = np.zeros((len(lengths), max(lengths)), "int32")
    for row, n in enumerate(lengths):
        batch[row, :n] = rng.integers(3, vocab, n)
    return batch


@pytest.mark.parametrize("cell,n_states", [("lstm", 2), ("gru", 1)])
def test_keras_return_state_contract(cell, n_states):
    """What the framework relies on: LSTM -> (out, h, c), GRU -> (out, h); Bidirectional doubles the states;
    the output's last real step equals h on right-padded masked input."""
    rng = np.random.default_rng(0)
    x = rng.random((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    layer_class = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    sequences = layer_class(4, return_sequences=True, return_state=True)
    out = sequences(x, mask=mask)
    assert len(out) == 1 + n_states
    np.testing.assert_allclose(to_numpy(out[0])[0, 4], to_numpy(out[1])[0], atol=1e-6)
    np.testing.assert_allclose(to_numpy(out[0])[1, 2], to_numpy(out[1])[1], atol=1e-6)
    last = layer_class(4, return_sequences=False, return_state=True)
    out_last = last(x, mask=mask)
    np.testing.assert_allclose(to_numpy(out_last[0]), to_numpy(out_last[1]), atol=1e-6)
    bi = keras.layers.Bidirectional(layer_class(4, return_sequences=True, return_state=True))
    bi_out = bi(x, mask=mask)
    assert len(bi_out) == 1 + 2 * n_states
    assert tuple(bi_out[0].shape) == (2, 5, 8)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_decoder_initial_state_is_encoder_final_state_per_layer(cell, monkeypatch):
    keras.utils.set_random_seed(0)
    model = _model(cell, bidirectional=False, bridge="identity")
    source = _source(np.random.default_rng(1), [5, 3])
    outputs, states = model.encoder(source)
    _, _, initial = model.encode(source)
    assert len(initial) == 2
    for layer in range(2):
        for got, want in zip(initial[layer], states[layer]):
            np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
    # And the decoder RNN layers really start from them.
    batch = {"source": source, "target_in": np.array([[1, 4, 5], [1, 6, 0]], "int32")}
    model(batch)  # build eagerly first, so the spy sees concrete tensors
    seen = []
    for rnn in model.decoder.rnns:
        original = rnn.call

        def spy(*args, _original=original, **kwargs):
            seen.append([to_numpy(s) for s in kwargs["initial_state"]])
            return _original(*args, **kwargs)

        monkeypatch.setattr(rnn, "call", spy)
    model(batch)
    for layer in range(2):
        for got, want in zip(seen[layer], states[layer]):
            np.testing.assert_array_equal(got, to_numpy(want))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_bridges(cell):
    keras.utils.set_random_seed(0)
    source = _source(np.random.default_rng(2), [4, 6])
    summed = _model(cell, bidirectional=True, bridge="sum")
    _, states = summed.encoder(source)
    _, _, initial = summed.encode(source)
    slots = 2 if cell == "lstm" else 1
    for layer in range(2):
        forward, backward = states[layer][:slots], states[layer][slots:]
        for got, f, b in zip(initial[layer], forward, backward):
            np.testing.assert_allclose(to_numpy(got), to_numpy(f) + to_numpy(b), atol=1e-6)
    dense = _model(cell, bidirectional=True, bridge="concat_dense", enc_layers=3, dec_layers=2)
    _, _, initial = dense.encode(source)
    assert len(initial) == 2 and all(len(s) == slots for s in initial)
    assert tuple(initial[0][0].shape) == (2, 6)
    assert [source_layer(j, 3, 2) for j in range(2)] == [1, 2]
    assert [source_layer(j, 1, 3) for j in range(3)] == [0, 0, 0]


def test_identity_bridge_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="identity"):
        Bridge("identity", "lstm", 2, 2, True, 6, 6)
    with pytest.raises(ValueError, match="sum"):
        Bridge("sum", "lstm", 2, 2, True, 6, 8)


@pytest.mark.parametrize("cell,attention,bidirectional,tie,feeding", [
    ("lstm", None, False, False, False), ("gru", "general", True, False, False),
    ("lstm", "additive", True, True, False), ("gru", "dot", False, False, False),
    ("lstm", "general", True, False, True), ("gru", "additive", False, False, True),
])
def test_one_step_decoding_equals_teacher_forcing(cell, attention, bidirectional, tie, feeding):
    keras.utils.set_random_seed(0)
    bridge = "concat_dense" if bidirectional else "identity"
    model = _model(cell, bidirectional, bridge, attention, tie=tie, feeding=feeding)
    source = _source(np.random.default_rng(3), [6, 4])
    target_in = np.array([[1, 5, 7, 9, 4], [1, 3, 8, 0, 0]], "int32")
    logits = to_numpy(model({"source": source, "target_in": target_in}))
    expected = to_numpy(keras.ops.log_softmax(logits, axis=-1))
    outputs, mask, states = model.encode(source)
    keys = model.project_keys(outputs)  # as the search does; additive's scores without it: tests/models/test_attention.py
    for t in range(target_in.shape[1]):
        log_probs, states, weights = model.decode_step(target_in[:, t], states, outputs, mask, keys)
        for row, length in enumerate([5, 3]):
            if t < length:
                np.testing.assert_allclose(to_numpy(log_probs)[row], expected[row, t], atol=1e-5)
        if attention:
            w = to_numpy(weights)
            np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
            assert np.all(w[1, 4:] == 0.0)  # padded source positions get no attention


def test_seq2seq_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model("lstm", True, "concat_dense", "general")
    batch = {"source": _source(np.random.default_rng(4), [5, 2]), "target_in": np.array([[1, 4], [1, 5]], "int32")}
    before = to_numpy(model(batch))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(again(batch)), before, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_input_feeding_feeds_the_previous_attentional_vector(cell):
    keras.utils.set_random_seed(0)
    model = _model(cell, True, "concat_dense", "general", feeding=True)
    source = _source(np.random.default_rng(5), [4, 3])
    outputs, mask, states = model.encode(source)
    assert len(states) == 3 and np.all(to_numpy(states[-1]) == 0.0)  # 2 layers, then the zero feed
    _, states, _ = model.decode_step(np.array([1, 1], "int32"), states, outputs, mask)
    first_feed = to_numpy(states[-1])
    assert first_feed.shape == (2, 6) and np.abs(first_feed).sum() > 0
    # the same token from another attentional vector gives another distribution: the feed is an input
    a, _, _ = model.decode_step(np.array([5, 5], "int32"), states, outputs, mask)
    b, _, _ = model.decode_step(np.array([5, 5], "int32"), [*states[:-1], states[-1] * 0.0], outputs, mask)
    assert np.abs(to_numpy(a) - to_numpy(b)).max() > 1e-4
    model({"source": source, "target_in": np.array([[1, 5], [1, 5]], "int32")})
    report = kernel_report(model)
    decoder_kernels = {kernel for name, kernel in report.items() if "/decoder/" in name}
    assert decoder_kernels == {"generic (model.input_feeding=true: the decoder runs one step at a time)"}


def test_input_feeding_model_trains_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model("lstm", True, "concat_dense", "general", feeding=True)
    model.compile(optimizer="adam")
    batch = {"source": _source(np.random.default_rng(6), [5, 2]), "target_in": np.array([[1, 4, 6], [1, 5, 0]], "int32")}
    target_out = np.array([[4, 6, 2], [5, 2, 0]], "int32")
    losses = [float(model.train_on_batch(batch, target_out)) for _ in range(30)]
    assert losses[-1] < losses[0]
    before = to_numpy(model(batch))
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(keras.models.load_model(tmp_path / "m.keras")(batch)), before, atol=1e-6)


def test_translator_embeddings_start_at_unit_variance():
    keras.utils.set_random_seed(0)
    model = _model("lstm", True, "concat_dense", "general")
    model({"source": _source(np.random.default_rng(7), [3]), "target_in": np.array([[1, 4]], "int32")})
    for layer in (model.encoder.embedding, model.decoder.embedding):
        assert 0.8 < float(np.std(to_numpy(layer.embeddings))) < 1.2  # see framework.models.initialization


def test_input_feeding_cells_apply_their_recurrent_dropout_in_training():
    """The input-feeding loop runs the decoder's cells itself: their recurrent dropout must apply in
    training (new masks each batch, of each batch's size) and not in inference."""
    from framework.models.decoder import RNNDecoder

    keras.utils.set_random_seed(0)
    encoder = RNNEncoder(20, 8, "lstm", 6, 1, False, 0.0, name="encoder").get_config()
    bridge = Bridge("identity", "lstm", 1, 1, False, 6, 6, name="bridge").get_config()
    decoder = RNNDecoder(18, 8, "lstm", 6, 1, 0.0, "general", 6, False, input_feeding=True,
                         rnn_arguments={"recurrent_dropout": 0.5}, name="decoder").get_config()
    model = Seq2Seq(encoder, bridge, decoder, label_smoothing=0.0)
    rng = np.random.default_rng(8)
    for lengths in ([5, 2], [4, 4, 3]):  # two batch sizes: masks are remade per batch
        batch = {"source": _source(rng, lengths), "target_in": rng.integers(3, 18, (len(lengths), 4)).astype("int32")}
        inference = [to_numpy(model(batch, training=False)) for _ in range(2)]
        np.testing.assert_array_equal(inference[0], inference[1])
        training = [to_numpy(model(batch, training=True)) for _ in range(2)]
        assert np.abs(training[0] - training[1]).max() > 1e-4
        assert np.abs(training[0] - inference[0]).max() > 1e-4


def test_input_feeding_projects_the_additive_keys_once_per_batch(monkeypatch):
    # The input-feeding decoder's loop scores every target step against the same source: U k + b
    # is computed once before the loop, not at each step (eagerly the loop body runs per step).
    keras.utils.set_random_seed(0)
    model = _model("lstm", True, "concat_dense", "additive", feeding=True)
    target_in = np.array([[1, 4, 6, 8], [1, 5, 7, 0]], "int32")
    batch = {"source": _source(np.random.default_rng(7), [5, 3]), "target_in": target_in}
    expected = to_numpy(model(batch))  # built
    calls = record_calls(monkeypatch, model.decoder.attention.key_projection)
    np.testing.assert_allclose(to_numpy(model(batch)), expected, atol=1e-6)
    assert len(calls) == 1
