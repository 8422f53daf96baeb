"""Every Hydra config composes against its typed schema, resolves, and says what it should.

The options are discovered from ``conf/<group>/*.yaml``, so a new file is covered without
touching this test. A typo in a key, a wrong type or an unknown choice must fail when Hydra
composes the config (before any data is read or any TensorFlow is imported).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from framework.config import EvaluateConfig, PredictConfig, TrainConfig, register_configs
from framework.config_ranges import check_ranges
from framework.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
# The groups of train.yaml a user picks from (``hydra/`` is Hydra's own, checked separately).
GROUPS = ("data", "model", "trainer", "optimizer", "callbacks", "paths", "experiment")


def _options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF / group).glob("*.yaml"))


OPTIONS = [(group, option) for group in GROUPS for option in _options(group)]

register_configs()


def _compose(config_name: str = "train", overrides=(), conf_dir: Path = CONF, hydra: bool = False) -> DictConfig:
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides), return_hydra_config=hydra)


def _resolved(cfg: DictConfig) -> dict:
    """The config as plain Python, every interpolation resolved and no mandatory value unset."""
    body = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"]) if "hydra" in cfg else cfg
    return OmegaConf.to_container(body, resolve=True, enum_to_str=True, throw_on_missing=True)


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _train(*overrides: str) -> dict:
    """``train`` composed with ``overrides`` and resolved, with the repo root as paths.root_dir."""
    return _resolved(_compose("train", [f"paths.root_dir={ROOT}", *overrides]))


def _yaml(name: str) -> DictConfig:
    """One conf file as written (no defaults applied), e.g. ``_yaml("model/tiny")``."""
    return OmegaConf.load(CONF / f"{name}.yaml")


def test_every_group_has_options():
    for group in GROUPS:
        assert _options(group), f"conf/{group}/ has no options"
    assert {"ner_conll2003", "pos_sample", "ner_sample"} <= set(_options("experiment"))


# --- every option of every group ----------------------------------------------------------------


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_resolves(group, option):
    # Experiments override data/model themselves; any other option is composed without an
    # experiment on top, so its own values are what we see.
    overrides = [f"{group}={option}"] if group == "experiment" else ["~experiment", f"{group}={option}"]
    cfg = _compose("train", [f"paths.root_dir={ROOT}", *overrides])
    # data and model are typed by their group's schema (each file's ``defaults``), the rest by the root.
    for key in ("data", "model", "trainer", "optimizer", "callbacks", "paths"):
        schema = OmegaConf.get_type(cfg, key)
        assert dataclasses.is_dataclass(schema), f"{group}={option}: {key} is not typed by a schema ({schema})"
    assert OmegaConf.get_type(cfg) is TrainConfig
    resolved = _resolved(cfg)
    check_ranges(resolved)  # every shipped value is inside the ranges checked at start-up
    for path, value in _leaves(resolved):
        assert not isinstance(value, enum.Enum), f"{path} is still an Enum"
        assert not (isinstance(value, str) and "${" in value), f"{path} is unresolved: {value}"
    if group == "data":
        assert resolved["data"]["name"] == option
    elif group == "model":
        assert resolved["model"]["name"] == option
    elif group == "experiment":
        assert resolved["experiment_name"] == option
    assert resolved["experiment_name"]


@pytest.mark.parametrize("option", _options("data"))
def test_data_options_name_their_source(option):
    """A TFDS corpus names its dataset; file corpora name files: shipped ones exist, others are under data_dir."""
    data = _train("~experiment", f"data={option}")["data"]
    if data.get("source") == "tfds":
        assert data["tfds_name"], f"data={option}: a TFDS corpus needs tfds_name"
        return
    sides = [f"{split}_{side}" for split in ("train", "dev", "test") for side in ("src", "tgt")]  # translators
    files = [data[key] for key in ("file", "train", "dev", "test", *sides) if data.get(key)]
    assert files, f"data={option}: names no file"
    for path in files:
        if option.endswith("_sample"):
            assert Path(path).is_file(), f"data={option}: {path} is not shipped in samples/"
        else:
            assert path.startswith("../shared/data/"), f"data={option}: {path} is not under paths.data_dir"


def test_default_train_config():
    cfg = _train()
    assert cfg["task"] == "tagging"
    assert cfg["experiment_name"] == "pos_sample"
    assert cfg["data"]["name"] == "ud_en_ewt_sample"
    assert cfg["model"]["name"] == "bilstm_softmax"
    assert cfg["model"]["head"] == "softmax"
    # The experiment's values on top of the model file's.
    assert cfg["model"]["rnn"]["units"] == _yaml("experiment/pos_sample").model.rnn.units
    assert cfg["data"]["train"] == f"{ROOT}/samples/ud_en_ewt/train.conllu"
    assert cfg["trainer"]["strategy"] == "default"
    assert cfg["optimizer"]["name"] == "adam"


def test_ner_conll2003_experiment():
    cfg = _train("experiment=ner_conll2003")
    data, model = cfg["data"], cfg["model"]
    assert (data["name"], data["task"], data["format"]) == ("conll2003", "ner", "columns")
    assert (data["scheme"], data["train_scheme"]) == ("iob2", "iobes")
    # Words only from the file (predict takes plain text); casing is computed from each word.
    assert data["tag_column"] == 3 and data["feature_columns"] == [] and data["casing"] is True
    assert data["lowercase"] is True and model["embedding"]["word_dropout"] == 0.2
    assert data["train"] == "../shared/data/conll2003/eng.train"
    assert data["dev"].endswith("eng.testa") and data["test"].endswith("eng.testb")
    assert (model["name"], model["head"], model["rnn"]["cell"]) == ("bilstm_crf", "crf", "lstm")
    assert model["rnn"]["bidirectional"] is True and model["constrain_transitions"] is True
    assert cfg["trainer"]["time_limit_minutes"] > 0  # reference experiments have a training-time budget
    assert cfg["experiment_name"] == "ner_conll2003"


def test_pos_and_chunk_experiments():
    pos = _train("experiment=pos_ud_ewt")
    assert (pos["data"]["task"], pos["data"]["format"], pos["data"]["scheme"]) == ("pos", "conllu", "none")
    assert pos["data"]["tag_field"] == "upos" and pos["data"]["feature_columns"] == []
    assert pos["model"]["head"] == "softmax"
    assert pos["trainer"]["time_limit_minutes"] > 0
    chunk = _train("experiment=chunk_conll2000")
    assert (chunk["data"]["task"], chunk["data"]["tag_column"], chunk["data"]["feature_columns"]) == ("chunk", 2, [1])
    assert chunk["data"]["dev"] is None and chunk["data"]["dev_fraction"] == 0.1
    assert (chunk["data"]["scheme"], chunk["data"]["train_scheme"]) == ("iob2", "iobes")
    assert chunk["model"]["head"] == "crf"
    assert chunk["trainer"]["time_limit_minutes"] > 0


def test_sample_experiments_with_the_tiny_model():
    """The smoke-run command line of the docs: the tiny model under a sample experiment."""
    ner = _train("experiment=ner_sample", "model=tiny")
    assert ner["model"]["name"] == "tiny" and ner["model"]["head"] == "crf"
    assert ner["data"]["name"] == "wnut17_sample" and ner["data"]["separator"] == "\t"
    assert (ner["data"]["scheme"], ner["data"]["train_scheme"]) == ("iob2", "iobes")
    assert Path(ner["data"]["train"]).is_file()
    pos = _train("experiment=pos_sample", "model=tiny", "trainer.epochs=1", "trainer.max_steps_per_epoch=3")
    assert pos["model"]["name"] == "tiny"
    assert pos["trainer"]["epochs"] == 1 and pos["trainer"]["max_steps_per_epoch"] == 3


def test_option_values():
    assert _train("~experiment", "model=tiny")["model"]["rnn"]["units"] == _yaml("model/tiny").rnn.units
    gru = _train("~experiment", "model=bigru_crf")["model"]
    assert (gru["rnn"]["cell"], gru["rnn"]["reset_after"]) == ("gru", True)  # reset_after=true: cuDNN's GRU
    original = _train("~experiment", "data=conll2003_original")["data"]
    assert (original["scheme"], original["train_scheme"], original["tag_column"]) == ("iob1", "iobes", 3)
    assert original["train"] == "../shared/data/conll2003_original/eng.train"
    debug = _train("~experiment", "trainer=debug")["trainer"]
    assert (debug["epochs"], debug["max_steps_per_epoch"], debug["early_stopping_patience"]) == (2, 5, 0)
    assert debug["batch_size"] == 32  # inherited from trainer/default
    for option in ("mirrored", "multi_worker"):
        trainer = _train("~experiment", f"trainer={option}")["trainer"]
        assert trainer["strategy"] == option and trainer["deterministic"] is False
    sgd = _train("~experiment", "optimizer=sgd")["optimizer"]
    assert (sgd["name"], sgd["schedule"]) == ("sgd", "inverse_time")
    adamw = _train("~experiment", "optimizer=adamw_cosine")["optimizer"]
    assert (adamw["name"], adamw["schedule"]) == ("adamw", "cosine") and adamw["weight_decay"] > 0
    assert _train("~experiment", "callbacks=minimal")["callbacks"]["tensorboard"] is False
    # An experiment's values win over a group option picked with it (it comes last in train.yaml).
    epochs = _yaml("experiment/pos_sample").trainer.epochs
    assert epochs != 2 and _train("experiment=pos_sample", "trainer=debug")["trainer"]["epochs"] == epochs
    # Command-line overrides are typed: strings become ints/floats/bools/enum names.
    cfg = _train("trainer.epochs=3", "model.rnn.cell=gru", "optimizer.clipnorm=null", "data.lowercase=true")
    assert cfg["trainer"]["epochs"] == 3 and cfg["model"]["rnn"]["cell"] == "gru"
    assert cfg["optimizer"]["clipnorm"] is None and cfg["data"]["lowercase"] is True


def test_paths_and_run_dir_come_from_hydra(tmp_path, monkeypatch):
    """paths.root_dir is the launch dir (``${hydra:runtime.cwd}``); runs go under output_dir; the
    shipped samples are the repository's, wherever the recipe is launched from."""
    monkeypatch.chdir(tmp_path)  # launched from outside the repository
    cfg = _compose("train", hydra=True)
    instance = HydraConfig.instance()
    previous = instance.cfg
    instance.set_config(cfg)
    try:
        resolved = _resolved(cfg)
        run_dir = cfg.hydra.run.dir
    finally:
        instance.cfg = previous
    assert resolved["paths"]["root_dir"] == os.getcwd()
    assert resolved["paths"]["sample_dir"] == str(ROOT / "samples")
    assert resolved["paths"]["data_dir"] == "../shared/data"
    assert run_dir.startswith("runs/pos_sample/")
    assert cfg.hydra.job.chdir is False


