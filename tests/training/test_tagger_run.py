"""End-to-end tests of tagger training: recipes on the shipped slices, resume, seeds, failures.

The recipe tests run the real entry points (train, evaluate, predict) in subprocesses on the
shipped EWT and WNUT-17 slices; the other tests call ``train_tagger`` in-process on a few dozen
EWT sentences. Every training is tiny (a few steps), so the whole file takes about a minute.
"""

from __future__ import annotations

import html.parser
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_user_error, run_as_user

from framework.cli import plain_config
from framework.config import register_configs
from framework.data.readers import read_columns, read_conllu
from framework.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
TIMEOUT = 600

TEST_FILES = {"pos": SAMPLES / "ud_en_ewt" / "test.conllu", "ner": SAMPLES / "wnut17" / "test.conll"}
TRAIN_FILES = {"pos": SAMPLES / "ud_en_ewt" / "train.conllu", "ner": SAMPLES / "wnut17" / "train.conll"}
EXPERIMENTS = {"pos": "pos_sample", "ner": "ner_sample"}


def _read(task: str, path: Path):
    if task == "pos":
        return read_conllu(path)
    return read_columns(path, word_column=0, tag_column=1, scheme="iob2", separator="\t")


# --- recipes on the shipped slices (subprocesses) ------------------------------------------------------


def _launch(script: str, *overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "recipes" / script), *overrides],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_all(processes: dict[str, subprocess.Popen]) -> dict[str, str]:
    """Wait for every process; fail with the tail of the output of any that did not exit 0."""
    outputs = {name: proc.communicate(timeout=TIMEOUT)[0] for name, proc in processes.items()}
    for name, proc in processes.items():
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{outputs[name][-5000:]}"
    return outputs


