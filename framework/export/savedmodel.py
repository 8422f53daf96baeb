"""Write a served model as a TensorFlow SavedModel, checked before it is moved into place.

Shared by the task exports (tagger_export, classifier_export): each gives a *server* object with
``model``, ``resources()`` (its lookup tables), ``endpoints()`` ((name, function, input signature);
the first is also ``serving_default``) and ``check(loaded, run_dir)``, which runs the reloaded
SavedModel on the run's own predictions file and raises a DataError when it disagrees.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from framework.environment import describe_environment
from framework.errors import ConfigError, DataError
from framework.export import export_dir, refuse_existing
from framework.io import atomic_write_json

MANIFEST = "rnnseq_export.json"
AGREEMENT_NEEDED = 0.99  # below this the export is broken, not a float near-tie flipped by other padding


def refuse_disagreement(path: Path, same: int, total: int, what: str) -> None:
    """A DataError when the export answers as the run did for fewer than AGREEMENT_NEEDED of ``total``."""
    if same < AGREEMENT_NEEDED * total:
        raise DataError(path, None, f"the exported model {what.format(same=same, total=total)}; nothing was exported "
                                    "(if the model changed since, e.g. a resumed run, rescore first: "
                                    "recipes/evaluate.py run_dir=... split=test)")  # fmt: skip


def start_export(run_dir: Path, settings: Any) -> Path:
    """The export's output, refused if it exists (the recipe checked before the import; a caller in-process
    may not have), with the GPU hidden for tracing."""
    output = export_dir(run_dir, settings)
    refuse_existing(output)
    hide_gpus()
    return output


def refuse_mismatches(wrong: list[str], what: str) -> None:
    """A ConfigError naming the code points the graph's string ops ``what`` otherwise than this Python."""
    if wrong:
        raise ConfigError(f"export: this TensorFlow {what} {len(wrong)} character(s) otherwise than this Python "
                          f"({', '.join(wrong[:5])}); nothing was exported")  # fmt: skip


def predictions_file(run_dir: Path, suffix: str) -> Path | None:
    """The run's ``test.predictions<suffix>``, else its ``dev.`` one, else None: what an export is checked on."""
    return next((run_dir / f"{split}.predictions{suffix}" for split in ("test", "dev")
                 if (run_dir / f"{split}.predictions{suffix}").is_file()), None)  # fmt: skip


def write_savedmodel(server: Any, output: Path, description: dict[str, Any]) -> dict[str, Any] | None:
    """Write the archive into a temp dir beside ``output``, reload it and check it against the run's
    predictions, add ``description`` (its MANIFEST, with the check), then rename it into place: an error
    or a failed check leaves no export, and an existing ``output`` is never touched."""
    created = [folder for folder in reversed(output.parents) if not folder.exists()]  # removed again on failure
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}."))
    except OSError as err:
        raise ConfigError(f"output={output}: cannot write there: {err.strerror or err}") from None
    moved = False
    try:
        archive = keras.export.ExportArchive()
        archive.track(server.model)
        for resource in server.resources():
            archive.track(resource)
        for name, function, signature in server.endpoints():
            archive.add_endpoint(name, function, input_signature=signature)
        archive.write_out(str(staging / "savedmodel"), verbose=False)
        written = tf.saved_model.load(str(staging / "savedmodel"))  # held: its functions need its variables
        checked = server.check(written, Path(description["run_dir"]))
        atomic_write_json(staging / "savedmodel" / MANIFEST, {**description, "checked": checked})
        refuse_existing(output)  # again: it may have appeared meanwhile, and rename replaces an empty directory
        try:
            os.rename(staging / "savedmodel", output)
        except OSError as err:
            raise ConfigError(f"output={output}: cannot move the export there: {err.strerror or err}") from None
        moved = True
        return checked
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in [] if moved else reversed(created):  # the folders made for an export that was not written
            try:
                folder.rmdir()
            except OSError:  # not empty (something else was written there meanwhile): kept
                break


def describe(task: str, run_dir: Path, inputs: dict[str, str], outputs: dict[str, str], **details: Any) -> dict:
    """The manifest: what a server needs to know to call the export, written beside saved_model.pb."""
    return {
        "task": task,
        "signature": "serving_default (also the function serve)",
        "inputs": inputs,
        "outputs": outputs,
        **details,
        "run_dir": str(run_dir.resolve()),
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": describe_environment(),
    }


def hide_gpus() -> None:
    """Trace the export on the CPU. Traced where a GPU is visible, Keras' LSTM/GRU and ours choose cuDNN ops,
    which have no CPU kernel: the SavedModel would then run on GPU machines only."""
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # the runtime has started (a caller in the same process): fine if it saw no GPU
        if tf.config.list_logical_devices("GPU"):
            raise ConfigError("export: a GPU is in use in this process; export from a process of its own "
                              "(recipes/export.py) or with CUDA_VISIBLE_DEVICES=") from None  # fmt: skip
