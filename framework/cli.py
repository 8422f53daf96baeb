"""Glue for the thin recipes: plain configs, run dirs, and one-line errors instead of tracebacks."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from framework.errors import ConfigError, RunDirTaken, UserError
from framework.io import atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ start-up chatter (set before TensorFlow is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # e.g. retracing notes for new batch shapes


# Lines TensorFlow 2.21 writes through absl before absl is initialised, so TF_CPP_MIN_LOG_LEVEL
# does not hide them (they would precede a user's one-line ``error:`` on stderr).
_IMPORT_NOISE = ("All log messages before absl::InitializeLog() is called", "oneDNN custom operations are on")


def import_backend_quietly() -> None:
    """Import Keras (and so its backend, TensorFlow by default) without the start-up chatter.

    Whatever else the import writes to stderr is passed on; with ``TF_CPP_MIN_LOG_LEVEL=0``
    nothing is filtered.
    """
    if "keras" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("", "0"):
        import keras  # noqa: F401
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import keras  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not any(n in line for n in _IMPORT_NOISE)))
            sys.stderr.flush()


def plain_config(cfg: DictConfig) -> DictConfig:
    """The resolved config with enum choices as plain strings, so code compares ``== "lstm"``.

    A mandatory value left unset (``???``, e.g. ``run_dir``) is a ConfigError naming the key.
    """
    from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue

    try:
        container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True, throw_on_missing=True)
    except (MissingMandatoryValue, InterpolationToMissingValueError) as err:
        key = getattr(err, "full_key", None) or "a config key"
        raise ConfigError(f"{key}: no value given (set {key}=... on the command line)") from None
    return OmegaConf.create(container)


def hydra_run_dir() -> Path:
    """The output dir Hydra made for this job (hydra.run.dir, or the sweep's subdir)."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print a UserError as one ``error: ...`` line and exit with status 2 (no traceback)."""
    try:
        yield
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def absolute_paths(settings: DictConfig) -> DictConfig:
    """The config with every relative path (one with a ``/``) that exists made absolute, so that config.yaml still
    names the corpus when evaluate.py or predict.py run from another folder
    (``paths.data_dir=../shared/data`` is relative to the launch dir)."""
    container = OmegaConf.to_container(settings)

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: fix(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fix(item) for item in value]
        if isinstance(value, str) and "/" in value and not os.path.isabs(value) and os.path.exists(value):
            return os.path.abspath(value)
        return value

    return OmegaConf.create(fix(container))


def record_failure(run_dir: Path, err: BaseException, **extra: Any) -> None:
    """Write ``metrics.json`` with status failed and the error, so sweeps and users see why.

    ``extra`` adds keys (``objective_direction``, or ``status="pruned"``) so a sweep report
    can rank the trial without knowing how it ended.
    """
    record = {
        "status": "failed",
        "error": f"{type(err).__name__}: {err}",
        "traceback": traceback.format_exc(limit=20),
    }
    record.update(extra)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / "metrics.json", record)


def in_multirun() -> bool:
    """Whether this job is one trial of a Hydra multirun (``-m``) rather than a single run."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _train(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Resolve, save the config, and train; a non-user error is recorded in metrics.json."""
    from framework.config_ranges import check_ranges
    from framework.tasks import task_function, task_spec

    settings = absolute_paths(plain_config(cfg))
    check_ranges(settings)
    task_function(settings.task, "check_model")(settings.model)  # e.g. the cuDNN guard: before any data or import
    # the task's local data files, read before the import: a bad one is refused in a second
    corpus = task_function(settings.task, "read_data")(settings.data) if task_spec(settings.task).read_data else None
    import_backend_quietly()
    from framework.threads import apply_thread_settings
    from framework.training.resume import check_resumable  # imports Keras: after the quiet import

    apply_thread_settings(settings.trainer.intra_op_threads, settings.trainer.inter_op_threads)  # before any op

    train = task_function(settings.task, "train")
    check_resumable(run_dir, settings)  # before config.yaml is replaced: a mismatch keeps the old record
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(settings))
    try:
        return train(settings, run_dir, corpus) if corpus is not None else train(settings, run_dir)
    except UserError:
        raise
    except Exception as err:
        record_failure(run_dir, err)
        raise


