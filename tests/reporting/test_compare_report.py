"""Comparing runs: metrics, config differences, per-label deltas, translator significance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.errors import DataError
from framework.reporting import compare_translation
from framework.reporting.compare_report import config_diff, load_run, per_label_f1, write_comparison


def make_run(path: Path, config: str, metrics: dict, predictions: str | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(config)
    (path / "metrics.json").write_text(json.dumps(metrics))
    if predictions is not None:
        (path / "test.predictions.conll").write_text(predictions)
    return path


TAGGER = "data: {{task: ner}}\nmodel: {{rnn: {{cell: {cell}, units: 16}}}}\n"
GOLD = [("John", "B-PER"), ("lives", "O"), ("in", "O"), ("Paris", "B-LOC")]


def conll(predicted: list[str]) -> str:
    return "".join(f"{w} {g} {p}\n" for (w, g), p in zip(GOLD, predicted)) + "\n"


def test_tagger_comparison(tmp_path):
    a = make_run(tmp_path / "a", TAGGER.format(cell="lstm"), {"status": "ok", "task": "ner", "test/f1": 0.5},
                 conll(["B-PER", "O", "O", "O"]))  # fmt: skip
    b = make_run(tmp_path / "b", TAGGER.format(cell="gru"), {"status": "ok", "task": "ner", "test/f1": 1.0},
                 conll(["B-PER", "O", "O", "B-LOC"]))  # fmt: skip
    md, page = write_comparison([a, b], tmp_path / "out")
    text = md.read_text()
    assert "| model.rnn.cell | lstm | gru |" in text
    assert "model.rnn.units" not in text  # equal keys are not listed
    assert "| test/f1 | 0.5 | 1 | 0.5 |" in text
    assert "| LOC | 0 | 1 | 1 |" in text and "| PER | 1 | 1 | 0 |" in text  # span F1 per type
    assert "<table>" in page.read_text()
    assert "## Warning" not in text  # same task, objective and test data


def test_runs_of_other_tasks_or_test_data_are_flagged_and_get_no_objective_delta(tmp_path):
    pos = make_run(tmp_path / "pos", "data: {task: pos, test: a.conllu}\n",
                   {"status": "ok", "task": "pos", "objective_name": "dev/accuracy", "objective": 0.9})  # fmt: skip
    ner = make_run(tmp_path / "ner", "data: {task: ner, test: b.conll}\n",
                   {"status": "ok", "task": "ner", "objective_name": "dev/f1", "objective": 0.4})  # fmt: skip
    md, _ = write_comparison([pos, ner], tmp_path / "out")
    text = md.read_text()
    assert "## Warning" in text and "different tasks (ner, pos)" in text and "different objectives" in text
    assert "tested on different data" in text
    assert "| objective | 0.9 | 0.4 |  |" in text  # no delta between accuracy and F1


def test_per_label_from_metrics_json_and_name_clashes(tmp_path):
    a = make_run(tmp_path / "x" / "run", "a: 1\n", {"test/f1/PER": 0.25})
    b = make_run(tmp_path / "y" / "run", "a: 2\n", {"test/f1/PER": 0.75})
    md, _ = write_comparison([a, b], tmp_path / "out")
    text = md.read_text()
    assert "x/run" in text and "y/run" in text and "| PER | 0.25 | 0.75 | 0.5 |" in text


def test_translator_comparison_has_bootstrap_and_differing_sentences(tmp_path):
    refs = ["the cat sat on the mat", "a dog runs in the park", "it is raining today", "we like green tea"] * 5
    good = list(refs)
    bad = ["the cat", "a dog runs in the park", "rain", "we like tea"] * 5
    runs = []
    for name, hyps in (("good", good), ("bad", bad)):
        run = make_run(tmp_path / name, "task: translation\n", {"status": "ok"})
        (run / "test.ref.txt").write_text("\n".join(refs) + "\n")
        (run / "test.hyp.txt").write_text("\n".join(hyps) + "\n")
        runs.append(run)
    md, _ = write_comparison(runs, tmp_path / "out", bootstrap=100, examples=2)
    text = md.read_text()
    assert "## Translation: paired bootstrap" in text and "| good | 100 |" in text and "baseline" in text
    assert "## Sentences where the systems differ most" in text
    assert text.count("| reference |") == 2 and "| BLEU bad |" in text


def test_errors(tmp_path):
    with pytest.raises(DataError, match="at least two"):
        write_comparison([tmp_path])
    with pytest.raises(DataError, match="no config.yaml"):
        load_run(tmp_path)


def test_config_diff_marks_missing_keys(tmp_path):
    a = load_run(make_run(tmp_path / "a", "x: 1\ny: 2\n", {}))
    b = load_run(make_run(tmp_path / "b", "x: 1\n", {}))
    assert config_diff([a, b]) == [["y", "2", "(not set)"]]


def test_compare_recipe(tmp_path):
    from cli_helpers import run_as_user

    a = make_run(tmp_path / "a", "x: 1\n", {"status": "ok", "test/accuracy": 0.5})
    b = make_run(tmp_path / "b", "x: 2\n", {"status": "ok", "test/accuracy": 0.6})
    result = run_as_user("compare", f"run_dirs=[{a},{b}]", f"output_dir={tmp_path / 'out'}", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| x | 1 | 2 |" in (tmp_path / "out" / "compare.md").read_text()


def translator_run(path: Path, refs: list[str], hyps: list[str]) -> Path:
    run = make_run(path, "task: translation\n", {"status": "ok"})
    (run / "test.ref.txt").write_text("".join(f"{line}\n" for line in refs), encoding="utf-8")
    (run / "test.hyp.txt").write_text("".join(f"{line}\n" for line in hyps), encoding="utf-8")
    return run


def test_translation_files_split_on_newline_only(tmp_path):
    refs = ["a line\u2028separator", "next\x85line", "form\x0cfeed", "group\x1dsep", "lone\rreturn"]
    a = translator_run(tmp_path / "a", refs, ["x"] * 5)
    b = translator_run(tmp_path / "b", refs, ["y"] * 5)
    (b / "test.hyp.txt").write_bytes(b"y\r\n" * 4 + b"y")  # CRLF, no final newline
    loaded, systems = compare_translation.load_systems([a, b], ["a", "b"])
    assert loaded == refs
    assert [hyps for _, hyps in systems] == [["x"] * 5, ["y"] * 5]
    assert compare_translation.read_lines(translator_run(tmp_path / "blank", ["r"] * 3, [""] * 3) / "test.hyp.txt") \
        == ["", "", ""]  # a model may translate every sentence to nothing


def test_translation_mismatches_say_what_is_wrong(tmp_path):
    refs = ["one", "two", "three"]
    base = translator_run(tmp_path / "base", refs, refs)
    other_refs = translator_run(tmp_path / "other", ["one", "2", "three"], refs)
    with pytest.raises(DataError, match=r"other/test\.ref\.txt:2: this reference differs from line 2 of .*base/"
                                        r"test\.ref\.txt; the runs must be tested on the same test sentences") as err:
        compare_translation.load_systems([base, other_refs], ["base", "other"])
    assert "hypotheses" not in str(err.value)
    fewer_refs = translator_run(tmp_path / "fewer", refs[:2], refs[:2])
    with pytest.raises(DataError, match=r"fewer/test\.ref\.txt: 2 references but .* has 3"):
        compare_translation.load_systems([base, fewer_refs], ["base", "fewer"])
    short = translator_run(tmp_path / "short", refs, refs[:2])
    with pytest.raises(DataError, match=r"short/test\.hyp\.txt: 2 hypotheses for the 3 references in "):
        compare_translation.load_systems([base, short], ["base", "short"])
    (short / "test.hyp.txt").write_bytes(b"one\ntw\xffo\nthree\n")
    with pytest.raises(DataError, match=r"short/test\.hyp\.txt:2: not UTF-8: byte 0xff at column 3"):
        compare_translation.load_systems([base, short], ["base", "short"])


def test_runs_named_like_the_sentence_fields_keep_every_field(tmp_path):
    refs = ["the cat sat on the mat", "a dog runs in the park"]
    first = translator_run(tmp_path / "reference", refs, ["the cat", "a dog runs in the park"])
    second = translator_run(tmp_path / "delta", refs, ["the cat sat on the mat", "a dog runs in the park"])
    md, _ = write_comparison([first, second], tmp_path / "out", bootstrap=10, examples=1)
    text = md.read_text()
    assert "| reference | the cat sat on the mat |" in text  # the reference is not overwritten by the run's text
    assert "| translation reference | the cat |" in text and "| translation delta | the cat sat on the mat |" in text
    assert "| BLEU reference |" in text and "| delta (BLEU delta - BLEU reference) |" in text
    header, rows = compare_translation.differing_sentences(refs, [("line", ["the cat"] * 2), ("line", refs)], 5)
    assert len(set(header)) == len(header) == len(rows[0]) and header[2:4] == ["translation line (1st)",
                                                                                "translation line (2nd)"]
    most = dict(zip(header, rows[0]))  # sentence 2: "the cat" against "a dog runs in the park"
    assert most["line"] == 2 and most["reference"] == refs[1] and most["translation line (1st)"] == "the cat"


@pytest.mark.parametrize("name,text,expected", [
    ("metrics.json", '{"status": "ok",\n "objective": }', r"metrics\.json:2: not valid JSON: Expecting value"),
    ("metrics.json", "[1, 2]", r"metrics\.json: expected a JSON object of metrics, found list"),
    ("config.yaml", "model:\n  rnn: [lstm\n", r"config\.yaml:3: not valid YAML: expected ',' or ']'"),
    ("config.yaml", "a: 1\na: 2\n", r"config\.yaml:2: not valid YAML: found duplicate key a"),
    ("config.yaml", "- a\n- b\n", r"config\.yaml: expected a YAML mapping of config keys, found a list"),
    ("config.yaml", "5\n", r"config\.yaml: expected a YAML mapping of config keys, found a single value"),
    ("config.yaml", "a: 1\nb: caf\udce9\n", r"config\.yaml:2: not UTF-8: byte 0xe9 at column 7"),
])  # fmt: skip
def test_bad_run_files_are_one_line_data_errors(tmp_path, name, text, expected):
    run = make_run(tmp_path / "run", "a: 1\n", {"status": "ok"})
    (run / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(DataError, match=expected) as err:
        load_run(run)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(run / name))


def test_unreadable_predictions_are_a_data_error(tmp_path):
    run = make_run(tmp_path / "run", TAGGER.format(cell="gru"), {"task": "ner"}, "")
    (run / "test.predictions.conll").write_bytes(b"John B-PER B-PER\nPar\xe9s B-LOC O\n\n")
    with pytest.raises(DataError, match=r"test\.predictions\.conll:2: not UTF-8: byte 0xe9 at column 4$"):
        per_label_f1(load_run(run))


def test_iobes_predictions_are_scored_as_chunks(tmp_path):
    """conlleval reads ``S-PER S-PER`` as one chunk; as IOBES it is two, and ``B-PER E-PER`` finds neither."""
    predictions = "John S-PER B-PER\nMary S-PER E-PER\nleft O O\n\nAnn S-LOC S-LOC\n\n"
    run = make_run(tmp_path / "run", TAGGER.format(cell="gru"), {"task": "ner"}, predictions)
    assert per_label_f1(load_run(run)) == {"PER": 0.0, "LOC": 1.0}
