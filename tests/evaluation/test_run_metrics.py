"""recipes/evaluate.py merges its scores into metrics.json without replacing the run's own figures."""

import json

from framework.evaluation.run_metrics import claim_evaluation_name, merge_into_metrics


def test_a_file_is_named_apart_from_the_run_splits(tmp_path):
    assert claim_evaluation_name("test", None, tmp_path) == "test"
    assert not (tmp_path / "metrics.json").exists()
    assert claim_evaluation_name("test", "/data/other/test.tsv", tmp_path) == "file-test"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"file-test/file": "/data/other/test.tsv"}


def test_files_with_the_same_stem_never_share_a_name(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"test/f1": 0.5, "file-dev/f1": 0.7}))  # file-dev: an older run
    first, second = tmp_path / "a" / "test.txt", tmp_path / "b" / "test.txt"
    assert claim_evaluation_name("test", str(first), tmp_path) == "file-test"
    merge_into_metrics(tmp_path, {"file-test/f1": 0.8})
    assert claim_evaluation_name("test", str(second), tmp_path) == "file-test-2"
    assert claim_evaluation_name("test", str(first), tmp_path) == "file-test"  # the same file again: its own keys
    assert claim_evaluation_name("test", str(second), tmp_path) == "file-test-2"
    assert claim_evaluation_name("test", str(tmp_path / "c" / "test.txt"), tmp_path) == "file-test-3"
    # scores written before files were recorded: kept, the file is named apart
    assert claim_evaluation_name("test", str(tmp_path / "dev.txt"), tmp_path) == "file-dev-2"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["file-test/f1"] == 0.8 and metrics["file-dev/f1"] == 0.7 and metrics["test/f1"] == 0.5
    assert metrics["file-test/file"] == str(first) and metrics["file-test-2/file"] == str(second)


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


def test_a_metrics_file_that_is_not_a_json_object_is_a_data_error_naming_it(tmp_path):
    import pytest

    from framework.errors import DataError

    (tmp_path / "metrics.json").write_text("[1, 2]\n")
    with pytest.raises(DataError, match=r"metrics.json: expected a JSON object of metrics, found list"):
        claim_evaluation_name("test", str(tmp_path / "other.txt"), tmp_path)
    (tmp_path / "metrics.json").write_text('{"test/f1": 0.5,\n')
    with pytest.raises(DataError, match=r"metrics.json:2: not valid JSON"):
        merge_into_metrics(tmp_path, {"file-x/f1": 1.0})