def _conll_blocks(source: Path | str) -> list[list[list[str]]]:
    """Sentences of a space-separated column file (or its text): field lists, a blank line between."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    assert text.endswith("\n\n") and "\n\n\n" not in text, "one blank line after every sentence"
    return [[line.split(" ") for line in block.split("\n")] for block in text.rstrip("\n").split("\n\n")]


# TensorFlow's thread pools as each run sets them (framework/threads.py), and as its report must say
THREADS = {"pos": (), "ner": ("trainer.intra_op_threads=1", "trainer.inter_op_threads=2")}
REPORTED_THREADS = {"pos": "intra-op default, inter-op default", "ner": "intra-op 1, inter-op 2"}


@pytest.fixture(scope="module")
def recipe_runs(tmp_path_factory):
    """Train both sample experiments (in parallel), then evaluate and predict with them.

    Returns, per task: the run dir, what training wrote (metrics, predictions) before evaluate
    touched the run dir, and the evaluate/predict outputs.
    """
    base = tmp_path_factory.mktemp("recipes")
    runs = {task: base / task for task in EXPERIMENTS}
    _wait_all({
        task: _launch("train.py", f"experiment={experiment}", "model=tiny", "trainer.epochs=2",
                      "trainer.max_steps_per_epoch=5", "callbacks.tensorboard=false", f"hydra.run.dir={runs[task]}",
                      *THREADS[task])
        for task, experiment in EXPERIMENTS.items()
    })  # fmt: skip
    trained = {
        task: {
            "metrics": json.loads((run / "metrics.json").read_text()),
            "predictions": (run / "test.predictions.conll").read_text(encoding="utf-8"),
        }
        for task, run in runs.items()
    }
    # predict (NER only: its IOBES -> IOB2 conversion is the interesting case) tags the test words
    words = base / "ner.input.txt"
    words.write_text("".join(" ".join(s.words) + "\n" for s in _read("ner", TEST_FILES["ner"])), encoding="utf-8")
    processes = {f"evaluate {task}": _launch("evaluate.py", f"run_dir={run}", "split=test")
                 for task, run in runs.items()}  # fmt: skip
    processes["predict ner"] = _launch("predict.py", f"run_dir={runs['ner']}", f"input={words}",
                                       f"output={base / 'ner.tagged'}")  # fmt: skip
    outputs = _wait_all(processes)
    results = {task: {"run_dir": run, **trained[task], "evaluate_output": outputs[f"evaluate {task}"]}
               for task, run in runs.items()}  # fmt: skip
    results["ner"].update(predict_output=outputs["predict ner"], tagged=base / "ner.tagged")
    return results


@pytest.mark.parametrize("task", ["pos", "ner"])
def test_recipe_writes_a_complete_run_dir(recipe_runs, task):
    run = recipe_runs[task]
    run_dir, metrics = run["run_dir"], run["metrics"]
    for name in ("config.yaml", "metrics.json", "model.keras", "vocab.json", "history.json",
                 "test.predictions.conll", "dev.predictions.conll", "report.md", "report.html"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    assert metrics["status"] == "ok" and metrics["task"] == task
    assert metrics["epochs"] == 2 and metrics["best_epoch"] in (1, 2)
    for key in ("dev/accuracy", "test/accuracy"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["test/sentences"] == len(_read(task, TEST_FILES[task]))
    if task == "ner":
        for key in ("test/f1", "test/precision", "test/recall", "dev/f1"):
            assert 0.0 <= metrics[key] <= 1.0, key
        types = {tag[2:] for s in _read(task, TEST_FILES[task]) for tag in s.tags if tag != "O"}
        assert {f"test/f1/{kind}" for kind in types} <= set(metrics), "one F1 per gold entity type"
    history = json.loads((run_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert all(math.isfinite(h["loss"]) for h in history)
    headline = "dev/accuracy" if task == "pos" else "dev/f1"
    assert metrics[f"{headline}"] == max(h[headline] for h in history)  # the best epoch's model is kept
    config = (run_dir / "config.yaml").read_text()
    assert "max_steps_per_epoch: 5" in config and "${" not in config, "config.yaml is resolved"
    vocab = json.loads((run_dir / "vocab.json").read_text())
    assert vocab["words"]["tokens"][:2] == ["<pad>", "<unk>"]
    assert f"| tensorflow\\_threads | {REPORTED_THREADS[task]} |" in (run_dir / "report.md").read_text()
    assert not [p for p in run_dir.rglob("*") if ".tmp" in p.name], "no temp files left behind"


@pytest.mark.parametrize("task", ["pos", "ner"])
def test_test_predictions_are_conlleval_input(recipe_runs, task):
    from framework.evaluation import conlleval

    blocks = _conll_blocks(recipe_runs[task]["predictions"])  # as training wrote it
    gold_sentences = _read(task, TEST_FILES[task])
    assert len(blocks) == len(gold_sentences)
    for block, sentence in zip(blocks, gold_sentences):
        assert all(len(fields) == 3 for fields in block), "word gold predicted"
        assert tuple(f[0] for f in block) == sentence.words
        assert tuple(f[1] for f in block) == sentence.tags, "gold tags in the corpus's own scheme"
    gold = [[f[1] for f in b] for b in blocks]
    pred = [[f[2] for f in b] for b in blocks]
    train_tags = {t for s in _read(task, TRAIN_FILES[task]) for t in s.tags}
    assert {t for p in pred for t in p} <= train_tags
    metrics = recipe_runs[task]["metrics"]
    correct = sum(g == p for gs, ps in zip(gold, pred) for g, p in zip(gs, ps))
    assert metrics["test/accuracy"] == pytest.approx(correct / sum(len(g) for g in gold))
    if task == "ner":
        assert metrics["test/f1"] == pytest.approx(conlleval.evaluate(gold, pred).f1)


class _ExampleWords(html.parser.HTMLParser):
    """The text of every ``<span class="w">`` (the words of the example sentences)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._in_word = False

    def handle_starttag(self, tag, attrs):
        self._in_word = tag == "span" and ("class", "w") in attrs
        if self._in_word:
            self.words.append("")

    def handle_endtag(self, tag):
        self._in_word = False

    def handle_data(self, data):
        if self._in_word:
            self.words[-1] += data


