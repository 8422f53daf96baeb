"""recipes/evaluate.py merges its scores into metrics.json without replacing the run's own figures."""

import json

from framework.evaluation.run_metrics import evaluation_name, merge_into_metrics


def test_a_file_is_named_apart_from_the_run_splits():
    assert evaluation_name("test", None) == "test"
    assert evaluation_name("test", "/data/other/test.tsv") == "file-test"


def test_merging_keeps_training_speed_and_other_keys(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"train/words_per_second": 900.0, "train/seconds": 12.0, "test/f1": 0.5, "status": "ok"}))
    written = merge_into_metrics(tmp_path, {"train/f1": 0.9, "train/words_per_second": 5000.0})
    assert written == {"train/f1": 0.9, "train/eval_words_per_second": 5000.0}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "train/words_per_second": 900.0, "train/seconds": 12.0, "test/f1": 0.5, "status": "ok",
        "train/f1": 0.9, "train/eval_words_per_second": 5000.0}


def test_merging_into_a_run_without_metrics_starts_the_file(tmp_path):
    merge_into_metrics(tmp_path, {"file-x/accuracy": 1.0})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"file-x/accuracy": 1.0}
