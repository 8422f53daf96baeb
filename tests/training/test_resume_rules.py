"""Training into a run dir continues its run only when it has a finished epoch and the same config."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from framework.errors import RunDirTaken
from framework.training.checkpointing import STATE_FILE
from framework.training.resume import check_resumable, differing_keys, is_resuming

CONFIG = {"task": "tagging", "data": {"name": "x", "lowercase": False}, "model": {"rnn": {"units": 64}},
          "trainer": {"epochs": 2, "seed": 1}, "callbacks": {"tensorboard": True}}


def _run_dir(tmp_path, finished_epoch: bool):
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(CONFIG))
    if finished_epoch:
        (tmp_path / STATE_FILE).write_text("{}")
    return tmp_path


def _with(**changes):
    config = OmegaConf.create(CONFIG)
    for key, value in changes.items():
        OmegaConf.update(config, key.replace("__", "."), value)
    return config


def test_differing_keys_are_dotted_and_count_one_sided_keys():
    assert differing_keys({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 4}}) == ["a.c", "a.d"]
    assert differing_keys(CONFIG, CONFIG) == []


def test_more_epochs_and_other_logging_may_resume(tmp_path):
    run_dir = _run_dir(tmp_path, finished_epoch=True)
    check_resumable(run_dir, _with(trainer__epochs=5, callbacks__tensorboard=False))
    # thread pools change the speed, not the run (and a run from before the keys existed has none)
    check_resumable(run_dir, _with(trainer__intra_op_threads=1, trainer__inter_op_threads=2))
    assert is_resuming(run_dir)


def test_a_cosine_schedule_keeps_its_epochs(tmp_path):
    """The cosine decay spans trainer.epochs: resuming with more would jump the learning rate back up."""
    cosine = {**CONFIG, "optimizer": {"schedule": "cosine"}}
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(cosine))
    (tmp_path / STATE_FILE).write_text("{}")
    longer = OmegaConf.create(cosine)
    OmegaConf.update(longer, "trainer.epochs", 4)
    with pytest.raises(RunDirTaken, match=r"trainer\.epochs: 2 -> 4"):
        check_resumable(tmp_path, longer)
    limited = OmegaConf.create(cosine)
    OmegaConf.update(limited, "trainer.time_limit_minutes", 30)
    check_resumable(tmp_path, limited)


def test_another_model_or_data_setting_is_refused_and_named(tmp_path):
    run_dir = _run_dir(tmp_path, finished_epoch=True)
    with pytest.raises(RunDirTaken, match=r"another config \(model\.rnn\.units: 64 -> 128, trainer\.seed: 1 -> 2\)"):
        check_resumable(run_dir, _with(model__rnn__units=128, trainer__seed=2))


def test_a_run_dir_without_a_finished_epoch_starts_over(tmp_path):
    run_dir = _run_dir(tmp_path, finished_epoch=False)
    check_resumable(run_dir, _with(model__rnn__units=128))
    assert not is_resuming(run_dir)


def test_a_vocabulary_left_by_a_failed_start_is_rebuilt(tmp_path):
    """A first start that failed after writing vocab.json must not leave its labels to the next run."""
    from framework.schemas.classification import ClassificationDataConfig
    from framework.data.text_classification import Example, build_encoder
    from framework.training.classifier_run import prepare_encoder

    def _data():
        return OmegaConf.create(OmegaConf.to_container(OmegaConf.structured(ClassificationDataConfig(name="t")),
                                                       enum_to_str=True))  # fmt: skip

    def corpus(labels):
        examples = [Example(label, f"text {i}", i + 1) for i, label in enumerate(labels)]
        return type("Corpus", (), {"train": examples})()

    stale = build_encoder(corpus(["a", "b", "c"]).train, _data())
    stale.save(tmp_path / "vocab.json")
    fresh = prepare_encoder(OmegaConf.create({"data": _data()}), corpus(["ham", "spam"]), tmp_path)
    assert list(fresh.labels.tokens) == ["ham", "spam"]
    (tmp_path / STATE_FILE).write_text("{}")  # with a finished epoch the run's own vocabulary is kept
    kept = prepare_encoder(OmegaConf.create({"data": _data()}), corpus(["x", "y"]), tmp_path)
    assert list(kept.labels.tokens) == ["ham", "spam"]