@pytest.mark.parametrize("task", ["pos", "ner"])
def test_report_has_metrics_plots_and_escaped_examples(recipe_runs, task):
    from framework.reporting.tagger_report import EXAMPLES, _pick_examples

    run_dir, metrics = recipe_runs[task]["run_dir"], recipe_runs[task]["metrics"]
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    headline = "accuracy" if task == "pos" else "f1"
    for text in (markdown, page):
        assert f"{metrics[f'test/{headline}']:.4f}" in text
        assert f"{metrics[f'dev/{headline}']:.4f}" in text
    assert "data:image/png;base64,iVBORw0KGgo" in page, "plots are embedded PNGs"
    assert "<script" not in page
    assert (run_dir / "plots" / "learning_curves.png").is_file()
    # the example sentences, parsed back out of the HTML, are exactly the words shown
    blocks = _conll_blocks(recipe_runs[task]["predictions"])
    examples = [([f[0] for f in b], [f[1] for f in b], [f[2] for f in b]) for b in blocks]
    shown = [word for words, _, _ in _pick_examples(examples, EXAMPLES) for word in words]
    parser = _ExampleWords()
    parser.feed(page)
    assert [w for w in parser.words if w != "word"] == shown  # "word" is the legend
    for word in shown:
        if any(c in word for c in "<>&"):
            assert html.escape(word) in page


@pytest.mark.parametrize("task", ["pos", "ner"])
def test_evaluate_recipe_reproduces_the_test_scores(recipe_runs, task):
    run = recipe_runs[task]
    after = json.loads((run["run_dir"] / "metrics.json").read_text())
    assert after["test/accuracy"] == run["metrics"]["test/accuracy"]  # exactly, not approximately
    if task == "ner":
        for key in ("test/f1", "test/precision", "test/recall"):
            assert after[key] == run["metrics"][key]
    assert after["status"] == "ok" and after["dev/accuracy"] == run["metrics"]["dev/accuracy"]
    assert f"test/accuracy\t{run['metrics']['test/accuracy']:.4f}" in run["evaluate_output"]
    assert (run["run_dir"] / "test.predictions.conll").read_text(encoding="utf-8") == run["predictions"]


def test_predict_recipe_tags_in_the_input_scheme(recipe_runs):
    task = "ner"
    run = recipe_runs[task]
    sentences = _read(task, TEST_FILES[task])
    assert f"tagged {len(sentences)} sentences" in run["predict_output"]
    tagged = _conll_blocks(run["tagged"])
    assert len(tagged) == len(sentences)
    for block, sentence in zip(tagged, sentences):
        assert all(len(fields) == 2 for fields in block), "word TAG"
        assert tuple(f[0] for f in block) == sentence.words
    train_tags = {t for s in _read(task, TRAIN_FILES[task]) for t in s.tags}
    predicted = [[f[1] for f in block] for block in tagged]
    assert {t for tags in predicted for t in tags} <= train_tags
    vocab = json.loads((run["run_dir"] / "vocab.json").read_text())
    assert (vocab["scheme"], vocab["train_scheme"]) == ("iob2", "iobes")
    assert not any(t[:2] in ("S-", "E-") for tags in predicted for t in tags), "IOB2, not the IOBES trained on"
    # the same tags as the test predictions written at training time (same model, same batches)
    expected = [[f[2] for f in block] for block in _conll_blocks(run["predictions"])]
    assert predicted == expected


def _serve_in_batches(export_dir: Path, sentences, features=None, batch: int = 64) -> list[list[str]]:
    """Tags from an exported SavedModel loaded from disk, for every sentence."""
    import tensorflow as tf

    from framework.export.tagger_export import serve_sentences

    served = tf.saved_model.load(str(export_dir))
    return serve_sentences(served.serve, sentences, features, batch_size=batch)


