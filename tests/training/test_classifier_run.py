"""End-to-end test of the classification recipes on the shipped SMS slice, and the metrics by hand.

The recipes run as subprocesses, as a user runs them, with a tiny model and a few steps per
epoch, so the whole module trains once (about half a minute on a CPU) and then evaluates and
predicts from that run dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import run_as_user
from framework.evaluation import classification_metrics as cm


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("spam") / "run"
    result = run_as_user("train", "experiment=spam_sample", "model=tiny_classifier", "model.pooling=attention",
                         "data.class_weight=balanced", "trainer.epochs=2", "trainer.max_steps_per_epoch=3",
                         "callbacks.tensorboard=false", f"hydra.run.dir={run}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return run


def test_run_dir_holds_every_artifact(run_dir):
    for name in ("config.yaml", "split.json", "vocab.json", "model.keras", "train_state.json", "history.json",
                 "metrics.json", "dev.predictions.tsv", "test.predictions.tsv", "report.md", "report.html",
                 "plots/test_confusion.png", "plots/test_roc.png", "plots/learning_curves.png"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    split = json.loads((run_dir / "split.json").read_text())
    assert split["seed"] == 13 and split["fractions"] == {"train": 0.8, "dev": 0.1, "test": 0.1}
    assert split["counts"]["test"] == {"ham": 85, "spam": 15}
    assert len(split["lines"]["train"]) == 800


def test_metrics_have_the_flat_keys(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["task"] == "classification"
    assert metrics["objective_direction"] == "maximize" and metrics["objective_name"] == "dev/macro_f1"
    assert metrics["objective"] == pytest.approx(metrics["dev/macro_f1"])  # the reloaded best model scores it again
    for key in ("dev/accuracy", "dev/macro_f1", "test/accuracy", "test/macro_f1", "test/roc_auc",
                "test/macro_f1_ci_low", "test/macro_f1_ci_high"):  # fmt: skip
        assert isinstance(metrics[key], float) and 0.0 <= metrics[key] <= 1.0, key
    for label in ("ham", "spam"):
        for name in ("precision", "recall", "f1"):
            assert 0.0 <= metrics[f"test/{name}/{label}"] <= 1.0
    assert metrics["test/macro_f1_ci_low"] <= metrics["test/macro_f1"] <= metrics["test/macro_f1_ci_high"]


def test_predictions_file_and_report(run_dir):
    lines = (run_dir / "test.predictions.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "gold\tpredicted\tprobability\ttext" and len(lines) == 101
    gold, predicted, probability, text = lines[1].split("\t")
    assert gold in ("ham", "spam") and predicted in ("ham", "spam") and 0.5 <= float(probability) <= 1.0
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    for section in ("## Metrics", "## Per class (test)", "## Confusion matrix (test)", "## ROC curve (test)",
                    "## Most confident mistakes (test)", "## Learning curves", "rnn kernel: "):  # fmt: skip
        assert section in report
    assert "95% CI" in report and "<script" not in (run_dir / "report.html").read_text(encoding="utf-8")


def test_evaluate_recipe_rescores_the_recorded_test_split(run_dir):
    before = json.loads((run_dir / "metrics.json").read_text())
    result = run_as_user("evaluate", f"run_dir={run_dir}", "split=test")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test/macro_f1" in result.stdout
    after = json.loads((run_dir / "metrics.json").read_text())
    assert after["test/macro_f1"] == pytest.approx(before["test/macro_f1"])
    assert after["test/examples"] == 100


def test_predict_recipe_writes_label_probability_text(run_dir, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("WINNER!! Call 09061701461 to claim your prize\n\nsee you at home later\n", encoding="utf-8")
    output = tmp_path / "labels.tsv"
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={texts}", f"output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "" and len(lines) == 3  # one output line per input line, the blank one blank
    rows = [line.split("\t") for line in lines if line]
    assert [row[2] for row in rows] == ["WINNER!! Call 09061701461 to claim your prize", "see you at home later"]
    assert all(row[0] in ("ham", "spam") and 0.5 <= float(row[1]) <= 1.0 for row in rows)
    assert "classified 2 texts (1 blank lines left blank)" in result.stdout + result.stderr


def test_predict_recipe_reports_a_bad_input_in_one_line(run_dir, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nnot \xe9 utf8\n")
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={bad}", f"output={tmp_path / 'out.tsv'}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: {bad}:2: not UTF-8: byte 0xe9 at column 5"



def test_an_exported_savedmodel_classifies_raw_texts_as_the_run_did(run_dir, tmp_path):
    """recipes/export.py: the SavedModel's labels for the test texts are the run's, and for new texts its
    probabilities and tokens are what predict.py computes (a text without tokens included)."""
    tf = pytest.importorskip("tensorflow")
    output = tmp_path / "export"
    result = run_as_user("export", f"run_dir={run_dir}", f"output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checked: 100 of 100 texts of test.predictions.tsv labelled as the run labelled them" in result.stdout
    manifest = json.loads((output / "rnnseq_export.json").read_text())
    assert manifest["task"] == "classification" and manifest["labels"] == ["ham", "spam"]
    assert list(manifest["inputs"]) == ["texts"] and manifest["checked"]["max_probability_difference"] < 1e-4
    from framework.classification_tasks import load_classifier_run
    from framework.evaluation.classifier_eval import predict_probabilities

    run = load_classifier_run(run_dir)
    texts = ["WINNER!! Call 09061701461 to claim your prize", "   ", "İstanbul'da ΟΔΟΣ naïve café's ...", "ok"]
    served = tf.saved_model.load(str(output))  # held: its functions need its variables
    got = served.serve(tf.constant(texts))
    expected = predict_probabilities(run.model, run.encoder, texts, batch_size=8)
    np.testing.assert_allclose(got["probabilities"].numpy(), expected, atol=1e-5)
    assert [label.decode() for label in got["labels"].numpy()] == run.encoder.labels.decode(expected.argmax(axis=1))
    tokens = served.tokenize(tf.constant(texts))["tokens"].numpy()
    assert [[t.decode() for t in row if t] for row in tokens] == [run.encoder.tokenize(text) for text in texts]
    signature = served.signatures["serving_default"]  # what TensorFlow Serving calls
    assert signature(texts=tf.constant(texts))["labels"].numpy().tolist() == got["labels"].numpy().tolist()
    for bad in (b"a\x00b", b"ab\xffcd"):  # ICU would lowercase the byte to U+FFFD, a token of its own
        with pytest.raises(tf.errors.InvalidArgumentError, match="not UTF-8 or holds U.0000"):
            served.serve(tf.constant([b"fine", bad]))


def test_a_classifier_export_that_disagrees_or_cannot_tokenize_is_refused(run_dir, tmp_path, monkeypatch):
    """Nothing is left behind by a refused export; a pattern RE2 cannot match as Python does is named."""
    pytest.importorskip("tensorflow")
    import dataclasses

    from omegaconf import OmegaConf

    from framework.classification_tasks import load_classifier_run
    from framework.errors import ConfigError, DataError
    from framework.export import classifier_export, savedmodel
    from framework.export.token_pattern import compile_pattern

    with monkeypatch.context() as patch:
        patch.setattr(savedmodel, "AGREEMENT_NEEDED", 1.01)
        with pytest.raises(DataError, match=r"test.predictions.tsv: the exported model gives only 100 of 100 texts"):
            output = tmp_path / "new" / "folders" / "export"  # made for the export, and removed with it
            classifier_export.export_classifier(run_dir, OmegaConf.create({"output": str(output)}))
    assert not list(tmp_path.iterdir())
    run = load_classifier_run(run_dir)
    with pytest.raises(ConfigError, match=r"data.token_pattern '\(\\\\w\+\)' cannot be exported: capturing groups"):
        classifier_export.ClassifierServer(run.model, dataclasses.replace(run.encoder, token_pattern=r"(\w+)"))
    server = classifier_export.ClassifierServer(run.model, run.encoder)
    assert classifier_export.tokenizer_mismatches(server) == []
    server.pattern = compile_pattern(r"[a-zA-Z0-9_]+(?:'[a-zA-Z0-9_]+)*|[^a-zA-Z0-9_\s]")  # as RE2's ASCII \w would
    assert "U+00E9" in classifier_export.tokenizer_mismatches(server)

# --- metrics against hand-computed cases --------------------------------------------------------


def test_roc_auc_matches_a_hand_computed_case_with_ties():
    # positives 0.9, 0.6, 0.4; negatives 0.8, 0.4, 0.1. Pairs (pos > neg): 0.9 beats all 3;
    # 0.6 beats 0.4 and 0.1 (2); 0.4 beats 0.1 (1) and ties 0.4 (0.5). (3 + 2 + 1.5) / 9.
    positive = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    scores = np.array([0.9, 0.6, 0.4, 0.8, 0.4, 0.1])
    assert cm.roc_auc(positive, scores) == pytest.approx(6.5 / 9)
    fpr, tpr, _ = cm.roc_curve(positive, scores)
    assert np.trapezoid(tpr, fpr) == pytest.approx(6.5 / 9)  # the curve's area is the same number
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_roc_auc_extremes_and_undefined_case():
    assert cm.roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert cm.roc_auc(np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert cm.roc_auc(np.array([1, 0, 1, 0]), np.full(4, 0.5)) == 0.5  # all tied: chance
    assert np.isnan(cm.roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_average_ranks_share_ties():
    np.testing.assert_allclose(cm.average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1.0, 3.5, 2.0])


def test_per_class_and_macro_f1_by_hand():
    gold = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 0, 1])
    scores = cm.scores_from_confusion(cm.confusion_counts(gold, pred, 3))
    np.testing.assert_allclose(scores["precision"], [2 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(scores["recall"], [2 / 3, 1 / 2, 0.0])
    np.testing.assert_allclose(scores["f1"], [2 / 3, 0.4, 0.0])
    assert cm.macro_f1(gold, pred, 3) == pytest.approx((2 / 3 + 0.4) / 3)
    assert cm.accuracy(gold, pred) == pytest.approx(3 / 6)


def test_bootstrap_intervals_bracket_the_estimate_and_are_reproducible():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, size=200)
    pred = np.where(rng.random(200) < 0.8, gold, 1 - gold)
    first = cm.bootstrap_intervals(gold, pred, 2, n=500, seed=3)
    assert first == cm.bootstrap_intervals(gold, pred, 2, n=500, seed=3)
    low, high = first["accuracy"]
    assert low < cm.accuracy(gold, pred) < high and high - low < 0.2
    low, high = first["macro_f1"]
    assert low < cm.macro_f1(gold, pred, 2) < high
