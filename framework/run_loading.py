"""Open a finished run dir: its resolved config, vocabularies and best model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from framework.data.vocab import TaggerVocabs
from framework.errors import DataError


@dataclass
class TrainedRun:
    """Everything evaluate/predict need from a run dir."""

    run_dir: Path
    cfg: Any
    vocabs: TaggerVocabs
    model: Any


def require_run_files(run_dir: str | Path, files: dict[str, str]) -> Path:
    """Check a run dir holds config.yaml, model.keras and ``files`` ({name: what}); else a one-line DataError."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(run_dir, None, "run dir not found")
    needed = {"config.yaml": "the run's config", **files,
              "model.keras": "the best model (did training finish an epoch?)"}  # fmt: skip
    for name, what in needed.items():
        if not (run_dir / name).is_file():
            raise DataError(run_dir / name, None, f"missing: expected {what} here")
    return run_dir


def load_run(run_dir: str | Path) -> TrainedRun:
    """Load config.yaml, vocab.json and model.keras; a missing piece is a one-line DataError."""
    import framework.models.tagger  # noqa: F401 - registers the custom layers for load_model
    from framework.models.precision import load_model

    run_dir = require_run_files(run_dir, {"vocab.json": "the vocabularies"})
    cfg = OmegaConf.load(run_dir / "config.yaml")
    vocabs = TaggerVocabs.load(run_dir / "vocab.json")
    model = load_model(run_dir / "model.keras")
    return TrainedRun(run_dir, cfg, vocabs, model)