@pytest.mark.parametrize("task", ["pos", "ner"])
def test_an_exported_savedmodel_tags_raw_tokens_as_the_run_did(recipe_runs, task, tmp_path):
    """recipes/export.py (NER: chars, CRF, trained in IOBES, answers in the corpus's IOB2) and the
    function behind it (POS): the SavedModel's tags for the test words are the run's test predictions."""
    run = recipe_runs[task]
    output = tmp_path / "export"
    if task == "ner":
        result = run_as_user("export", f"run_dir={run['run_dir']}", f"output={output}")
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"-> {output}" in result.stdout
        again = run_as_user("export", f"run_dir={run['run_dir']}", f"output={output}")
        assert_user_error(again, f"error: output={output}: exists")
    else:
        from omegaconf import OmegaConf

        from framework.errors import DataError
        from framework.export import savedmodel, tagger_export

        # an export that does not tag the run's test words as the run did is refused, leaving nothing behind
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(savedmodel, "AGREEMENT_NEEDED", 1.01)
            with pytest.raises(DataError, match=r"test.predictions.conll: the exported model tags only \d+ of"):
                tagger_export.export_tagger(run["run_dir"], OmegaConf.create({"output": str(output)}))
        assert not list(tmp_path.iterdir())
        tagger_export.export_tagger(run["run_dir"], OmegaConf.create({"output": str(output)}))
    assert not [p.name for p in tmp_path.iterdir() if p.name != "export"], "no staging dir left behind"
    manifest = json.loads((output / "rnnseq_export.json").read_text())
    assert manifest["tag_scheme"] == ("iob2" if task == "ner" else "none") and list(manifest["inputs"]) == ["tokens"]
    sentences = [s.words for s in _read(task, TEST_FILES[task])]
    expected = [[f[2] for f in block] for block in _conll_blocks(run["predictions"])]
    assert _serve_in_batches(output, sentences) == expected
    if task == "pos":  # an empty string inside a sentence would mask a word out mid-sentence: refused
        import tensorflow as tf

        served = tf.saved_model.load(str(output))  # held: its functions need its variables
        with pytest.raises(tf.errors.InvalidArgumentError, match="padding must come after"):
            served.serve(tf.constant([["The", "", "cat"]]))
        signature = served.signatures["serving_default"]  # what TensorFlow Serving calls
        tokens = tf.constant([list(sentences[0]) + [""]])
        assert signature(tokens=tokens)["tags"].numpy().tolist() == served.serve(tokens)["tags"].numpy().tolist()


# A user's mistakes with a trained run: one error line, nothing written (the NER run above serves;
# tests/test_cli_errors.py has the mistakes that need no trained run).


def test_predict_with_a_missing_input(recipe_runs, tmp_path):
    output = tmp_path / "out.conll"
    result = run_as_user("predict", f"run_dir={recipe_runs['ner']['run_dir']}", "input=/nonexistent.txt",
                         f"output={output}")  # fmt: skip
    assert_user_error(result, "error: /nonexistent.txt:", "file not found")
    assert not output.exists()


def test_predict_into_a_directory_is_refused_before_any_work(recipe_runs, tmp_path):
    sentences = tmp_path / "in.txt"
    sentences.write_text("John lives in Berlin\n", encoding="utf-8")
    result = run_as_user("predict", f"run_dir={recipe_runs['ner']['run_dir']}", f"input={sentences}",
                         f"output={tmp_path}")  # fmt: skip
    assert_user_error(result, f"error: output={tmp_path}:", "is a directory")


def test_evaluate_a_bad_file_writes_nothing(recipe_runs, tmp_path):
    run_dir = recipe_runs["ner"]["run_dir"]
    before = (run_dir / "metrics.json").read_text()
    bad = tmp_path / "bad.conll"
    bad.write_text("Peter\tB-PER\nlives\tO\n\nAnna\tB-PER\nBerlin\tB-CITY\tx\n", encoding="utf-8")
    result = run_as_user("evaluate", f"run_dir={run_dir}", f"file={bad}")
    assert_user_error(result, f"error: {bad}:5:", "expected 2 columns")
    assert (run_dir / "metrics.json").read_text() == before


# --- in-process training on a few EWT sentences ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> dict[str, Path]:
    """The first sentences of the EWT slice: 48 train, 12 dev, 12 test."""
    root = tmp_path_factory.mktemp("corpus")
    files = {}
    for split, count in (("train", 48), ("dev", 12), ("test", 12)):
        blocks = (SAMPLES / "ud_en_ewt" / f"{split}.conllu").read_text(encoding="utf-8").split("\n\n")
        files[split] = root / f"{split}.conllu"
        files[split].write_text("\n\n".join(blocks[:count]) + "\n\n", encoding="utf-8")
    return files


def _config(corpus: dict[str, Path], *overrides: str):
    """The resolved train config, composed as recipes/train.py composes it."""
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                f"paths.root_dir={ROOT}",
                "~experiment",  # the experiment's model sizes would override the tiny model's
                "data=ud_en_ewt_sample",
                "model=tiny",
                # the smallest graph (tracing dominates a 2-step run); the recipe runs cover chars + CRF
                "model.head=softmax",
                "model.chars.kind=none",
                "model.rnn.bidirectional=false",
                *(f"data.{split}={path}" for split, path in corpus.items()),
                "trainer.epochs=1",
                "trainer.batch_size=8",
                "trainer.max_steps_per_epoch=2",
                "trainer.verbose=0",
                "callbacks.tensorboard=false",
                *overrides,
            ],
        )
    return plain_config(cfg)


