"""Tests of the conlleval port: hand-counted cases, the text report, and real CoNLL data.

Every expected count below was worked out by hand from the perl script's
``startOfChunk`` / ``endOfChunk`` rules and then confirmed by running the perl script
(conlleval, version 2004-01-26) on the same input.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from framework.errors import DataError
from framework.evaluation.conlleval import (
    SpanScores,
    evaluate,
    format_conlleval,
    read_conlleval_file,
    sentence_span_counts,
    split_tag,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared CoNLL data not available")


def counts(scores: SpanScores) -> tuple[int, int, int]:
    """(gold, predicted, correct) phrases, the numbers on conlleval's first line."""
    return scores.gold_phrases, scores.predicted_phrases, scores.correct_phrases


def test_chunk_starting_with_i_counts_as_chunk():
    # pred O->I-PER starts a chunk, I->I continues it: PER over tokens 0-1, same span and
    # type as gold B-PER I-PER -> 1 gold, 1 predicted, 1 correct. Token 0 differs (I vs B).
    scores = evaluate([["B-PER", "I-PER", "O"]], [["I-PER", "I-PER", "O"]])
    assert counts(scores) == (1, 1, 1)
    assert scores.f1 == 1.0
    assert scores.accuracy == pytest.approx(2 / 3)


def test_iob1_gold():
    # IOB1 gold I-PER I-PER B-PER: B after I of the same type starts a second chunk,
    # so gold = PER[0-1], PER[2]. IOB2 pred B-PER I-PER B-PER has the same two chunks.
    scores = evaluate([["I-PER", "I-PER", "B-PER"]], [["B-PER", "I-PER", "B-PER"]])
    assert counts(scores) == (2, 2, 2)
    assert scores.accuracy == pytest.approx(2 / 3)
    # pred B-PER I-PER I-PER is one chunk PER[0-2], matching neither gold chunk.
    merged = evaluate([["I-PER", "I-PER", "B-PER"]], [["B-PER", "I-PER", "I-PER"]])
    assert counts(merged) == (2, 1, 0)
    assert (merged.precision, merged.recall, merged.f1) == (0.0, 0.0, 0.0)


def test_type_change_inside_chunk_starts_new_chunk():
    # pred B-PER I-LOC: the type change ends PER[0] and starts LOC[1]; gold is PER[0-1].
    # -> gold 1, predicted 2, correct 0; LOC only predicted, PER in both.
    scores = evaluate([["B-PER", "I-PER"]], [["B-PER", "I-LOC"]])
    assert counts(scores) == (1, 2, 0)
    assert scores.per_type["LOC"].gold == 0 and scores.per_type["LOC"].predicted == 1
    assert scores.per_type["PER"].gold == 1 and scores.per_type["PER"].correct == 0
    # The same sequence as gold holds two chunks and matches itself.
    assert counts(evaluate([["B-PER", "I-LOC"]], [["B-PER", "I-LOC"]])) == (2, 2, 2)


def test_e_tags_follow_ioe():
    # IOE2 gold I-NP E-NP E-NP: E->E ends and starts, so NP[0-1], NP[2]. Pred I-NP I-NP
    # E-NP is the single chunk NP[0-2] -> gold 2, predicted 1, correct 0.
    scores = evaluate([["I-NP", "E-NP", "E-NP"]], [["I-NP", "I-NP", "E-NP"]])
    assert counts(scores) == (2, 1, 0)
    assert scores.accuracy == pytest.approx(2 / 3)


def test_s_tags_have_no_rule_of_their_own():
    # The script has no S- rule: S-PER after O starts a chunk only through the type change
    # (''->PER), and S-PER S-PER (same type) continues it -> gold is ONE chunk PER[0-1];
    # pred B-PER B-PER is two. gold 1, predicted 2, correct 0; no tag is equal.
    scores = evaluate([["S-PER", "S-PER"]], [["B-PER", "B-PER"]])
    assert counts(scores) == (1, 2, 0)
    assert scores.accuracy == 0.0
    # Separated by O or a type change, S- chunks come out as expected: PER[0], LOC[2].
    separated = evaluate([["S-PER", "O", "S-LOC"]], [["B-PER", "O", "B-LOC"]])
    assert counts(separated) == (2, 2, 2)
    assert separated.accuracy == pytest.approx(1 / 3)  # only the O agrees


