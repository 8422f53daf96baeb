"""An Optuna study driven through a Hydra launcher: search space, ask/tell, study summary.

The search space uses Hydra's sweep syntax, as the hydra-optuna-sweeper plugin does, so a
config written for one reads the same here::

    model.rnn.units: choice(16, 32, 64)          # categorical (also: 16,32,64)
    model.rnn.cell: choice(lstm, gru)
    trainer.batch_size: range(16, 65, step=16)   # integers 16..64 (stop excluded, as in Hydra)
    optimizer.learning_rate: tag(log, interval(0.0003, 0.01))   # float, log-uniform
    model.rnn.layers: tag(int, interval(1, 3))   # integer, inclusive

Any other override is passed to every trial unchanged. Trials ask Optuna for a batch of
``n_jobs`` parameter sets, run them through the configured launcher (in-process, or joblib
workers) and tell Optuna each result; a failed trial is told as FAIL, not as a number, so it
never steers the sampler. The study lives in ``storage`` (``sqlite:///path.db``), so a
killed sweep resumes where it stopped when it is started again with the same study.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep

from framework.errors import ConfigError, RunDirTaken
from framework.io import atomic_write_json
from framework.sweeps.objective import is_failure_value

log = logging.getLogger(__name__)

OPTUNA_FILE = "optuna.json"


def distribution(override: Override) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution of one sweep override (``choice``, ``range`` or ``interval``)."""
    value = override.value()
    if isinstance(value, ChoiceSweep):
        return optuna.distributions.CategoricalDistribution([_plain(v) for v in value.list])
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if all(float(x).is_integer() for x in (start, stop, step)):
            last = int(start) + (int(stop) - int(start) - 1) // int(step) * int(step)
            return optuna.distributions.IntDistribution(int(start), last, step=int(step))
        # Hydra's range excludes stop: its last value is start + (ceil((stop - start) / step) - 1) * step
        count = math.ceil((float(stop) - float(start)) / float(step) - 1e-9)
        last = round(float(start) + (count - 1) * float(step), 12)  # 0.8999999999999999 would lose a step
        return optuna.distributions.FloatDistribution(float(start), last, step=float(step))
    if isinstance(value, IntervalSweep):
        log_scale = "log" in value.tags
        if "int" in value.tags:
            return optuna.distributions.IntDistribution(int(value.start), int(value.end), log=log_scale)
        return optuna.distributions.FloatDistribution(float(value.start), float(value.end), log=log_scale)
    raise ConfigError(f"{override.input_line}: not a search space (use choice, range or interval)")


def _plain(value: Any) -> Any:
    """A choice as Optuna can store it: None, bool, int, float or str."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def split_overrides(params: dict[str, str], arguments: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The search space (config ``params`` and sweep-syntax command-line overrides) and fixed overrides.

    A command-line sweep of a key replaces that key's entry in ``params``; a plain command-line
    value fixes it, so ``model.rnn.cell=gru`` pins a parameter the config would search.
    """
    parser = OverridesParser.create()
    space: dict[str, Any] = {}
    for key, value in params.items():
        space[key] = distribution(parser.parse_override(f"{key}={value}"))
    fixed = []
    for override in parser.parse_overrides(arguments):
        key = override.get_key_element()
        if override.is_sweep_override():
            space[key] = distribution(override)
        else:
            space.pop(key, None)
            fixed.append(override.input_line)
    if not space:
        raise ConfigError("hydra.sweeper.params: no search space (e.g. model.rnn.units: choice(16, 32))")
    return space, fixed


def format_param(key: str, value: Any) -> str:
    """One trial override, ``key=value``, in a form Hydra parses back to the same value."""
    if isinstance(value, float):
        return f"{key}={value!r}"
    if value is None:
        return f"{key}=null"
    return f"{key}={value}"


def finished_trials(study: optuna.Study) -> int:
    """Trials that ended (complete, pruned or failed): what a resumed study still owes is n_trials minus these."""
    ended = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    return sum(t.state in ended for t in study.trials)


def tell(study: optuna.Study, trial: optuna.trial.Trial, job_return: Any) -> str:
    """Report one launched job to the study; returns the state told (COMPLETE, PRUNED, FAIL)."""
    from hydra.core.utils import JobStatus

    if job_return.status == JobStatus.COMPLETED and not is_failure_value(job_return.return_value):
        study.tell(trial, float(job_return.return_value))
        return "COMPLETE"
    error = job_return._return_value if job_return.status != JobStatus.COMPLETED else None
    if isinstance(error, optuna.TrialPruned):
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return "PRUNED"
    if error is not None:
        log.error("trial %d failed: %s: %s", trial.number, type(error).__name__, error)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    if isinstance(error, RunDirTaken):
        raise error  # the trial's run dir is another run's: stop the sweep, as Hydra's grid sweeper does
    return "FAIL"


