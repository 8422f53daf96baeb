"""The task registry: which functions train, evaluate and predict for each ``task`` in the config.

A task's functions are named as ``module:function`` and imported only when used, so a
recipe loads just the code of its own task.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from framework.errors import ConfigError


@dataclass(frozen=True)
class TaskSpec:
    """``train(settings, run_dir) -> metrics``; ``evaluate(run_dir, settings) -> metrics``;
    ``predict(run_dir, settings) -> message``. Train metrics carry ``objective`` (the dev metric
    sweeps optimise) and ``objective_direction`` (maximize or minimize). ``check_model(model_config)``:
    the model config's checks (framework.models.model_checks), pure Python, which the recipe runs first. ``predict_reads_input``:
    predict reads an ``input=`` file, which the recipe checks before it imports the backend.
    ``read_data(data_config) -> corpus or None``: pure Python, the recipe calls it before it imports
    the backend, so a bad data file is refused in a second; ``train`` gets what it returned as
    ``corpus`` (None: train reads the data itself, e.g. through TFDS, after its distribution strategy).
    ``export(run_dir, settings) -> message``: writes a TensorFlow SavedModel; None where the task has none yet."""

    train: str
    evaluate: str
    predict: str
    check_model: str
    predict_reads_input: bool = True
    read_data: str | None = None
    export: str | None = None


TASKS: dict[str, TaskSpec] = {
    "tagging": TaskSpec(
        train="framework.training.tagger_run:train_tagger",
        check_model="framework.models.model_checks:check_recurrent_model",
        read_data="framework.data.corpus:read_local_tagging_corpus",
        evaluate="framework.tagging_tasks:evaluate_tagger",
        predict="framework.tagging_tasks:predict_tagger",
        export="framework.export.tagger_export:export_tagger",
    ),
    "classification": TaskSpec(
        train="framework.training.classifier_run:train_classifier",
        check_model="framework.models.model_checks:check_recurrent_model",
        read_data="framework.data.text_classification:read_corpus_files",
        evaluate="framework.classification_tasks:evaluate_classifier",
        predict="framework.classification_tasks:predict_classifier",
        export="framework.export.classifier_export:export_classifier",
    ),
    "language_model": TaskSpec(
        train="framework.training.lm_run:train_language_model",
        check_model="framework.models.model_checks:check_language_model_config",
        read_data="framework.data.text_corpus:load_text_corpus",
        evaluate="framework.lm_tasks:evaluate_language_model",
        predict="framework.lm_tasks:predict_language_model",
        predict_reads_input=False,  # it continues prompt="..."
    ),
    "translation": TaskSpec(
        train="framework.training.translator_run:train_translator",
        check_model="framework.models.model_checks:check_translator_config",
        read_data="framework.data.parallel:read_local_parallel_corpus",
        evaluate="framework.translation_tasks:evaluate_translator",
        predict="framework.translation_tasks:predict_translator",
    ),
}


def task_spec(task: str) -> TaskSpec:
    """What ``task`` runs; an unknown task is a ConfigError."""
    if task not in TASKS:
        raise ConfigError(f"task: unknown task {task!r} (one of {', '.join(sorted(TASKS))})")
    return TASKS[task]


def task_function(task: str, kind: str) -> Callable:
    """The ``kind`` (train, evaluate, predict, export, check_model or read_data) function of ``task``."""
    where = getattr(task_spec(task), kind)
    if where is None:
        supported = ", ".join(sorted(name for name, spec in TASKS.items() if getattr(spec, kind)))
        raise ConfigError(f"{kind}: a {task} run has none yet (supported for: {supported})")
    module, name = where.split(":")
    return getattr(importlib.import_module(module), name)