def test_all_o_sentences():
    # No chunk anywhere: conlleval prints 0% precision/recall/FB1 and 100% accuracy.
    scores = evaluate([["O", "O"], ["O"]], [["O", "O"], ["O"]])
    assert counts(scores) == (0, 0, 0)
    assert (scores.precision, scores.recall, scores.f1, scores.macro_f1) == (0, 0, 0, 0)
    assert scores.tokens == 3 and scores.accuracy == 1.0
    assert scores.per_type == {}


def test_empty_predictions_have_zero_precision():
    # Gold PER[0], LOC[2]; nothing predicted -> precision 0 (not a division error).
    scores = evaluate([["B-PER", "O", "B-LOC"]], [["O", "O", "O"]])
    assert counts(scores) == (2, 0, 0)
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)
    assert scores.per_type["PER"].predicted == 0 and scores.per_type["PER"].precision == 0.0
    assert scores.accuracy == pytest.approx(1 / 3)


def test_perfect_prediction():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    scores = evaluate(gold, gold)
    assert counts(scores) == (3, 3, 3)
    assert scores.f1 == 1.0 and scores.macro_f1 == 1.0 and scores.accuracy == 1.0
    assert set(scores.per_type) == {"LOC", "ORG", "PER"}


def test_chunks_never_cross_sentences():
    # The blank line between sentences ends PER[0], so the I-PER opening sentence 2 is a
    # new chunk: gold 2, pred (B-PER, B-PER) 2, correct 2.
    assert counts(evaluate([["B-PER"], ["I-PER"]], [["B-PER"], ["B-PER"]])) == (2, 2, 2)
    # In one sentence the same tags are one gold chunk PER[0-1] and nothing matches.
    assert counts(evaluate([["B-PER", "I-PER"]], [["B-PER", "B-PER"]])) == (1, 2, 0)


def test_macro_f1_averages_types_of_gold_and_predictions():
    # LOC: gold 1, pred 0 -> F1 0. ORG: gold 1, pred 2 (both B-ORG), correct 1 ->
    # P 1/2, R 1, F1 2/3. PER: correct -> 1. MISC: gold MISC[2-3], pred MISC[2] -> 0.
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-MISC", "O"]]
    scores = evaluate(gold, pred)
    assert counts(scores) == (4, 4, 2)
    assert scores.per_type["ORG"].f1 == pytest.approx(2 / 3)
    assert scores.macro_f1 == pytest.approx((0 + 0 + 2 / 3 + 1) / 4)
    assert scores.f1 == pytest.approx(0.5)


def test_dot_tags_continue_chunks_even_past_the_sentence_end():
    # Tag "." neither starts nor ends a chunk, not even at the blank line, so A[0-2] is
    # still open when the input ends and the end-of-input check counts it as correct.
    # Perl charges that chunk to the type of the last line read (the blank line, type
    # ''), so the overall line says correct 1 while the A line says 0% (perl output).
    same = evaluate([["B-A", ".-A", ".-A"]], [["B-A", ".-A", ".-A"]])
    assert counts(same) == (1, 1, 1)
    assert same.f1 == 1.0 and same.per_type["A"].correct == 0
    assert format_conlleval(same).splitlines()[2] == (
        "                A: precision:   0.00%; recall:   0.00%; FB1:   0.00  1"
    )
    # A type mismatch inside the open chunk (.-B vs .-A) spoils it: correct 0 (perl).
    spoiled = evaluate([["B-A", ".-A", ".-B", ".-A"]], [["B-A", ".-A", ".-A", ".-A"]])
    assert counts(spoiled) == (1, 1, 0)
    assert spoiled.accuracy == 0.75


def test_split_tag_matches_perl_regex():
    assert split_tag("B-ORG-DERIV") == ("B", "ORG-DERIV")  # split at the first hyphen
    assert split_tag("O") == ("O", "")
    assert split_tag("B") == ("B", "")
    assert split_tag("B-0") == ("B", "")  # perl reads the type "0" as false -> ''


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="sentences"):
        evaluate([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 1"):
        evaluate([["O"], ["O", "O"]], [["O"], ["O"]])


def test_sentence_counts_sum_to_totals():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"], []]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-MISC", "O"], []]
    rows = sentence_span_counts(gold, pred)
    # sentence 1: 4 tokens, 3 equal, gold PER+LOC, pred PER+ORG, correct PER.
    assert rows.tolist() == [[4, 3, 2, 2, 1], [4, 3, 2, 2, 1], [0, 0, 0, 0, 0]]
    scores = evaluate(gold, pred)
    assert rows.sum(axis=0).tolist() == [8, 6, 4, 4, 2]
    assert (scores.tokens, scores.correct_tokens) == (8, 6)