@pytest.fixture
def no_report(monkeypatch):
    """Skip the report (plots take seconds); the recipe tests cover it."""
    import framework.reporting.tagger_report as tagger_report

    monkeypatch.setattr(tagger_report, "write_tagger_report", lambda *args, **kwargs: [])


def test_final_scores_come_from_the_best_epoch_not_the_last(tmp_path, tiny_corpus, monkeypatch, no_report):
    """Dev selection picks epoch 1 (a dev score that only falls); the test predictions written at the
    end must then be those of the saved best model, not of the weights the last epoch left."""
    from framework.data.corpus import load_tagging_corpus
    from framework.data.vocab import TaggerVocabs
    from framework.evaluation.tagger_eval import predict_tags
    from framework.models.precision import load_model
    from framework.training import tagger_run

    scores = iter([0.9, 0.5, 0.1])
    monkeypatch.setattr(tagger_run, "_dev_metrics", lambda *args: {"dev/accuracy": next(scores)})
    cfg = _config(tiny_corpus, "trainer.epochs=3", "optimizer.learning_rate=0.05")
    run_dir = tmp_path / "run"
    metrics = tagger_run.train_tagger(cfg, run_dir)
    assert metrics["best_epoch"] == 1 and metrics["epochs"] == 3

    corpus = load_tagging_corpus(cfg.data)
    vocabs = TaggerVocabs.load(run_dir / "vocab.json")
    best = predict_tags(load_model(run_dir / "model.keras"), vocabs, [s.words for s in corpus.test],
                        cfg.trainer.eval_batch_size)  # fmt: skip
    written = [[fields[2] for fields in block] for block in _conll_blocks(run_dir / "test.predictions.conll")]
    assert written == best  # POS tags: no scheme to convert


def _interrupt_after_first_epoch(cfg, run_dir: Path, monkeypatch) -> None:
    """Train ``cfg`` into ``run_dir`` and stop it (KeyboardInterrupt) right after epoch 1's backup."""
    from framework.training import checkpointing
    from framework.training.tagger_run import train_tagger

    original = checkpointing.DevSelection.on_epoch_end

    def interrupt(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpointing.DevSelection, "on_epoch_end", interrupt)
        with pytest.raises(KeyboardInterrupt):
            train_tagger(cfg, run_dir)