def importances(study: optuna.Study) -> tuple[dict[str, float], str]:
    """Parameter importances (fANOVA) of the completed trials, or why there are none."""
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) < 2:
        return {}, "needs at least two completed trials"
    try:
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}, ""
    except Exception as err:  # noqa: BLE001 - e.g. a single value for every parameter
        return {}, f"not computed ({type(err).__name__}: {err})"


def write_summary(study: optuna.Study, path: Path, settings: dict[str, Any]) -> None:
    """``optuna.json``: every trial of the study, the best one and the importances, for the report."""
    trials = [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params}
        for t in study.trials
    ]  # fmt: skip
    weights, note = importances(study)
    try:
        best = {"number": study.best_trial.number, "value": study.best_value, "params": study.best_params}
    except ValueError:  # no completed trial
        best = None
    atomic_write_json(path, {**settings, "trials": trials, "best": best, "importances": weights,
                             "importance_note": note})  # fmt: skip


def load_summary(path: Path) -> dict[str, Any]:
    """The ``optuna.json`` written by :func:`write_summary`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def make_sampler(settings: Any, trials_so_far: int = 0) -> optuna.samplers.BaseSampler:
    """The configured sampler, seeded so a sweep is repeatable.

    A resumed study has ``trials_so_far``: its sampler is seeded past them, so it does not draw
    again the settings the first start drew (the same seed would, trial for trial).
    """
    seed = None if settings.seed is None else settings.seed + trials_so_far
    if settings.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=settings.n_startup_trials)
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"hydra.sweeper.sampler: unknown sampler {settings.sampler!r} (tpe or random)")


def make_pruner(settings: Any) -> optuna.pruners.BasePruner:
    """The configured pruner; ``none`` never prunes."""
    if settings.pruner == "none":
        return optuna.pruners.NopPruner()
    if settings.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=settings.pruner_warmup_epochs)
    raise ConfigError(f"hydra.sweeper.pruner: unknown pruner {settings.pruner!r} (none or median)")


def _in_process(launcher: Any) -> bool:
    """Whether trials run in this process, where the epoch hook can reach the Optuna trial."""
    return type(launcher).__name__ == "BasicLauncher"


def run_study(sweeper: Any, settings: Any, arguments: list[str], sweep_dir: Path, task: str | None) -> list:
    """Run (or resume) the study until it has ``n_trials`` ended trials; returns the job returns."""
    from framework.sweeps import pruning
    from framework.sweeps.objective import task_direction

    direction = settings.direction or task_direction(task)
    if direction not in ("maximize", "minimize"):
        raise ConfigError(f"hydra.sweeper.direction: {direction!r} is not maximize or minimize")
    space, fixed = split_overrides(dict(settings.params), list(arguments))
    if settings.storage and settings.storage.startswith("sqlite:///"):
        Path(settings.storage[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=settings.study_name, storage=settings.storage, sampler=make_sampler(settings),
        pruner=make_pruner(settings), direction=direction, load_if_exists=True,
    )  # fmt: skip
    if study.trials:  # resumed
        study.sampler = make_sampler(settings, len(study.trials))
    summary = {"study_name": study.study_name, "storage": settings.storage, "direction": direction,
               "sampler": settings.sampler, "seed": settings.seed, "pruner": settings.pruner}  # fmt: skip
    remaining = settings.n_trials - finished_trials(study)
    log.info("Optuna study %s: %d trials to run (%s), search space %s", study.study_name, max(remaining, 0),
             direction, ", ".join(space))  # fmt: skip
    returns: list = []
    hook = settings.pruner != "none" and settings.n_jobs == 1 and _in_process(sweeper.launcher)
    while remaining > 0:
        batch = [study.ask(space) for _ in range(min(settings.n_jobs, remaining))]
        overrides = [tuple(fixed + [format_param(k, v) for k, v in t.params.items()]) for t in batch]
        sweeper.validate_batch_is_legal(overrides)
        with pruning.active(batch[0] if hook else None):
            results = sweeper.launcher.launch(overrides, initial_job_idx=batch[0].number)
        for trial, result in zip(batch, results):
            log.info("trial %d: %s", trial.number, tell(study, trial, result))
        returns.append(results)
        remaining -= len(batch)
        write_summary(study, sweep_dir / OPTUNA_FILE, summary)
    write_summary(study, sweep_dir / OPTUNA_FILE, summary)
    return returns
