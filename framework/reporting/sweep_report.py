"""The report of a sweep: ``sweep_report.md``, ``sweep_report.html`` and ``trials.csv``.

Written into the sweep dir by ``recipes/report.py`` and automatically when a multirun ends
(:mod:`framework.sweeps.callbacks`). Every trial is listed, failed ones last with their
error, because a sweep where half the trials crashed reads very differently from one where
they all ran; the best trial's config is given as a command line to rerun it on its own.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from framework.data.text_files import read_json_object
from framework.io import atomic_write_text
from framework.reporting import plots, sweep_plots
from framework.reporting.document import Document
from framework.sweeps.trials import (
    Trial, fixed_overrides, headline_metrics, objective_name, rank_trials, read_trials, swept_params,
    sweep_direction,
)  # fmt: skip

OPTUNA_FILE = "optuna.json"  # written by the Optuna sweeper at the end of a study
BEST_CURVES = 5  # learning curves of this many best trials
MAX_ERROR_CHARS = 300


def _short_error(trial: Trial) -> str:
    error = " ".join(trial.error.split())
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "\u2026"


def trial_rows(ranked: list[Trial], swept: list[str], metrics: list[str]) -> tuple[list[str], list[list[Any]]]:
    """The table of trials: rank, trial, status, objective, swept params, metrics, error."""
    columns = ["rank", "trial", "status", "objective", *swept, *metrics, "error"]
    rows = []
    for rank, trial in enumerate(ranked, start=1):
        params = trial.params
        rows.append([
            rank if trial.ok else "",
            trial.name,
            trial.status,
            trial.objective if trial.ok else "",
            *(params.get(key, "") for key in swept),
            *(trial.metrics.get(key, "") for key in metrics),
            _short_error(trial),
        ])  # fmt: skip
    return columns, rows


def trials_csv(ranked: list[Trial], swept: list[str], metrics: list[str]) -> str:
    """The text of ``trials.csv``: the trial table plus full overrides and run dir, for pandas or a sheet."""
    columns, rows = trial_rows(ranked, swept, metrics)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns[:-1], "error", "overrides", "run_dir"])
    for trial, row in zip(ranked, rows):
        writer.writerow([*row[:-1], " ".join(trial.error.split()), " ".join(trial.overrides), str(trial.path)])
    return buffer.getvalue()


def _add_param_plots(doc: Document, ranked: list[Trial], swept: list[str], objective: str) -> None:
    finished = [t for t in ranked if t.ok]
    drawn = False
    for index, key in enumerate(swept):
        values = [t.params.get(key, "") for t in finished]
        if finished and sweep_plots.is_plottable(values):
            png = sweep_plots.objective_vs_param(key, values, [t.objective for t in finished], objective)
            doc.image(f"objective_vs_param_{index}", png, f"{objective} by {key}")
            drawn = True
    if not drawn:
        doc.paragraph("No finished trials with a swept parameter to plot.")


def _add_curves(doc: Document, ranked: list[Trial], objective: str) -> None:
    best = [t for t in ranked if t.ok and t.history][:BEST_CURVES]
    curves = {f"trial {t.name}": [h.get(objective, float("nan")) for h in t.history] for t in best}
    curves = {k: v for k, v in curves.items() if v}
    if not curves:
        doc.paragraph("No per-epoch history recorded by the finished trials.")
        return
    doc.image("best_trial_curves", sweep_plots.trial_curves(curves, objective), f"{objective} per epoch, best trials")
    top = best[0]
    series = {k: [float(h.get(k, float("nan"))) for h in top.history] for k in ("loss", objective)}
    doc.image("best_trial_learning_curves", plots.learning_curves(series), f"Learning curves of trial {top.name}")


def _add_optuna(doc: Document, sweep_dir: Path, objective: str) -> None:
    path = sweep_dir / OPTUNA_FILE
    if not path.is_file():
        return
    study = read_json_object(path, "the Optuna sweeper's summary")
    doc.heading("Optuna study")
    doc.key_values({key: study.get(key) for key in ("study_name", "storage", "direction", "sampler", "pruner")})
    done = [t for t in study.get("trials", []) if t.get("state") == "COMPLETE" and t.get("value") is not None]
    states: dict[str, int] = {}
    for trial in study.get("trials", []):
        states[trial.get("state", "?")] = states.get(trial.get("state", "?"), 0) + 1
    doc.table(["state", "trials"], sorted(states.items()), caption="Trial states")
    if done:
        png = sweep_plots.optimization_history([t["number"] for t in done], [t["value"] for t in done],
                                               study.get("direction", "maximize"), objective)  # fmt: skip
        doc.image("optuna_history", png, "Optuna optimization history")
    importances = study.get("importances") or {}
    if importances:
        names = list(importances)
        png = plots.bar_chart(names, [importances[n] for n in names], "Parameter importances", "importance")
        doc.image("optuna_importances", png, "Optuna parameter importances (fANOVA)")
    elif study.get("importance_note"):
        doc.paragraph(f"Parameter importances: {study['importance_note']}")


def build_sweep_document(sweep_dir: Path, trials: list[Trial]) -> Document:
    """Summary, best config, trial table, parameter plots, curves and the Optuna study."""
    ranked, swept, metrics = rank_trials(trials), swept_params(trials), headline_metrics(trials)
    objective, direction = objective_name(trials), sweep_direction(trials)
    counts = {s: sum(t.status == s for t in trials) for s in dict.fromkeys(t.status for t in trials)}
    doc = Document(f"Sweep report: {sweep_dir.name}")
    doc.paragraph(f"Sweep dir: {sweep_dir}\nObjective: {objective} ({direction}); failed trials rank last.")
    doc.heading("Summary").key_values({"trials": len(trials), **{f"status {k}": v for k, v in counts.items()}})
    best = ranked[0] if ranked and ranked[0].ok else None
    doc.heading("Best trial")
    if best:
        doc.key_values({"trial": best.name, objective: best.objective, "run dir": str(best.path)})
        doc.paragraph("Train this configuration on its own:").code(best.command(), "bash")
    else:
        doc.paragraph("No trial finished successfully.")
    if fixed_overrides(trials):
        doc.heading("Shared overrides").key_values(fixed_overrides(trials))
    columns, rows = trial_rows(ranked, swept, metrics)
    doc.heading("Trials").table(columns, rows, caption=f"Sorted by {objective}, best first")
    doc.heading("Objective by parameter")
    _add_param_plots(doc, ranked, swept, objective)
    doc.heading("Learning curves")
    _add_curves(doc, ranked, objective)
    _add_optuna(doc, sweep_dir, objective)
    return doc


def write_sweep_report(sweep_dir: str | Path) -> list[Path]:
    """Write ``sweep_report.md``, ``sweep_report.html`` (+ plots/) and ``trials.csv``.

    Everything is built (the CSV text, the document and its plots) before anything is written, so
    a failure leaves the previous trials.csv and report together, never a new CSV beside a stale
    report; each file is then replaced atomically, the report (its plots first) before the CSV.

    Returns:
        The written paths, trials.csv first.
    """
    sweep_dir = Path(sweep_dir)
    trials = read_trials(sweep_dir)
    table = trials_csv(rank_trials(trials), swept_params(trials), headline_metrics(trials))
    doc = build_sweep_document(sweep_dir, trials)
    report_paths = doc.save(sweep_dir, stem="sweep_report")
    csv_path = sweep_dir / "trials.csv"
    atomic_write_text(csv_path, table)
    return [csv_path, *report_paths]
