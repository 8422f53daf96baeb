"""End-to-end test of the translation recipes on the shipped Multi30k slice.

The recipes run as subprocesses, as a user runs them, with a tiny model and three steps per
epoch, so the module trains once (under a minute on a CPU) and then evaluates and predicts from
that run dir with beam search. The BLEU of such a model is near zero; what is checked is that
every file, key and signature is there and that the numbers can be reproduced from the files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cli_helpers import run_as_user, run_command_as_user

ROOT = Path(__file__).resolve().parents[2]
TINY = ("experiment=mt_sample", "model.embedding_dim=16", "model.rnn.units=16", "data.vocab_size=500",
        "data.dev_max_sentences=20", "trainer.epochs=2", "trainer.max_steps_per_epoch=3",
        "callbacks.tensorboard=false")  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("mt") / "run"
    result = run_as_user("train", *TINY, "decode.beam_size=3", f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stderr[-3000:]
    return run


def test_run_dir_holds_every_artifact(run_dir):
    for name in ("config.yaml", "subwords.json", "joint.spm.model", "model.keras", "train_state.json",
                 "history.json", "metrics.json", "test.src.txt", "test.ref.txt", "test.hyp.txt", "report.md",
                 "report.html", "plots/learning_curves.png", "plots/attention_1.png"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    src = (run_dir / "test.src.txt").read_text(encoding="utf-8").splitlines()
    ref = (run_dir / "test.ref.txt").read_text(encoding="utf-8").splitlines()
    hyp = (run_dir / "test.hyp.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(src) == len(ref) == len(hyp) == 200
    assert src == (ROOT / "samples/multi30k/test.en").read_text(encoding="utf-8").splitlines()  # raw source
    assert ref == (ROOT / "samples/multi30k/test.de").read_text(encoding="utf-8").splitlines()  # raw reference


def test_metrics_keys_and_signatures_reproduce_from_the_files(run_dir):
    from sacrebleu.metrics import BLEU, CHRF

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["task"] == "translation"
    assert metrics["objective_direction"] == "maximize" and metrics["objective_name"] == "dev/bleu"
    assert metrics["objective"] == pytest.approx(metrics["dev/bleu"])  # the reloaded best model scores it again
    for key in ("dev/bleu", "test/bleu", "test/chrf", "test/ter", "test/bleu_ci_low", "test/bleu_ci_high",
                "train/seconds", "train/tokens_per_second", "test/sentences_per_second", "test/words_per_second"):
        assert isinstance(metrics[key], float) and metrics[key] >= 0.0, key
    assert metrics["test/bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.")
    assert metrics["test/chrf_signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.")
    assert "tok:tercom" in metrics["test/ter_signature"]
    assert metrics["test/decode"].startswith("beam 3") and metrics["dev/decode"].startswith("greedy")
    assert metrics["dev/sentences"] == 20 and metrics["train/pairs"] + metrics["train/pairs_too_long"] == 3000
    hyp = (run_dir / "test.hyp.txt").read_text(encoding="utf-8").split("\n")[:-1]
    ref = (run_dir / "test.ref.txt").read_text(encoding="utf-8").splitlines()
    assert BLEU().corpus_score(hyp, [ref]).score == pytest.approx(metrics["test/bleu"])
    assert CHRF().corpus_score(hyp, [ref]).score == pytest.approx(metrics["test/chrf"])


def test_report_sections(run_dir):
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    for section in ("## Metrics", "sacrebleu signature", "## Sample translations (test)", "## Attention",
                    "## Lengths (test)", "## Learning curves", "## Run time and speed", "rnn kernel: "):  # fmt: skip
        assert section in report, section
    assert "<script" not in (run_dir / "report.html").read_text(encoding="utf-8")


def test_evaluate_recipe_redecodes_with_overridden_beam(run_dir):
    before = json.loads((run_dir / "metrics.json").read_text())
    trained_hyp = (run_dir / "test.hyp.txt").read_text(encoding="utf-8")
    result = run_as_user("evaluate", f"run_dir={run_dir}", "split=test", "decode.beam_size=2",
                         "decode.length_penalty=0.6")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    name = "test-beam2-lp0.6"  # every setting off the default is in the name
    assert f"{name}/bleu\t" in result.stdout and f"{name}/bleu_signature\tnrefs:1" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics[f"{name}/decode"].startswith("beam 2 (length penalty 0.6")  # the run's search, overridden
    hyp = (run_dir / f"{name}.hyp.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(hyp) == 200
    # the run's own test results (its configured search) stay as training wrote them
    assert {k: metrics[k] for k in before} == before
    assert (run_dir / "test.hyp.txt").read_text(encoding="utf-8") == trained_hyp


def test_translation_speed_script_reads_back_each_searchs_own_scores(run_dir, tmp_path):
    """scripts/measure_translation_speed.sh: the greedy line quotes the greedy decode, the beam-5
    line the beam-5 one (evaluate.py files them under test-greedy/ and test-beam5/ here)."""
    import shutil

    run = shutil.copytree(run_dir, tmp_path / "run")
    result = run_command_as_user(["bash", str(ROOT / "scripts" / "measure_translation_speed.sh"), str(run)])
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(lines) == 2, result.stdout
    for line, name in zip(lines, ("test-greedy", "test-beam5")):
        assert f"[{name}] BLEU {metrics[f'{name}/bleu']:.2f} " in line, (line, name)
        assert f"{metrics[f'{name}/sentences_per_second']:.1f} sentences/s" in line, (line, name)
    assert metrics["test-greedy/decode"].startswith("greedy") and metrics["test-beam5/decode"].startswith("beam 5")


def _decoding_script_lines(script: str, run_dir: Path, sentences: int) -> list[str]:
    """What a decoding-speed script prints for the run's first ``sentences`` test sentences, one round."""
    command = [sys.executable, f"scripts/{script}", str(run_dir), "--rounds", "1", "--sentences", str(sentences),
               "--batch-size", "4"]  # fmt: skip
    result = run_command_as_user(command)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"{sentences} test sentences of "), result.stdout
    return lines


