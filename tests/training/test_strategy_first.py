"""Each task makes its tf.distribute strategy before any TensorFlow op.

MultiWorkerMirroredStrategy configures collective ops, which TensorFlow allows only before its
context starts (the first tf.data pipeline would start it): made later, trainer=multi_worker
fails on every worker with "Collective ops must be configured at program startup".
"""

import importlib

import pytest
from omegaconf import OmegaConf


class StrategyMade(Exception):
    pass


@pytest.mark.parametrize("task", ["tagger", "classifier", "lm", "translator"])
def test_the_strategy_comes_before_seeds_data_and_pipelines(task, tmp_path, monkeypatch):
    run = importlib.import_module(f"framework.training.{task}_run")
    calls = []

    def make_strategy(name):
        calls.append(name)
        raise StrategyMade

    monkeypatch.setattr(run, "make_strategy", make_strategy)
    monkeypatch.setattr(run, "set_seeds", lambda *args: pytest.fail("seeds set (TensorFlow ops) before the strategy"))
    train = {"tagger": "train_tagger", "classifier": "train_classifier", "lm": "train_language_model",
             "translator": "train_translator"}[task]  # fmt: skip
    cfg = OmegaConf.create({"trainer": {"strategy": "multi_worker", "seed": 0, "deterministic": True}})
    with pytest.raises(StrategyMade):
        getattr(run, train)(cfg, tmp_path / "run")
    assert calls == ["multi_worker"]
