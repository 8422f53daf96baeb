"""Read the trials of a sweep dir: each subdir's ``.hydra/overrides.yaml`` and ``metrics.json``.

A trial's run dir is whatever Hydra made for it (``<sweep dir>/<job num>`` by default, or a
nested ``hydra.sweep.subdir``), so trials are found by their ``.hydra/overrides.yaml``. A
trial without ``metrics.json`` is still running or was killed, and is listed as
``incomplete`` rather than skipped: a report that hides trials hides problems.

An unreadable ``overrides.yaml`` (bad YAML, not a list of overrides) is a one-line DataError for
a finished trial, whose row and command line would otherwise be wrong. A trial without
``metrics.json`` may be one Hydra is launching right now (it writes the file in place) or one that
was killed while writing it: that trial is listed as ``incomplete`` with the read error as its
error, so a report of a live or crashed sweep is still written and still shows the trial.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from framework.data.text_files import read_json, read_json_object, read_utf8, yaml_data_error
from framework.errors import DataError
from framework.sweeps.objective import MAXIMIZE, sort_key

OVERRIDES = Path(".hydra") / "overrides.yaml"
# Overrides that only choose how trials are searched or launched: dropped from the best trial's
# command line. ``hparams_search=`` stays (it may set the experiment), with ``hydra.mode=RUN``
# appended so the command trains once instead of starting the search again.
_SWEEP_ONLY_PREFIXES = ("hydra/sweeper=", "hydra/launcher=", "hydra.sweeper.", "hydra.launcher.", "hydra.mode=")


@dataclass
class Trial:
    """One trial of a sweep, as its run dir records it."""

    name: str  # the run dir relative to the sweep dir, e.g. "3"
    path: Path
    overrides: list[str]
    status: str  # ok | failed | pruned | incomplete
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    read_error: str = ""  # why the trial's own files could not be read (an incomplete trial only)

    @property
    def ok(self) -> bool:
        """Finished with a finite objective: the only trials that are ranked."""
        return self.status == "ok" and _finite(self.objective)

    @property
    def objective(self) -> float | None:
        """The dev metric the trial returned to the sweeper (None when it has none)."""
        value = self.metrics.get("objective")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def error(self) -> str:
        """Why the trial failed (empty for a finished trial)."""
        if self.read_error:
            return self.read_error
        return str(self.metrics.get("error", "")) if self.status != "ok" else ""

    @property
    def params(self) -> dict[str, str]:
        """``key -> value`` of the overrides (``+``/``++`` prefixes dropped), in their order."""
        params = {}
        for override in self.overrides:
            key, sep, value = override.partition("=")
            if sep:
                params[key.lstrip("+~")] = value
        return params

    def command(self, recipe: str = "recipes/train.py") -> str:
        """A ready-to-run command line that trains this trial's config as a single run."""
        kept = [o for o in self.overrides if not o.startswith(_SWEEP_ONLY_PREFIXES)]
        if any(o.lstrip("+").startswith("hparams_search=") for o in kept):
            kept.append("hydra.mode=RUN")
        return " ".join(["python", recipe, *(shlex.quote(o) for o in kept)])


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def read_overrides(path: Path) -> list[str]:
    """A trial's ``.hydra/overrides.yaml``: a YAML list of ``key=value`` strings (empty file: none).

    Raises:
        DataError: not UTF-8, not valid YAML (with its line), or not a flat list.
    """
    try:
        overrides = yaml.safe_load(read_utf8(path))
    except yaml.YAMLError as err:
        raise yaml_data_error(path, err) from None
    if overrides is None:
        return []
    if not isinstance(overrides, list) or any(isinstance(o, (dict, list)) for o in overrides):
        raise DataError(path, None, "expected a YAML list of overrides such as '- model.rnn.units=64'")
    return [str(o) for o in overrides]


