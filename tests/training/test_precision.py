"""``trainer.precision``: every task trains, decodes and reloads under mixed precision.

Each recipe runs once, as a user runs it (tiny models, three steps), all in parallel: the tagger
under float16 (CRF head, character CNN, loss scaling), the translator (greedy and beam search),
the classifier (attention pooling) and the language model (sampling) under bfloat16 (the tagger's
layers under bfloat16 are those of the other three: a fifth run there cost CI 20 s for nothing new). The saved model must reload with the policy it was trained under, its logits float32.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

# Register the custom model classes for load_model, as the evaluate recipes' loaders do.
import framework.models.classifier  # noqa: F401
import framework.models.language_model  # noqa: F401
import framework.models.seq2seq  # noqa: F401
import framework.models.tagger  # noqa: F401
from framework.models.precision import load_model, saved_precision

ROOT = Path(__file__).resolve().parents[2]
SHORT = ("trainer.epochs=1", "trainer.max_steps_per_epoch=3", "callbacks.tensorboard=false")
RUNS = {
    "tagger_float16": ("mixed_float16", "experiment=ner_sample", "model=tiny", "model.head=crf"),
    "translator_bfloat16": ("mixed_bfloat16", "experiment=mt_sample", "model.embedding_dim=16", "model.rnn.units=16",
                            "data.vocab_size=500", "data.dev_max_sentences=20", "decode.beam_size=2"),
    "classifier_bfloat16": ("mixed_bfloat16", "experiment=spam_sample", "model=tiny_classifier",
                            "model.pooling=attention"),
    "lm_bfloat16": ("mixed_bfloat16", "experiment=poetry_sample", "model.embedding.dim=8", "model.rnn.units=8",
                    "trainer.batch_size=8", "data.bptt=12", "model.samples.max_tokens=8",
                    "model.samples.temperatures=[1.0]", "model.samples.seeds=[0]"),
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[str, Path]]:
    base = tmp_path_factory.mktemp("precision")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    processes = {}
    for name, (precision, *overrides) in RUNS.items():
        command = [sys.executable, str(ROOT / "recipes" / "train.py"), *overrides, *SHORT,
                   f"trainer.precision={precision}", f"hydra.run.dir={base / name}"]  # fmt: skip
        processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
    for name, process in processes.items():
        output = process.communicate(timeout=900)[0]
        assert process.returncode == 0, f"{name}:\n{output[-4000:]}"
    return {name: (RUNS[name][0], base / name) for name in RUNS}


@pytest.mark.parametrize("name", list(RUNS))
def test_trains_and_scores_under_mixed_precision(runs, name):
    precision, run_dir = runs[name]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "ok" and math.isfinite(metrics["objective"])
    history = json.loads((run_dir / "history.json").read_text())
    assert all(math.isfinite(epoch["loss"]) for epoch in history)
    config = (run_dir / ".hydra" / "config.yaml").read_text()
    assert f"precision: {precision}" in config


@pytest.mark.parametrize("name", list(RUNS))
def test_saved_model_reloads_with_its_policy(runs, name):
    """Our models build their sublayers under the global policy, so loading must set it."""
    precision, run_dir = runs[name]
    assert saved_precision(run_dir / "model.keras") == precision
    model = load_model(run_dir / "model.keras")
    recurrent = [layer for layer in _all_layers(model) if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU))]
    assert recurrent and {layer.dtype_policy.name for layer in recurrent} == {precision}
    assert {layer.variable_dtype for layer in recurrent} == {"float32"}, "weights stay float32"
    assert keras.config.dtype_policy().name == "float32", "loading does not change the global policy"


def test_float16_training_scales_the_loss(runs):
    """Keras wraps the optimizer for mixed_float16 only when the model itself carries that policy."""
    _, run_dir = runs["tagger_float16"]
    model = load_model(run_dir / "model.keras")
    assert model.dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_tagger_logits_are_float32(runs):
    _, run_dir = runs["tagger_float16"]
    model = load_model(run_dir / "model.keras")
    words = np.array([[2, 3, 4, 0]], dtype="int32")
    inputs = {"words": words, "chars": np.full((1, 4, 3), 2, dtype="int32")}
    assert keras.ops.convert_to_numpy(model(inputs)).dtype == np.float32


def _all_layers(layer):
    for sub in getattr(layer, "_layers", []) or []:
        yield sub
        yield from _all_layers(sub)
    if isinstance(layer, keras.layers.Bidirectional):
        yield layer.forward_layer
        yield layer.backward_layer
