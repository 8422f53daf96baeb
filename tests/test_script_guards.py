"""The measuring scripts refuse what would make them print stale or no figures (fast: no training)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["measure_tagger_speed.sh", "benchmark_taggers.sh"])
def test_tagger_speed_scripts_refuse_an_existing_run_dir(tmp_path, script):
    """Training into an existing run dir resumes it: the script would print that run's old speed."""
    (tmp_path / "pos_ud_ewt").mkdir()
    done = subprocess.run(["bash", f"scripts/{script}", str(tmp_path / "data"), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path}/pos_ud_ewt exists; give another out_dir for a fresh measurement"


def test_translation_speed_script_says_when_evaluate_fails(tmp_path):
    run_dir = tmp_path / "not_a_run"
    run_dir.mkdir()
    done = subprocess.run(["bash", "scripts/measure_translation_speed.sh", str(run_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1
    assert f"error: {run_dir}: evaluate.py failed (decode.strategy=greedy); see {run_dir}/evaluate.log" in done.stderr