def test_attention_projection_script_times_both_scores_and_compares_outputs(run_dir):
    """scripts/measure_attention_projection.py: the score before and the shipped one give the same outputs."""
    lines = _decoding_script_lines("measure_attention_projection.py", run_dir, 8)
    assert len(lines) == 7, lines
    for search in ("beam 5", "greedy"):
        assert f"{search:<7} identical outputs: True" in lines, lines
        assert sum(line.startswith(search) and "sentences/s" in line for line in lines) == 2, lines


def test_beam_pruning_script_times_both_and_compares_outputs(run_dir):
    """scripts/measure_beam_pruning.py: beam search with and without pruning gives the same outputs."""
    lines = _decoding_script_lines("measure_beam_pruning.py", run_dir, 12)
    assert len(lines) == 4, lines
    assert lines[1].startswith("every beam to the end") and lines[2].startswith("pruned at 0.25 (shipped)"), lines
    assert all("sentences/s" in line for line in lines[1:3]) and lines[3] == "same best output: 12 of 12", lines


def test_evaluate_recipe_scores_another_tsv_file(run_dir, tmp_path):
    pairs = tmp_path / "extra.tsv"
    pairs.write_text("A dog runs.\tEin Hund rennt.\nTwo cats sleep.\tZwei Katzen schlafen.\n", encoding="utf-8")
    result = run_as_user("evaluate", f"run_dir={run_dir}", f"file={pairs}")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["file-extra/sentences"] == 2 and metrics["file-extra/decode"].startswith("beam 3")
    assert metrics["file-extra/file"] == str(pairs.resolve())
    assert (run_dir / "file-extra.ref.txt").read_text(encoding="utf-8") == "Ein Hund rennt.\nZwei Katzen schlafen.\n"
    # another search than the run's is named apart, as on the run's own splits
    result = run_as_user("evaluate", f"run_dir={run_dir}", f"file={pairs}", "decode.strategy=greedy")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["file-extra-greedy/decode"].startswith("greedy") and metrics["file-extra/decode"].startswith("beam")


def test_predict_recipe_writes_translations_and_nbest_lists(run_dir, tmp_path):
    source = tmp_path / "src.txt"
    source.write_text("A man is running.\n\nTwo dogs play in the snow.\n", encoding="utf-8")
    output = tmp_path / "hyp.txt"
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={source}", f"output={output}",
                         "decode.strategy=beam", "decode.beam_size=5")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "translated 3/3 lines" in result.stdout + result.stderr
    lines = output.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""  # one line per input line, the blank one blank
    nbest = tmp_path / "nbest.txt"
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={source}", f"output={nbest}",
                         "decode.strategy=beam", "decode.beam_size=3", "decode.nbest=3")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(" ||| ") for line in nbest.read_text(encoding="utf-8").splitlines()]
    assert [row[0] for row in rows] == ["0", "0", "0", "1", "2", "2", "2"]
    for index in ("0", "2"):
        scores = [float(row[2]) for row in rows if row[0] == index]
        assert scores == sorted(scores, reverse=True)


def test_predict_reports_bad_input_and_settings_in_one_line(run_dir, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nnot \xe9 utf8\n")
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={bad}", f"output={tmp_path / 'out.txt'}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: {bad}:2: not UTF-8: byte 0xe9 at column 5"
    assert not (tmp_path / "out.txt").exists()
    good = tmp_path / "good.txt"
    good.write_text("A man is running.\n", encoding="utf-8")
    result = run_as_user("predict", f"run_dir={run_dir}", f"input={good}", f"output={tmp_path / 'out.txt'}",
                         "decode.strategy=greedy", "decode.nbest=2")  # fmt: skip
    assert result.returncode == 2 and "decode.nbest=2 needs decode.strategy=beam" in result.stderr


def test_input_feeding_is_refused_before_training(tmp_path):
    result = run_as_user("train", *TINY, "model.input_feeding=true", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: model.input_feeding=true makes the decoder step-wise") and "cuDNN" in line


def test_input_feeding_trains_with_the_opt_out(tmp_path):
    run_dir = tmp_path / "run"
    result = run_as_user("train", *TINY, "model.input_feeding=true", "model.rnn.allow_non_cudnn=true",
                         "trainer.epochs=1", "decode.strategy=greedy", f"hydra.run.dir={run_dir}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "test/bleu" in metrics
    assert "one step at a time" in (run_dir / "train.log").read_text()
