"""config.yaml names its corpus by absolute paths, so evaluate/predict work from any folder."""

from __future__ import annotations

import os

from omegaconf import OmegaConf

from framework.cli import absolute_paths


def test_relative_paths_that_exist_become_absolute(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.txt").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    settings = OmegaConf.create({"paths": {"data_dir": "../" + tmp_path.name + "/data", "output_dir": "runs"},
                                 "data": {"train": "data/train.txt", "dev": "data/missing.txt", "tokenizer": "word",
                                          "files": ["data/train.txt"]}})  # fmt: skip
    fixed = absolute_paths(settings)
    assert fixed.paths.data_dir == os.path.join(str(tmp_path), "data")
    assert fixed.data.train == fixed.data.files[0] == str(tmp_path / "data" / "train.txt")
    assert fixed.data.dev == "data/missing.txt"  # not there: left for the reader's own "file not found"
    assert (fixed.paths.output_dir, fixed.data.tokenizer) == ("runs", "word")  # no "/": not a path
