"""Where recipes/evaluate.py puts its scores, so that they never overwrite the run's own figures.

Training writes ``dev/...`` and ``test/...`` scores and ``train/...`` speed figures into the
run's metrics.json; an evaluation merges its scores beside them. Scoring another file is
named ``file-<stem>`` (``file=other/test.tsv`` gives ``file-test/...`` keys and
``file-test.predictions...``), so it cannot replace the run's test scores; ``file-<stem>/file``
records which file that was, and another file with the same stem gets ``file-<stem>-2`` (then
``-3``, ...), so it cannot replace the first one's either. Re-scoring a split of the run's own
corpus, or the same file again, writes the same keys as before, with the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.data.text_files import read_json_object
from framework.io import atomic_write_json

FILE_PREFIX = "file-"


def claim_evaluation_name(split: str, file: str | None, run_dir: str | Path) -> str:
    """The key prefix and file-name stem of one evaluation: ``split``, or for a file the first of
    ``file-<stem>``, ``file-<stem>-2``, ... that is free or already holds that file's scores.

    A file's name is recorded in metrics.json (``<name>/file``: its absolute path) before it is
    scored, so that the next file with the same stem is named apart.
    """
    if not file:
        return split
    path, metrics = str(Path(file).resolve()), _read_metrics(Path(run_dir) / "metrics.json")
    base = name = f"{FILE_PREFIX}{Path(file).stem}"
    number = 1
    while not _free_for(name, path, metrics):
        number += 1
        name = f"{base}-{number}"
    merge_into_metrics(run_dir, {f"{name}/file": path})
    return name


def _free_for(name: str, path: str, metrics: dict[str, Any]) -> bool:
    """Whether ``name`` holds no scores yet, or the scores of the file at ``path``."""
    recorded = metrics.get(f"{name}/file")
    return recorded == path or (recorded is None and not any(key.startswith(name + "/") for key in metrics))


def _read_metrics(path: Path) -> dict[str, Any]:
    return read_json_object(path, "metrics") if path.is_file() else {}


def merge_into_metrics(run_dir: str | Path, scores: dict[str, Any]) -> dict[str, Any]:
    """Merge ``scores`` into ``run_dir``/metrics.json (atomically) and return what was written.

    Training's speed on the train split (``train/*_per_second``) stays: an evaluation's speed on
    that split goes to ``train/eval_*_per_second``.
    """
    metrics_path = Path(run_dir) / "metrics.json"
    metrics = _read_metrics(metrics_path)
    renamed = {_train_speed_key(key): value for key, value in scores.items()}
    metrics.update(renamed)
    atomic_write_json(metrics_path, metrics)
    return renamed


def _train_speed_key(key: str) -> str:
    if key.startswith("train/") and key.endswith("_per_second"):
        return "train/eval_" + key.removeprefix("train/")
    return key