# The perl script's output on the fixture of test_macro_f1_averages_types_of_gold_and_predictions.
FIXTURE_PERL = """\
processed 8 tokens with 4 phrases; found: 4 phrases; correct: 2.
accuracy:  75.00%; precision:  50.00%; recall:  50.00%; FB1:  50.00
              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
             MISC: precision:   0.00%; recall:   0.00%; FB1:   0.00  1
              ORG: precision:  50.00%; recall: 100.00%; FB1:  66.67  2
              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1
"""

OVERALL = re.compile(
    r"processed (\d+) tokens with (\d+) phrases; found: (\d+) phrases; correct: (\d+)\.\n"
    r"accuracy: +([\d.]+)%; precision: +([\d.]+)%; recall: +([\d.]+)%; FB1: +([\d.]+)\n"
)
TYPE_LINE = re.compile(
    r" *(\S*): precision: +([\d.]+)%; recall: +([\d.]+)%; FB1: +([\d.]+)  (\d+)$", re.M
)


def test_format_parses_back_to_scores():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-MISC", "O"]]
    scores = evaluate(gold, pred)
    text = format_conlleval(scores)
    assert text == FIXTURE_PERL
    overall = OVERALL.match(text)
    assert overall is not None
    assert [int(x) for x in overall.groups()[:4]] == [8, 4, 4, 2]
    parsed = [float(x) for x in overall.groups()[4:]]
    expected = [scores.accuracy, scores.precision, scores.recall, scores.f1]
    assert parsed == [round(100 * x, 2) for x in expected]
    per_type = {m[1]: m for m in TYPE_LINE.finditer(text)}
    assert list(per_type) == ["LOC", "MISC", "ORG", "PER"]
    for name, match in per_type.items():
        type_scores = scores.per_type[name]
        assert float(match[4]) == round(100 * type_scores.f1, 2)
        assert int(match[5]) == type_scores.predicted


def test_format_quirks_of_the_script():
    # No tokens: only the first line. Untyped chunks (B I O): the type '' is printed once
    # per hash that holds it, i.e. twice when it is both in gold and predicted.
    assert format_conlleval(evaluate([], [])) == (
        "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n"
    )
    text = format_conlleval(evaluate([["B", "I", "O"]], [["B", "I", "O"]]))
    line = " " * 17 + ": precision: 100.00%; recall: 100.00%; FB1: 100.00  1"
    assert text.splitlines()[2:] == [line, line]


def test_read_conlleval_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text(
        "-DOCSTART- -X- O O\n\n"
        "John NNP B-PER B-PER\nlives VBZ O O\n\n\n"
        "Paris NNP B-LOC I-LOC\n-X- -X- O O\n"
        "in IN O B-ORG\n",
        encoding="utf-8",
    )
    gold, pred = read_conlleval_file(path)
    # DOCSTART skipped, repeated blank lines collapse, -X- ends a sentence, no final blank.
    assert gold == [["B-PER", "O"], ["B-LOC"], ["O"]]
    assert pred == [["B-PER", "O"], ["I-LOC"], ["B-ORG"]]


