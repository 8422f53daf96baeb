"""Where recipes/evaluate.py puts its scores, so that they never overwrite the run's own figures.

Training writes ``dev/...`` and ``test/...`` scores and ``train/...`` speed figures into the
run's metrics.json; an evaluation merges its scores beside them. Scoring another file is
named ``file-<stem>`` (``file=other/test.tsv`` gives ``file-test/...`` keys and
``file-test.predictions...``), so it cannot replace the run's test scores; re-scoring a split
of the run's own corpus writes the same keys training did, with the same model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from framework.io import atomic_write_json

FILE_PREFIX = "file-"


def evaluation_name(split: str, file: str | None) -> str:
    """The key prefix and file-name stem of one evaluation: ``split``, or ``file-<stem>`` for a file."""
    return f"{FILE_PREFIX}{Path(file).stem}" if file else split


def merge_into_metrics(run_dir: str | Path, scores: dict[str, Any]) -> dict[str, Any]:
    """Merge ``scores`` into ``run_dir``/metrics.json (atomically) and return what was written.

    Training's speed on the train split (``train/*_per_second``) stays: an evaluation's speed on
    that split goes to ``train/eval_*_per_second``.
    """
    metrics_path = Path(run_dir) / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    renamed = {_train_speed_key(key): value for key, value in scores.items()}
    metrics.update(renamed)
    atomic_write_json(metrics_path, metrics)
    return renamed


def _train_speed_key(key: str) -> str:
    if key.startswith("train/") and key.endswith("_per_second"):
        return "train/eval_" + key.removeprefix("train/")
    return key