def read_trial(sweep_dir: Path, run_dir: Path) -> Trial:
    """The trial whose Hydra output dir is ``run_dir``.

    Raises:
        DataError: a bad ``metrics.json`` or ``history.json``, or a bad ``overrides.yaml`` of a
            trial that has a ``metrics.json`` (see the module docstring for one that has none).
    """
    metrics_path, history_path = run_dir / "metrics.json", run_dir / "history.json"
    name = run_dir.relative_to(sweep_dir).as_posix()
    try:
        overrides = read_overrides(run_dir / OVERRIDES)
    except DataError as err:
        if metrics_path.is_file():
            raise
        return Trial(name, run_dir, [], "incomplete", read_error=f"DataError: {err}")
    metrics = read_json_object(metrics_path, "metrics") if metrics_path.is_file() else {}
    history = read_json(history_path) if history_path.is_file() else []
    status = str(metrics.get("status", "incomplete" if not metrics else "ok"))
    history = history if isinstance(history, list) else []
    return Trial(name, run_dir, overrides, status, metrics, history)


def _trial_number(trial: Trial) -> tuple:
    """Numeric job dirs sort as numbers (2 before 10), others by name."""
    return (0, int(trial.name), "") if trial.name.isdigit() else (1, 0, trial.name)


def read_trials(sweep_dir: str | Path) -> list[Trial]:
    """Every trial under ``sweep_dir``, in job order (a DataError when there is none)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise DataError(sweep_dir, None, "sweep dir not found")
    run_dirs = sorted({p.parent.parent for p in sweep_dir.rglob("overrides.yaml") if p.parent.name == ".hydra"})
    trials = [read_trial(sweep_dir, run_dir) for run_dir in run_dirs if run_dir != sweep_dir]
    if not trials:
        raise DataError(sweep_dir, None,
                        "no trials found (expected <trial>/.hydra/overrides.yaml; is this a sweep dir?)")  # fmt: skip
    return sorted(trials, key=_trial_number)


def sweep_direction(trials: list[Trial]) -> str:
    """The objective's direction, as the trials recorded it (maximize when none says)."""
    for trial in trials:
        if trial.metrics.get("objective_direction"):
            return str(trial.metrics["objective_direction"])
    return MAXIMIZE


def objective_name(trials: list[Trial]) -> str:
    """The objective's metric name, e.g. ``dev/accuracy``."""
    return next((str(t.metrics["objective_name"]) for t in trials if t.metrics.get("objective_name")), "objective")


def rank_trials(trials: list[Trial]) -> list[Trial]:
    """Best objective first; failed, pruned and incomplete trials last, in job order."""
    direction = sweep_direction(trials)
    return sorted(trials, key=lambda t: (sort_key(t.objective, direction, not t.ok), _trial_number(t)))


def swept_params(trials: list[Trial]) -> list[str]:
    """The override keys whose value differs between trials (or is missing from some).

    A trial whose overrides could not be read has unknown, not empty, overrides: it is left out.
    """
    trials = _with_overrides(trials)
    keys: dict[str, None] = {}
    for trial in trials:
        keys.update(dict.fromkeys(trial.params))
    return [k for k in keys if len({t.params.get(k) for t in trials}) > 1]


def fixed_overrides(trials: list[Trial]) -> dict[str, str]:
    """Overrides every trial shares: the sweep's base settings."""
    swept, known = set(swept_params(trials)), _with_overrides(trials)
    return {k: v for k, v in known[0].params.items() if k not in swept} if known else {}


def _with_overrides(trials: list[Trial]) -> list[Trial]:
    return [t for t in trials if not t.read_error]


def headline_metrics(trials: list[Trial]) -> list[str]:
    """The dev/test headline metric names any ok trial has (``dev/f1``, not ``dev/f1/PER``)."""
    names: dict[str, None] = {}
    for trial in trials:
        for key, value in trial.metrics.items():
            if key.startswith(("dev/", "test/")) and key.count("/") == 1 and isinstance(value, (int, float)):
                if not key.endswith(("_ci_low", "_ci_high", "/tokens", "/sentences", "_seconds", "/words_per_second")):
                    names[key] = None
    return sorted(names, key=lambda k: (not k.startswith("dev/"), k))
