"""The exported classifier's serving function against predict.py's Python path, for the heads and inputs
the trained sample run (tests/training/test_classifier_run.py, softmax) does not cover: a sigmoid head,
texts cut at max_length, texts without a token, words never seen in training."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from omegaconf import OmegaConf  # noqa: E402

from framework.data.text_classification import TextEncoder  # noqa: E402
from framework.data.vocab import Vocabulary  # noqa: E402
from framework.evaluation.classifier_eval import predict_probabilities  # noqa: E402
from framework.export.classifier_export import ClassifierServer  # noqa: E402
from framework.models.classifier import build_classifier  # noqa: E402
from framework.schemas.classification import DEFAULT_TOKEN_PATTERN, ClassifierModelConfig  # noqa: E402

TEXTS = ["free prize call now", "call me later", "", "?!", "a b c d e f g h i j k l", "Unseen WORDS, unseen!", "now"]


@pytest.mark.parametrize(("output", "pooling"), [("sigmoid", "last"), ("softmax", "mean")])
def test_served_probabilities_and_labels_are_predicts(output, pooling):
    words = Vocabulary.build("free prize call now me later a b c d ?".split())
    encoder = TextEncoder(words, Vocabulary(("ham", "spam"), specials=False), "spam", True, DEFAULT_TOKEN_PATTERN,
                          max_length=5)  # fmt: skip
    schema = OmegaConf.structured(ClassifierModelConfig(name="test"))
    config = OmegaConf.create(OmegaConf.to_container(schema, enum_to_str=True))  # as the recipe's YAML gives it
    config.embedding.dim, config.rnn.units, config.rnn.layers = 8, 8, 1
    config.output, config.pooling = output, pooling
    model = build_classifier(config, num_words=len(words), num_labels=2, seed=3)
    expected = predict_probabilities(model, encoder, TEXTS, batch_size=4)
    server = ClassifierServer(model, encoder)
    served = server.serve(tf.constant(TEXTS))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert [label.decode() for label in served["labels"].numpy()] == encoder.labels.decode(expected.argmax(axis=1))
    tokens = server.tokenize(tf.constant(TEXTS))["tokens"].numpy()
    assert [[t.decode() for t in row if t] for row in tokens] == [encoder.tokenize(text) for text in TEXTS]
    assert len(tokens[4]) == 5 and not any(tokens[2])  # cut at max_length; the empty text has none (served as <unk>)