def test_resume_after_interruption(tmp_path, tiny_corpus, monkeypatch, no_report):
    from framework.training import checkpointing
    from framework.training.tagger_run import train_tagger

    cfg = _config(tiny_corpus, "trainer.epochs=3")
    run_dir = tmp_path / "run"
    _interrupt_after_first_epoch(cfg, run_dir, monkeypatch)

    state = json.loads((run_dir / "train_state.json").read_text())
    assert state["epoch"] == 1 and state["backup"] == "epoch-1.weights.h5"
    assert (run_dir / "model.keras").is_file() and not (run_dir / "metrics.json").exists()
    first_epoch = state["history"][0]

    restored = []
    original_restore = checkpointing.restore_backup

    def spy(model, directory, saved):
        epoch = original_restore(model, directory, saved)
        restored.append((epoch, int(model.optimizer.iterations.numpy())))
        return epoch

    monkeypatch.setattr(checkpointing, "restore_backup", spy)
    metrics = train_tagger(cfg, run_dir)

    assert restored == [(1, 2)], "weights and optimizer state (2 steps) restored after epoch 1"
    history = json.loads((run_dir / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[0] == first_epoch, "the interrupted run's epoch is kept, not retrained"
    assert json.loads((run_dir / "train_state.json").read_text())["epoch"] == 3
    assert [p.name for p in (run_dir / "backup").iterdir()] == ["epoch-3.weights.h5"]
    assert metrics["status"] == "ok" and metrics["epochs"] == 3
    assert metrics["train/wall_seconds"] > state["wall_seconds"] > first_epoch["train_seconds"], \
        "the wall-clock time counts the first process's time too"  # fmt: skip
    assert not [p for p in run_dir.rglob(".*") if ".tmp" in p.name], "no temp files anywhere"


def test_a_resumed_run_trains_the_epochs_an_uninterrupted_one_would(tmp_path, tiny_corpus, monkeypatch, no_report):
    """Interrupted after epoch 1 and resumed, the run's later epochs see the same batches (tf.data's
    seeded reshuffles) and dropout masks as an uninterrupted run's: the same losses and dev scores."""
    from framework.training.tagger_run import train_tagger

    cfg = _config(tiny_corpus, "trainer.epochs=2", "model.rnn.dropout=0.3")
    train_tagger(cfg, tmp_path / "straight")
    _interrupt_after_first_epoch(cfg, tmp_path / "resumed", monkeypatch)
    train_tagger(cfg, tmp_path / "resumed")

    def scores(name):
        history = json.loads((tmp_path / name / "history.json").read_text())
        return [(h["epoch"], h["loss"], h["dev/accuracy"]) for h in history]

    assert scores("resumed") == scores("straight")


def test_a_resumed_run_continues_the_dropout_random_streams(tmp_path, tiny_corpus, monkeypatch, no_report):
    """Weight files leave out the dropout layers' seed generators; the backup keeps their states,
    and a resumed run restores them rather than starting the masks from the seed again."""
    from framework.training import checkpointing
    from framework.training.tagger_run import train_tagger

    cfg = _config(tiny_corpus, "trainer.epochs=2", "model.rnn.dropout=0.3")
    original = checkpointing.DevSelection.on_epoch_end
    at_backup = []

    def interrupt_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        at_backup.append(checkpointing.seed_states(self.model))
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpointing.DevSelection, "on_epoch_end", interrupt_after_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_tagger(cfg, tmp_path / "run")
    monkeypatch.setattr(checkpointing.DevSelection, "on_epoch_end", original)
    saved = json.loads((tmp_path / "run" / "train_state.json").read_text())["seed_states"]
    assert saved == at_backup[0] and saved, "the states as training left them"
    restored = []
    original_restore = checkpointing.restore_backup

    def spy(model, directory, state):
        fresh = checkpointing.seed_states(model)
        epoch = original_restore(model, directory, state)
        restored.append((fresh, checkpointing.seed_states(model)))
        return epoch

    monkeypatch.setattr(checkpointing, "restore_backup", spy)
    train_tagger(cfg, tmp_path / "run")
    (fresh, after), = restored
    assert after == saved and fresh != saved  # a new process would start from the seed: restored instead


def test_same_seed_same_numbers_other_seed_other_loss(tmp_path, tiny_corpus, no_report):
    from framework.training.tagger_run import train_tagger

    results = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        run_dir = tmp_path / name
        metrics = train_tagger(_config(tiny_corpus, f"trainer.seed={seed}", "trainer.max_steps_per_epoch=1"), run_dir)
        history = json.loads((run_dir / "history.json").read_text())
        results[name] = (metrics["dev/accuracy"], history[0]["loss"])
    assert results["a"] == results["b"]
    assert results["c"][1] != results["a"][1]


def _train_through_cli(cfg, run_dir: Path, monkeypatch):
    """framework.cli.run_training, as recipes/train.py calls it, into ``run_dir``."""
    from framework import cli

    monkeypatch.setattr(cli, "hydra_run_dir", lambda: run_dir)
    return cli.run_training(cfg)


def test_nan_learning_rate_is_a_config_error(tmp_path, tiny_corpus, monkeypatch, capsys):
    from framework.training.tagger_run import train_tagger

    cfg = _config(tiny_corpus, "optimizer.learning_rate=nan")
    assert math.isnan(cfg.optimizer.learning_rate)
    with pytest.raises(ConfigError, match="optimizer.learning_rate must be a positive number, got nan"):
        train_tagger(cfg, tmp_path / "direct")
    # through the recipe's entry point: refused at start-up, one error line, exit status 2, nothing written
    run_dir = tmp_path / "cli"
    with pytest.raises(SystemExit) as info:
        _train_through_cli(cfg, run_dir, monkeypatch)
    assert info.value.code == 2
    assert "error: optimizer.learning_rate=nan: expected a positive number" in capsys.readouterr().err
    assert not run_dir.exists()


def test_diverging_run_records_failed_status(tmp_path, tiny_corpus, monkeypatch):
    from framework.models.tagger import SequenceTagger

    original = SequenceTagger.compute_loss

    def exploding_loss(self, *args, **kwargs):
        return original(self, *args, **kwargs) * float("nan")

    monkeypatch.setattr(SequenceTagger, "compute_loss", exploding_loss)
    run_dir = tmp_path / "run"
    with pytest.raises(FloatingPointError, match="training diverged"):
        _train_through_cli(_config(tiny_corpus, "trainer.epochs=2"), run_dir, monkeypatch)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "failed"
    assert metrics["error"].startswith("FloatingPointError: training diverged: loss is nan")
    assert "Traceback" in metrics["traceback"]
    # TerminateOnNaN stopped the run in its first epoch, whose weights are neither kept nor backed up
    assert not (run_dir / "train_state.json").exists() and not (run_dir / "model.keras").exists()


def test_a_diverged_epoch_is_not_backed_up_nor_kept(tmp_path, tiny_corpus, monkeypatch):
    """Epoch 1 trains, epoch 2 diverges: the run dir keeps epoch 1 (best model and backup), so a
    re-run resumes from it instead of loading NaN weights."""
    from keras import ops

    from framework.models.tagger import SequenceTagger
    from framework.training.tagger_run import train_tagger

    original = SequenceTagger.compute_loss

    def diverges_at_step_two(self, *args, **kwargs):  # one step an epoch: the second epoch's step
        loss = original(self, *args, **kwargs)
        return loss * ops.where(self.optimizer.iterations >= 1, float("nan"), 1.0)

    monkeypatch.setattr(SequenceTagger, "compute_loss", diverges_at_step_two)
    run_dir = tmp_path / "run"
    cfg = _config(tiny_corpus, "trainer.epochs=3", "trainer.max_steps_per_epoch=1")
    with pytest.raises(FloatingPointError, match="training diverged: loss is nan"):
        train_tagger(cfg, run_dir)
    state = json.loads((run_dir / "train_state.json").read_text())
    assert state["epoch"] == 1 and state["best_epoch"] == 1 and len(state["history"]) == 1
    assert state["backup"] == "epoch-1.weights.h5" and (run_dir / "model.keras").is_file()


def test_a_run_stopped_by_its_time_limit_trains_no_more_when_run_again(tmp_path, tiny_corpus, no_report):
    from framework.training.tagger_run import train_tagger

    run_dir = tmp_path / "run"
    cfg = _config(tiny_corpus, "trainer.epochs=5", "trainer.max_steps_per_epoch=1", "trainer.time_limit_minutes=1e-6")
    train_tagger(cfg, run_dir)
    assert len(json.loads((run_dir / "history.json").read_text())) == 1  # the first epoch crossed the limit
    train_tagger(cfg, run_dir)  # e.g. requeued after a crash in the test decoding
    assert len(json.loads((run_dir / "history.json").read_text())) == 1
    assert json.loads((run_dir / "train_state.json").read_text())["epoch"] == 1
    # a larger limit continues the run
    train_tagger(_config(tiny_corpus, "trainer.epochs=2", "trainer.max_steps_per_epoch=1"), run_dir)
    assert len(json.loads((run_dir / "history.json").read_text())) == 2


def test_predict_file_converts_iobes_predictions_to_iob2(recipe_runs, tmp_path, monkeypatch, caplog):
    """A barely trained model tags everything O, so feed predict_file IOBES tags to convert."""
    from framework import tagging_tasks

    run_dir = recipe_runs["ner"]["run_dir"]
    tags = set(json.loads((run_dir / "vocab.json").read_text())["tags"]["tokens"])
    kind = sorted(t[2:] for t in tags if t.startswith("S-") and {f"B-{t[2:]}", f"E-{t[2:]}"} <= tags)[0]
    iobes = [["O", f"S-{kind}", "O", f"B-{kind}", f"E-{kind}"], [f"B-{kind}", f"I-{kind}", f"E-{kind}"]]
    seen = []

    def fake_predict_tags(model, vocabs, sentences, batch_size, features=None):
        seen.append(vocabs.train_scheme)
        assert features is None, "a tagger without feature columns reads plain text"
        return [list(t) for t in iobes]

    def run_without_model(directory):
        from framework.data.vocab import TaggerVocabs
        from framework.run_loading import TrainedRun

        return TrainedRun(Path(directory), None, TaggerVocabs.load(Path(directory) / "vocab.json"), None)

    monkeypatch.setattr(tagging_tasks, "predict_tags", fake_predict_tags)
    monkeypatch.setattr(tagging_tasks, "load_run", run_without_model)  # loading the model takes seconds
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("Visit Paris with Ann Lee\n\n  New  York City \n", encoding="utf-8")  # blank line skipped
    with caplog.at_level("WARNING", logger="framework.tagging_tasks"):
        assert tagging_tasks.predict_file(str(run_dir), str(source), str(output)) == 2
    assert "1 blank line(s) skipped" in caplog.text
    assert seen == ["iobes"]
    assert output.read_text(encoding="utf-8") == (
        f"Visit O\nParis B-{kind}\nwith O\nAnn B-{kind}\nLee I-{kind}\n\n"
        f"New B-{kind}\nYork I-{kind}\nCity I-{kind}\n\n"
    )


def test_feature_columns_and_casing_train_and_predict_from_the_corpus_format(tmp_path, tiny_corpus, no_report):
    """XPOS (CoNLL-U column 4) and casing as inputs: saved vocabularies, a model that reads them,
    and predict reading CoNLL-U input (tags ignored) rather than plain text."""
    import keras

    from framework import tagging_tasks
    from framework.training.tagger_run import train_tagger

    cfg = _config(tiny_corpus, "data.feature_columns=[4]", "data.casing=true", "model.embedding.feature_dim=6",
                  "data.lowercase=true")  # fmt: skip
    run_dir = tmp_path / "run"
    metrics = train_tagger(cfg, run_dir)
    assert metrics["status"] == "ok"
    vocab = json.loads((run_dir / "vocab.json").read_text())
    xpos = {s_tag for s in read_conllu(tiny_corpus["train"], tag_field="xpos") for s_tag in s.tags}
    assert set(vocab["features"][0]["tokens"][2:]) == xpos and vocab["casing"] is True
    from framework.training.checkpointing import BEST_MODEL

    model = keras.models.load_model(run_dir / BEST_MODEL)
    assert [layer.name for layer in model.feature_embeddings] == ["feature_0", "feature_1"]
    assert model.feature_embeddings[1].input_dim == 9  # pad, unk and the 7 casing classes
    from omegaconf import OmegaConf

    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(cfg)), encoding="utf-8")  # as the CLI does
    output = tmp_path / "tagged.txt"
    count = tagging_tasks.predict_file(str(run_dir), str(tiny_corpus["test"]), str(output))
    test = read_conllu(tiny_corpus["test"])
    assert count == len(test)
    blocks = [block.split("\n") for block in output.read_text(encoding="utf-8").strip("\n").split("\n\n")]
    assert [tuple(line.split(" ")[0] for line in block) for block in blocks] == [s.words for s in test]
    expected = [line.split(" ")[2] for line in (run_dir / "test.predictions.conll").read_text().split("\n") if line]
    assert [line.split(" ")[1] for block in blocks for line in block] == expected
    # exported, the tagger reads the feature column as a string input and computes the casing classes itself
    from framework.export.tagger_export import export_tagger

    export_tagger(run_dir, OmegaConf.create({"output": None}))
    manifest = json.loads((run_dir / "export" / "rnnseq_export.json").read_text())
    assert sorted(manifest["inputs"]) == ["features", "tokens"] and manifest["casing"] and manifest["lowercase"]
    xpos = [s.features for s in read_conllu(tiny_corpus["test"], feature_columns=(4,))]
    served = _serve_in_batches(run_dir / "export", [s.words for s in test], features=xpos, batch=5)
    assert [tag for tags in served for tag in tags] == expected


def test_plain_text_given_to_a_tagger_that_reads_feature_columns_is_refused():
    """'Confidence in the pound .' read as columns is one token whose POS is 'in': refused, not
    tagged as one word with the other four dropped."""
    from framework.data.readers import Sentence
    from framework.data.vocab import Vocabulary
    from framework.errors import DataError
    from framework.tagging_tasks import check_feature_values

    pos = Vocabulary.build(["NN", "IN", "DT", "."])
    plain = [Sentence(("Confidence",), (), 3, features=(("in",),))]
    with pytest.raises(DataError, match=r"in.txt:3: feature column 1: 1 of 1 values never occurred in training "
                                        r"\('in'\)"):
        check_feature_values("in.txt", plain, (pos,), [1])
    columns = [Sentence(("Confidence", "in", "the", "pound", "."), (), 1, features=(("NN", "IN", "DT", "NN", "."),))]
    check_feature_values("in.txt", columns, (pos,), [1])