def _log_headline(run_dir: Path, metrics: dict[str, Any]) -> None:
    """The run dir and its test scores (a language model without a test split: its dev scores)."""
    log.info("run dir: %s", run_dir)
    for split in ("test", "dev"):
        headline = [f"{k}={v:.4f}" for k, v in metrics.items()
                    if k.startswith(f"{split}/") and k.count("/") == 1 and isinstance(v, float)]  # fmt: skip
        if headline:
            log.info("%s", ", ".join(headline))
            return


def run_training(cfg: DictConfig) -> Any:
    """Resolve the config, save it, and train its task into Hydra's run dir; returns the objective.

    A single run fails loudly (a one-line error or a traceback, non-zero exit). A trial of a
    multirun never raises: one bad combination (NaN learning rate, divergence, a value the
    model cannot take) must not throw away the rest of a sweep, so the failure is written to
    the trial's ``metrics.json`` and the worst value for the objective's direction is returned.
    """
    run_dir = hydra_run_dir()
    if not in_multirun():
        with user_errors():
            metrics = _train(cfg, run_dir)
        _log_headline(run_dir, metrics)
        return metrics.get("objective")
    return _run_trial(cfg, run_dir)


def _run_trial(cfg: DictConfig, run_dir: Path) -> Any:
    """One multirun trial: train, or record why it failed and return the worst objective."""
    from framework.sweeps.objective import is_failure_value, task_direction, worst_value

    direction = task_direction(OmegaConf.select(cfg, "task", default=None))
    try:
        if "keras" in sys.modules:  # trials share a process: drop the previous trial's graph state
            import keras

            keras.backend.clear_session()
        metrics = _train(cfg, run_dir)
    except RunDirTaken:
        raise  # the run dir is another run's: record nothing there, stop the sweep
    except Exception as err:  # noqa: BLE001 - any failure of one trial is that trial's result
        status = "pruned" if type(err).__name__ == "TrialPruned" else "failed"
        (log.info if status == "pruned" else log.error)("trial %s %s: %s: %s", run_dir.name, status,
                                                         type(err).__name__, err)  # fmt: skip
        record_failure(run_dir, err, status=status, objective_direction=direction)
        if status == "pruned":
            raise  # the Optuna sweeper marks the trial as pruned
        return worst_value(direction)
    _log_headline(run_dir, metrics)
    objective = metrics.get("objective")
    if is_failure_value(objective):
        return worst_value(metrics.get("objective_direction", direction))
    return objective


def load_run_config(run_dir: str | Path) -> DictConfig:
    """The resolved config.yaml of a run dir (a one-line DataError when it is missing)."""
    from framework.errors import DataError

    path = Path(run_dir) / "config.yaml"
    if not Path(run_dir).is_dir():
        raise DataError(run_dir, None, "run dir not found")
    if not path.is_file():
        raise DataError(path, None, "missing: expected the run's config here (is this a run dir?)")
    return OmegaConf.load(path)


def _check_export_output(settings: DictConfig, task: str) -> None:
    """Before the import: the task exports at all, and the output is new (an export is never overwritten)."""
    from framework.export import export_dir, refuse_existing
    from framework.tasks import task_function, task_spec

    if task_spec(task).export is None:
        task_function(task, "export")  # raises the one-line "none yet" error (importing nothing)
    refuse_existing(export_dir(settings.run_dir, settings))


def _check_export_backend() -> None:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ConfigError(f"export writes a TensorFlow SavedModel: run it on KERAS_BACKEND=tensorflow, "
                          f"not {keras.backend.backend()}")  # fmt: skip


def run_task_command(cfg: DictConfig, kind: str) -> Any:
    """evaluate/predict/export: dispatch on the task recorded in the run dir's config."""
    from framework.config_ranges import check_ranges
    from framework.data.text_files import check_utf8_lines
    from framework.tasks import task_function, task_spec

    with user_errors():
        settings = plain_config(cfg)
        task = load_run_config(settings.run_dir).get("task", "tagging")
        check_ranges(settings)
        if kind == "predict" and settings.get("output") and Path(settings.output).is_dir():
            raise ConfigError(f"output={settings.output}: is a directory; give the path of the file to write")
        if kind == "predict" and settings.get("input") and task_spec(task).predict_reads_input:
            check_utf8_lines(settings.input)  # a missing or non-UTF-8 input: refused before the import
        if kind == "export":
            _check_export_output(settings, task)
        import_backend_quietly()
        if kind == "export":
            _check_export_backend()
        return task_function(task, kind)(Path(settings.run_dir), settings)
