"""Tests for the classification report and the ROC plot: every section present, message text escaped."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.text_classification import Example, TextEncoder
from framework.data.vocab import Vocabulary
from framework.evaluation.classifier_eval import score_classification
from framework.reporting import plots
from framework.reporting.classifier_report import confident_mistakes, write_classifier_report
from framework.reporting.document import PNG_SIGNATURE

ENCODER = TextEncoder(Vocabulary(("<pad>", "<unk>")), Vocabulary(("ham", "spam"), specials=False), "spam")
EXAMPLES = [
    Example("ham", "see you later", 1),
    Example("spam", "<script>alert(1)</script> WIN | £100 *now*", 2),
    Example("ham", "ok", 3),
    Example("spam", "free entry", 4),
]
PROBS = np.array([[0.9, 0.1], [0.95, 0.05], [0.4, 0.6], [0.2, 0.8]])


def _scores():
    gold = ENCODER.label_ids([e.label for e in EXAMPLES])
    return score_classification(gold, PROBS, ENCODER, "test", bootstrap=50)


def test_confident_mistakes_come_surest_first():
    rows = confident_mistakes(_scores(), EXAMPLES)
    assert [row[0] for row in rows] == [2, 3]  # line 2 is wrong at 0.95, line 3 at 0.6
    assert rows[0][1:4] == ["spam", "ham", 0.95]


def test_report_has_every_section_and_escapes_message_text(tmp_path):
    scores = _scores()
    cfg = OmegaConf.create({"experiment_name": "t", "model": {"name": "m", "pooling": "max", "output": "softmax"},
                            "data": {"name": "d"}})  # fmt: skip
    metrics = {"objective_name": "dev/macro_f1", "best_epoch": 1, "positive_label": "spam", **scores.metrics}
    history = [{"epoch": 1, "loss": 0.5, "accuracy": 0.7, "dev/macro_f1": 0.6, "dev/accuracy": 0.7}]
    record = {"mode": "stratified", "seed": 13, "counts": {"train": {"ham": 8, "spam": 2}, "dev": {"ham": 1},
                                                           "test": {"ham": 2, "spam": 2}}}  # fmt: skip
    details = {"test": (scores, EXAMPLES)}
    write_classifier_report(tmp_path, cfg, metrics, details, history, {"rnn kernel: x": "generic"}, record)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for section in ("## Metrics", "## Data", "## Per class (test)", "## ROC curve (test)",
                    "## Most confident mistakes (test)", "## Learning curves", "rnn kernel: x"):  # fmt: skip
        assert section in markdown
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in markdown and r"WIN \| £100 \*now\*" in markdown
    for plot in ("test_confusion", "test_roc", "learning_curves"):
        assert (tmp_path / "plots" / f"{plot}.png").read_bytes().startswith(PNG_SIGNATURE)


def test_roc_curve_plot_and_its_checks():
    assert plots.roc_curve([0.0, 0.5, 1.0], [0.0, 0.9, 1.0], 0.7).startswith(PNG_SIGNATURE)
    assert plots.roc_curve([], [], float("nan")).startswith(PNG_SIGNATURE)  # placeholder
    with pytest.raises(ValueError, match="differ|rates"):
        plots.roc_curve([0.0, 1.0], [0.0], 0.5)
    with pytest.raises(ValueError, match="fractions"):
        plots.roc_curve([0.0, 1.5], [0.0, 1.0], 0.5)


def test_learning_curves_name_training_accuracy_for_what_it_is():
    """Keras computes training accuracy as a weighted metric: under class_weight=balanced it is
    class-weighted, unlike dev accuracy, and the curve's name says so."""
    from framework.reporting.classifier_report import _history_series

    history = [{"loss": 0.7, "accuracy": 0.6, "dev/accuracy": 0.5}, {"loss": 0.5, "accuracy": 0.7, "dev/accuracy": 0.6}]
    assert list(_history_series(history)) == ["loss", "train accuracy", "dev/accuracy"]
    weighted = _history_series(history, class_weighted=True)
    assert weighted["train accuracy (class-weighted)"] == [0.6, 0.7] and "accuracy" not in weighted