def test_read_conlleval_file_rejects_ragged_lines(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a B-PER B-PER\nb O\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:2: expected 3 fields, found 2"):
        read_conlleval_file(path)
    path.write_text("B-PER\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":1: expected at least 2 fields"):
        read_conlleval_file(path)


def test_read_conlleval_file_reads_as_every_reader_does(tmp_path):
    """A BOM before -DOCSTART-, CR line ends, and one-line errors for a missing or non-UTF-8 file."""
    path = tmp_path / "out.txt"
    path.write_bytes("\ufeff-DOCSTART- O O\r\rEU B-ORG B-ORG\rrejects O O\r".encode("utf-8"))
    assert read_conlleval_file(path) == ([["B-ORG", "O"]], [["B-ORG", "O"]])
    path.write_bytes(b"a O O\n\xff O O\n")
    with pytest.raises(DataError, match=r"out\.txt:2: not UTF-8: byte 0xff at column 1"):
        read_conlleval_file(path)
    with pytest.raises(DataError, match="nope.txt: file not found"):
        read_conlleval_file(tmp_path / "nope.txt")


def load_column(path: Path, column: int) -> list[list[str]]:
    """One column of a CoNLL file as sentences, skipping -DOCSTART- lines."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and fields[0] == "-DOCSTART-":
            continue
        if fields:
            current.append(fields[column])
        elif current:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def corrupt(sentences: list[list[str]], fill: str, alt: str) -> list[list[str]]:
    """A deterministic corruption hitting the tricky transitions, k = global token index.

    k % 7 == 0: O -> I-fill (chunk opened by I-), B-T -> I-T (may merge with the previous
    chunk), I-T -> B-T (splits a chunk). k % 14 == 10: a chunk tag changes type to ``alt``
    (or ``fill`` when it already is ``alt``), a type change inside a chunk.
    """
    out, k = [], 0
    for sentence in sentences:
        new = []
        for tag in sentence:
            if k % 7 == 0:
                if tag == "O":
                    tag = "I-" + fill
                elif tag.startswith("B-"):
                    tag = "I-" + tag[2:]
                else:
                    tag = "B-" + tag[2:]
            elif k % 14 == 10 and tag != "O":
                tag = tag[:2] + (fill if tag[2:] == alt else alt)
            new.append(tag)
            k += 1
        out.append(new)
    return out


@needs_data
def test_gold_vs_gold_conll2003_testb():
    gold = load_column(DATA / "conll2003" / "eng.testb", 3)
    scores = evaluate(gold, gold)
    assert scores.tokens == 46435 and scores.gold_phrases == 5648
    assert scores.f1 == 1.0 and scores.accuracy == 1.0
    assert {t: s.gold for t, s in scores.per_type.items()} == {
        "LOC": 1668, "MISC": 702, "ORG": 1661, "PER": 1617,
    }


# Output of the perl conlleval on `word gold corrupt(gold, "MISC", "PER")` lines built from
# conll2003/eng.testb (NER column, no -DOCSTART- lines, a blank line after each sentence).
TESTB_CORRUPT_PERL = """\
processed 46435 tokens with 5648 phrases; found: 11740 phrases; correct: 4677.
accuracy:  84.49%; precision:  39.84%; recall:  82.81%; FB1:  53.80
              LOC: precision:  93.45%; recall:  89.75%; FB1:  91.56  1602
             MISC: precision:   8.44%; recall:  75.78%; FB1:  15.19  6302
              ORG: precision:  79.37%; recall:  82.00%; FB1:  80.66  1716
              PER: precision:  60.66%; recall:  79.53%; FB1:  68.83  2120
"""


@needs_data
def test_matches_perl_on_corrupted_conll2003_testb():
    gold = load_column(DATA / "conll2003" / "eng.testb", 3)
    scores = evaluate(gold, corrupt(gold, "MISC", "PER"))
    assert counts(scores) == (5648, 11740, 4677)
    assert round(100 * scores.precision, 2) == 39.84
    assert round(100 * scores.recall, 2) == 82.81
    assert round(100 * scores.f1, 2) == 53.80
    assert round(100 * scores.accuracy, 2) == 84.49
    assert format_conlleval(scores) == TESTB_CORRUPT_PERL


@needs_data
def test_matches_perl_on_iob1_gold():
    # Original IOB1 tags as gold against the IOB2 copy as predictions: the same chunks
    # (perl: FB1 100.00) although 12% of the tags differ (perl: accuracy 87.88%).
    gold = load_column(DATA / "conll2003_original" / "eng.testb", 3)
    pred = load_column(DATA / "conll2003" / "eng.testb", 3)
    scores = evaluate(gold, pred)
    assert counts(scores) == (5648, 5648, 5648)
    assert round(100 * scores.accuracy, 2) == 87.88
    # Perl on the corrupted IOB1 tags: found 11655, correct 4594, FB1 53.10.
    corrupted = evaluate(gold, corrupt(gold, "MISC", "PER"))
    assert counts(corrupted) == (5648, 11655, 4594)
    assert round(100 * corrupted.f1, 2) == 53.10


@needs_data
def test_matches_perl_on_corrupted_conll2000_chunks():
    # Perl: processed 47377 tokens with 23852 phrases; found: 28906 phrases; correct:
    # 17638. accuracy 79.51%; precision 61.02%; recall 73.95%; FB1 66.86; NP 55.62 15264.
    gold = load_column(DATA / "conll2000" / "test.txt", 2)
    scores = evaluate(gold, corrupt(gold, "NP", "VP"))
    assert scores.tokens == 47377
    assert counts(scores) == (23852, 28906, 17638)
    assert [round(100 * x, 2) for x in (scores.accuracy, scores.precision, scores.recall)] == [
        79.51, 61.02, 73.95,
    ]
    assert round(100 * scores.f1, 2) == 66.86
    assert round(100 * scores.per_type["NP"].f1, 2) == 55.62
    assert scores.per_type["NP"].predicted == 15264
