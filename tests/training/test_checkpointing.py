"""DevSelection's files after an interruption at any point of an epoch's saving.

model.keras must always hold the epoch train_state.json calls best: the final scores are computed
from model.keras and reported under the state's best epoch.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from framework.training import checkpointing
from framework.training.checkpointing import BACKUP_DIR, BEST_MODEL, STATE_FILE, DevSelection


class Interrupted(Exception):
    pass


def _model(value: float) -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.full((1, 1), value, dtype="float32")])
    return model


def _kernel(path) -> float:
    return float(keras.saving.load_model(path).get_weights()[0][0, 0])


def _epoch(selection: DevSelection, epoch: int, weight: float, score: float) -> None:
    """One epoch's end: the model now holds ``weight`` and scores ``score`` on dev."""
    selection.model.set_weights([np.full((1, 1), weight, dtype="float32")])
    selection.evaluate_dev = lambda model: {"dev/f1": score}
    selection.on_epoch_end(epoch, {"loss": 1.0})


def _interrupt_the_state_write(monkeypatch) -> None:
    def interrupted(path, data):
        raise Interrupted

    monkeypatch.setattr(checkpointing, "atomic_write_json", interrupted)


def _interrupt_the_rename(monkeypatch) -> None:
    def interrupted(run_dir, state):
        raise Interrupted

    monkeypatch.setattr(checkpointing, "settle_backups", interrupted)


@pytest.mark.parametrize("interrupt", [_interrupt_the_state_write, _interrupt_the_rename])
def test_model_keras_holds_the_epoch_the_state_calls_best_after_an_interruption(tmp_path, monkeypatch, interrupt):
    selection = DevSelection(tmp_path, None, "dev/f1")
    selection.set_model(_model(1.0))
    _epoch(selection, 0, weight=1.0, score=0.5)
    assert _kernel(tmp_path / BEST_MODEL) == 1.0
    with monkeypatch.context() as patch:
        interrupt(patch)
        with pytest.raises(Interrupted):
            _epoch(selection, 1, weight=2.0, score=0.9)  # a better epoch, interrupted while saved
    state = checkpointing.read_state(tmp_path)
    checkpointing.settle_backups(tmp_path, state)  # what a re-run does first
    best_weight = {1: 1.0, 2: 2.0}[state["best_epoch"]]
    assert _kernel(tmp_path / BEST_MODEL) == best_weight
    assert [path.name for path in (tmp_path / BACKUP_DIR).iterdir()] == [state["backup"]]


def test_a_finished_epoch_leaves_one_backup_and_the_best_model(tmp_path):
    selection = DevSelection(tmp_path, None, "dev/f1")
    selection.set_model(_model(1.0))
    _epoch(selection, 0, weight=1.0, score=0.5)
    _epoch(selection, 1, weight=2.0, score=0.9)
    _epoch(selection, 2, weight=3.0, score=0.7)  # worse: model.keras keeps epoch 2
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert (state["epoch"], state["best_epoch"], state["backup"]) == (3, 2, "epoch-3.weights.h5")
    assert _kernel(tmp_path / BEST_MODEL) == 2.0
    assert [path.name for path in (tmp_path / BACKUP_DIR).iterdir()] == ["epoch-3.weights.h5"]


def test_without_backups_the_best_model_is_saved_directly(tmp_path):
    selection = DevSelection(tmp_path, None, "dev/f1", backup=False)
    selection.set_model(_model(1.0))
    _epoch(selection, 0, weight=1.0, score=0.5)
    assert _kernel(tmp_path / BEST_MODEL) == 1.0
    assert not (tmp_path / STATE_FILE).exists() and not (tmp_path / BACKUP_DIR).exists()


def test_wall_seconds_continue_from_the_state_of_the_processes_before(tmp_path):
    first = DevSelection(tmp_path, None, "dev/f1")
    first.set_model(_model(1.0))
    _epoch(first, 0, weight=1.0, score=0.5)
    state = checkpointing.read_state(tmp_path)
    state["wall_seconds"] = 100.0  # as if the first process had trained for 100 s
    resumed = DevSelection(tmp_path, None, "dev/f1", state=state)
    resumed.set_model(_model(1.0))
    _epoch(resumed, 1, weight=2.0, score=0.9)
    saved = json.loads((tmp_path / STATE_FILE).read_text())["wall_seconds"]
    assert 100.0 < saved <= resumed.wall_seconds < 100.0 + 60.0


def test_a_damaged_state_file_is_a_data_error_naming_it(tmp_path):
    from framework.errors import DataError

    (tmp_path / STATE_FILE).write_text('{"epoch": 3,\n "best": \n', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{STATE_FILE}:3: not valid JSON"):
        checkpointing.read_state(tmp_path)
    (tmp_path / STATE_FILE).write_text("[3]\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{STATE_FILE}: expected a JSON object of training state, found list"):
        checkpointing.read_state(tmp_path)
