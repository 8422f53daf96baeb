"""Export a trained run as a TensorFlow SavedModel (recipes/export.py): TensorFlow-specific, so it
lives here and not in the Keras-only models. This module itself imports no TensorFlow: the recipe
checks the output with it before the import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.errors import ConfigError


def export_dir(run_dir: str | Path, settings: Any) -> Path:
    """Where the export goes: ``output=``, else ``<run dir>/export``."""
    return Path(settings.output) if settings.output else Path(run_dir) / "export"


def refuse_existing(output: Path) -> None:
    """An export never replaces anything: a ConfigError when ``output`` exists."""
    if output.exists():
        raise ConfigError(f"output={output}: exists; remove it or give another path (an export is not overwritten)")
