"""Comparing runs: metrics, config differences, per-label deltas, translator significance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.errors import DataError
from framework.reporting.compare_report import config_diff, load_run, write_comparison


def make_run(path: Path, config: str, metrics: dict, predictions: str | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(config)
    (path / "metrics.json").write_text(json.dumps(metrics))
    if predictions is not None:
        (path / "test.predictions.conll").write_text(predictions)
    return path


TAGGER = "data: {{task: ner}}\nmodel: {{rnn: {{cell: {cell}, units: 16}}}}\n"
GOLD = [("John", "B-PER"), ("lives", "O"), ("in", "O"), ("Paris", "B-LOC")]


def conll(predicted: list[str]) -> str:
    return "".join(f"{w} {g} {p}\n" for (w, g), p in zip(GOLD, predicted)) + "\n"


def test_tagger_comparison(tmp_path):
    a = make_run(tmp_path / "a", TAGGER.format(cell="lstm"), {"status": "ok", "task": "ner", "test/f1": 0.5},
                 conll(["B-PER", "O", "O", "O"]))  # fmt: skip
    b = make_run(tmp_path / "b", TAGGER.format(cell="gru"), {"status": "ok", "task": "ner", "test/f1": 1.0},
                 conll(["B-PER", "O", "O", "B-LOC"]))  # fmt: skip
    md, page = write_comparison([a, b], tmp_path / "out")
    text = md.read_text()
    assert "| model.rnn.cell | lstm | gru |" in text
    assert "model.rnn.units" not in text  # equal keys are not listed
    assert "| test/f1 | 0.5 | 1 | 0.5 |" in text
    assert "| LOC | 0 | 1 | 1 |" in text and "| PER | 1 | 1 | 0 |" in text  # span F1 per type
    assert "<table>" in page.read_text()
    assert "## Warning" not in text  # same task, objective and test data


def test_runs_of_other_tasks_or_test_data_are_flagged_and_get_no_objective_delta(tmp_path):
    pos = make_run(tmp_path / "pos", "data: {task: pos, test: a.conllu}\n",
                   {"status": "ok", "task": "pos", "objective_name": "dev/accuracy", "objective": 0.9})  # fmt: skip
    ner = make_run(tmp_path / "ner", "data: {task: ner, test: b.conll}\n",
                   {"status": "ok", "task": "ner", "objective_name": "dev/f1", "objective": 0.4})  # fmt: skip
    md, _ = write_comparison([pos, ner], tmp_path / "out")
    text = md.read_text()
    assert "## Warning" in text and "different tasks (ner, pos)" in text and "different objectives" in text
    assert "tested on different data" in text
    assert "| objective | 0.9 | 0.4 |  |" in text  # no delta between accuracy and F1


def test_per_label_from_metrics_json_and_name_clashes(tmp_path):
    a = make_run(tmp_path / "x" / "run", "a: 1\n", {"test/f1/PER": 0.25})
    b = make_run(tmp_path / "y" / "run", "a: 2\n", {"test/f1/PER": 0.75})
    md, _ = write_comparison([a, b], tmp_path / "out")
    text = md.read_text()
    assert "x/run" in text and "y/run" in text and "| PER | 0.25 | 0.75 | 0.5 |" in text


def test_translator_comparison_has_bootstrap_and_differing_sentences(tmp_path):
    refs = ["the cat sat on the mat", "a dog runs in the park", "it is raining today", "we like green tea"] * 5
    good = list(refs)
    bad = ["the cat", "a dog runs in the park", "rain", "we like tea"] * 5
    runs = []
    for name, hyps in (("good", good), ("bad", bad)):
        run = make_run(tmp_path / name, "task: translation\n", {"status": "ok"})
        (run / "test.ref.txt").write_text("\n".join(refs) + "\n")
        (run / "test.hyp.txt").write_text("\n".join(hyps) + "\n")
        runs.append(run)
    md, _ = write_comparison(runs, tmp_path / "out", bootstrap=100, examples=2)
    text = md.read_text()
    assert "## Translation: paired bootstrap" in text and "| good | 100 |" in text and "baseline" in text
    assert "## Sentences where the systems differ most" in text
    assert text.count("| reference |") == 2 and "| BLEU bad |" in text


def test_errors(tmp_path):
    with pytest.raises(DataError, match="at least two"):
        write_comparison([tmp_path])
    with pytest.raises(DataError, match="no config.yaml"):
        load_run(tmp_path)


def test_config_diff_marks_missing_keys(tmp_path):
    a = load_run(make_run(tmp_path / "a", "x: 1\ny: 2\n", {}))
    b = load_run(make_run(tmp_path / "b", "x: 1\n", {}))
    assert config_diff([a, b]) == [["y", "2", "(not set)"]]


def test_compare_recipe(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    a = make_run(tmp_path / "a", "x: 1\n", {"status": "ok", "test/accuracy": 0.5})
    b = make_run(tmp_path / "b", "x: 2\n", {"status": "ok", "test/accuracy": 0.6})
    command = [sys.executable, "recipes/compare.py", f"run_dirs=[{a},{b}]", f"output_dir={tmp_path / 'out'}"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| x | 1 | 2 |" in (tmp_path / "out" / "compare.md").read_text()