def test_samples_are_those_beside_the_composed_conf_wherever_the_package_is_installed(tmp_path):
    """The package imported from elsewhere (installed into site-packages, or another checkout's) and the
    recipe launched from another folder: the samples are still those beside the conf/ it composed."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "framework", site / "framework", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import framework; print(framework.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert where == str(site / "framework" / "__init__.py")
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / "train.py"), "experiment=spam_sample",
                             "--cfg", "job", "--resolve"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    resolved = OmegaConf.create(result.stdout)
    assert resolved.paths.sample_dir == str(ROOT / "samples")
    assert resolved.data.file == str(ROOT / "samples" / "sms_spam" / "sms_spam.tsv")


# --- mistakes fail at compose time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.rnn.unitz=3", "unitz"),  # a typo in a key
        ("trainer.epochz=3", "epochz"),
        ("nonsense=1", "nonsense"),
        ("trainer.epochs=abc", "trainer.epochs"),  # a wrong type
        ("model.rnn.units=1.5", "model.rnn.units"),
        ("data.lowercase=maybe", "data.lowercase"),
        ("model.rnn.cell=rnn", "model.rnn.cell"),  # a bad choice
        ("data.scheme=bio", "data.scheme"),
        ("data.train_scheme=iob1", "data.train_scheme"),
        ("model.head=mlp", "model.head"),
        ("model.rnn.use_cudnn=always", "model.rnn.use_cudnn"),
        ("trainer.strategy=tpu", "trainer.strategy"),
        ("optimizer.name=adagrad", "optimizer.name"),
    ],
)
def test_mistakes_fail_at_compose_time(override, named):
    with pytest.raises(ConfigCompositionException) as caught:
        _compose("train", [override])
    error = caught.value
    message = f"{error}\n{error.__cause__}"
    assert named in message
    assert error.__cause__ is not None  # OmegaConf's own validation error


@pytest.mark.parametrize("choice", ["model.rnn.cell=rnn", "data.scheme=bio"])
def test_bad_choice_lists_the_allowed_values(choice):
    with pytest.raises(ConfigCompositionException) as caught:
        _compose("train", [choice])
    cause = str(caught.value.__cause__)
    assert "expected one of" in cause
    assert ("lstm" in cause and "gru" in cause) if "cell" in choice else ("iob2" in cause and "iobes" in cause)


def test_unknown_option_lists_the_available_ones():
    with pytest.raises(MissingConfigException) as caught:
        _compose("train", ["model=nope"])
    assert "model/nope" in str(caught.value)
    assert "tiny" in str(caught.value)


def test_mistakes_in_a_yaml_file_fail_at_compose_time(tmp_path):
    """A new conf file is checked against its schema too: a typo or wrong type in it fails."""
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "model" / "typo.yaml").write_text("defaults:\n  - tagger_schema\nname: typo\nrnn: {unitz: 3}\n")
    (conf / "model" / "wrong_type.yaml").write_text(
        "defaults:\n  - tagger_schema\nname: wrong_type\nrnn: {units: many}\n"
    )
    (conf / "data" / "bad_scheme.yaml").write_text("defaults:\n  - tagging_schema\nname: bad\ntask: ner\nscheme: bio\n")
    (conf / "experiment" / "typo.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /model: tiny\nmodel:\n  rnn: {layerz: 2}\n"
    )
    cases = {
        "model=typo": "model.rnn.unitz",
        "model=wrong_type": "model.rnn.units",
        "data=bad_scheme": "data.scheme",
        "experiment=typo": "model.rnn.layerz",
    }
    for override, key in cases.items():
        overrides = [override] if override.startswith("experiment") else ["~experiment", override]
        with pytest.raises(ConfigCompositionException) as caught:
            _compose("train", overrides, conf)
        assert f"full_key: {key}" in str(caught.value), str(caught.value)
    _compose("train", ["model=tiny"], conf)  # the copy itself is fine


# --- evaluate and predict -------------------------------------------------------------------------


def test_evaluate_config():
    cfg = _compose("evaluate", ["run_dir=runs/some_run"])
    assert OmegaConf.get_type(cfg) is EvaluateConfig
    decode = {"strategy": None, "beam_size": None, "length_penalty": None, "max_length_ratio": None, "nbest": None}
    assert _resolved(cfg) == {"run_dir": "runs/some_run", "split": "test", "file": None, "batch_size": 128,
                              "decode": decode}  # translators: unset decode.* = the run's own settings
    assert _resolved(_compose("evaluate", ["run_dir=r", "split=dev", "file=x.conll"]))["split"] == "dev"
    hydra = _compose("evaluate", ["run_dir=r"], hydra=True).hydra
    assert hydra.output_subdir is None and hydra.job.chdir is False
    with pytest.raises(MissingMandatoryValue):
        _resolved(_compose("evaluate"))  # run_dir is mandatory
    for bad in ("split=valid", "batch_size=big", "run_dirr=r"):
        with pytest.raises(ConfigCompositionException):
            _compose("evaluate", ["run_dir=r", bad])


def test_predict_config():
    cfg = _compose("predict", ["run_dir=r", "input=in.txt", "output=out.conll"])
    assert OmegaConf.get_type(cfg) is PredictConfig
    resolved = _resolved(cfg)
    assert (resolved["run_dir"], resolved["input"], resolved["output"]) == ("r", "in.txt", "out.conll")
    assert resolved["batch_size"] == 128
    with pytest.raises(MissingMandatoryValue):
        _resolved(_compose("predict", ["input=in.txt", "output=out.conll"]))  # run_dir is mandatory
    for bad in ("batch_size=big", "inptu=x"):
        with pytest.raises(ConfigCompositionException):
            _compose("predict", ["run_dir=r", bad])


@pytest.mark.parametrize(("tree", "message"), [
    ({"data": {"max_train_pairs": -100}}, "data.max_train_pairs=-100: expected null or an integer >= 1"),
    ({"data": {"dev_max_sentences": 0}}, "data.dev_max_sentences=0: expected null or an integer >= 1"),
    ({"data": {"max_train_sentences": 0}}, "data.max_train_sentences=0: expected null or an integer >= 1"),
    ({"data": {"max_length": 0}}, "data.max_length=0: expected an integer >= 1"),
    ({"data": {"max_vocab": -5}}, "data.max_vocab=-5: expected null or an integer >= 1"),
    ({"trainer": {"intra_op_threads": 0}}, "trainer.intra_op_threads=0: expected null or an integer >= 1"),
    ({"trainer": {"inter_op_threads": -2}}, "trainer.inter_op_threads=-2: expected null or an integer >= 1"),
    ({"optimizer": {"schedule": "inverse_time", "decay_rate": -0.1}},
     "optimizer.decay_rate=-0.1: expected a number >= 0"),
    ({"optimizer": {"schedule": "exponential", "decay_rate": 1.0}},
     "optimizer.decay_rate=1.0: expected a number in [0, 1) under schedule=exponential"),
    ({"optimizer": {"warmup_epochs": -1.0}}, "optimizer.warmup_epochs=-1.0: expected a number >= 0"),
    ({"model": {"samples": {"temperatures": [0.5, -0.5]}}},
     "model.samples.temperatures[1]=-0.5: expected a number >= 0"),
    ({"model": {"samples": {"seeds": [0, -1]}}}, "model.samples.seeds[1]=-1: expected an integer >= 0"),
])
def test_values_that_would_fail_late_or_silently_fail_at_start_up(tree, message):
    """Slices of 0 or fewer items, decay rates that zero or negate the learning rate, and the LM's
    sample settings (used only after training) are refused before anything is loaded."""
    import re

    with pytest.raises(ConfigError, match=re.escape(message)):
        check_ranges(tree)
    check_ranges({"optimizer": {"schedule": "inverse_time", "decay_rate": 1.5}, "data": {"max_train_pairs": None}})
