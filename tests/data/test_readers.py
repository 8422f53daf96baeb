"""Tests for framework.data.readers: happy paths, one test per bad-input case, real corpus counts."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from framework.data.readers import (Sentence, read_columns, read_conllu, read_tokens_and_blank_lines,
                                     write_columns)
from framework.data.tagschemes import convert, spans
from framework.errors import ConfigError, DataError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="real corpora not present")


def _file(tmp_path: Path, text: str | bytes, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _conllu_line(ident: str, form: str, upos: str = "NOUN", xpos: str = "NN", columns: int = 10) -> str:
    fields = [ident, form, form.lower(), upos, xpos, "_", "0", "root", "_", "_"]
    return "\t".join(fields[:columns])


def _raises(call, path: Path, line: int | None, message: str) -> None:
    """Assert a DataError whose one-line text names exactly this file, line and message."""
    with pytest.raises(DataError) as info:
        call()
    where = str(path) if line is None else f"{path}:{line}"
    assert str(info.value) == f"{where}: {message}"
    assert info.value.line == line


CONLLU = "\n".join([
    "# sent_id = 1",
    "# text = Don't go.",
    _conllu_line("1-2", "Don't", "_", "_"),
    _conllu_line("1", "Do", "AUX", "VBP"),
    _conllu_line("2", "n't", "PART", "RB"),
    _conllu_line("3", "go", "VERB", "VB"),
    _conllu_line("3.1", "went", "VERB", "VBD"),
    _conllu_line("4", ".", "PUNCT", "."),
    "",
    "# sent_id = 2",
    _conllu_line("1", "_", "PUNCT", "NFP"),  # a literal underscore word, as in EWT
    _conllu_line("2", "Hi", "INTJ", "UH"),
])  # no final blank line: the last sentence must still be read


# --- CoNLL-U -------------------------------------------------------------------------------------


def test_read_conllu_skips_comments_ranges_and_empty_nodes(tmp_path):
    path = _file(tmp_path, CONLLU)
    assert read_conllu(path) == [
        Sentence(("Do", "n't", "go", "."), ("AUX", "PART", "VERB", "PUNCT"), 4),
        Sentence(("_", "Hi"), ("PUNCT", "INTJ"), 11),
    ]
    assert [s.tags for s in read_conllu(path, "xpos")] == [("VBP", "RB", "VB", "."), ("NFP", "UH")]


def test_read_conllu_tolerates_crlf_bom_and_extra_blank_lines(tmp_path):
    text = "\ufeff\n\n" + CONLLU.replace("\n\n", "\n\n\n") + "\n\n"
    crlf = _file(tmp_path, text.replace("\n", "\r\n"))
    sentences = read_conllu(crlf)
    assert [s.words for s in sentences] == [("Do", "n't", "go", "."), ("_", "Hi")]
    assert [s.line for s in sentences] == [6, 14]


def test_read_conllu_rejects_unknown_tag_field(tmp_path):
    with pytest.raises(ValueError, match="tag_field 'lemma'"):
        read_conllu(_file(tmp_path, CONLLU), "lemma")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (_conllu_line("1", "Hi", columns=9), "expected 10 tab-separated columns (CoNLL-U), found 9"),
        (_conllu_line("1", "Hi").replace("\t", " ", 1), "expected 10 tab-separated columns (CoNLL-U), found 9"),
        (_conllu_line("one", "Hi"),
         "expected an integer word ID in column 1 (or a range like 1-2 or 8.1), found 'one'"),
        (_conllu_line("1-", "Hi"),
         "expected an integer word ID in column 1 (or a range like 1-2 or 8.1), found '1-'"),
        (_conllu_line("3", "Hi"), "expected word ID 2, found 3"),
        (_conllu_line("1", "Hi"), "expected word ID 2, found 1 (missing blank line before a new sentence?)"),
        (_conllu_line("2", ""), "expected a word in column 2, found an empty field"),
        (_conllu_line("2", "Hi", upos="_"), "expected a UPOS tag in column 4, found '_'"),
        (_conllu_line("2", "Hi", upos=""), "expected a UPOS tag in column 4, found ''"),
    ],
)
def test_read_conllu_bad_lines(tmp_path, line, message):
    path = _file(tmp_path, "# c\n" + _conllu_line("1", "Ok") + "\n" + line + "\n\n", "bad.conllu")
    _raises(lambda: read_conllu(path), path, 3, message)


def test_read_conllu_checks_only_the_chosen_tag_field(tmp_path):
    path = _file(tmp_path, _conllu_line("1", "Hi", upos="_", xpos="UH") + "\n", "x.conllu")
    assert read_conllu(path, "xpos") == [Sentence(("Hi",), ("UH",), 1)]
    _raises(lambda: read_conllu(path), path, 1, "expected a UPOS tag in column 4, found '_'")
    no_xpos = _file(tmp_path, _conllu_line("1", "Hi", xpos="_") + "\n", "y.conllu")
    _raises(lambda: read_conllu(no_xpos, "xpos"), no_xpos, 1, "expected an XPOS tag in column 5, found '_'")


def test_read_conllu_checks_tags_against_a_scheme_at_their_line(tmp_path):
    """A multiword range and a comment inside the sentence: the error names the tag's own line."""
    lines = [_conllu_line("1", "Ann", "B-PER"), "# note", _conllu_line("2-3", "Bob's", "_"),
             _conllu_line("2", "Bob", "I-PER"), _conllu_line("3", "'s", "S-PER")]  # fmt: skip
    path = _file(tmp_path, "\n".join(lines) + "\n", "ner.conllu")
    assert [s.tags for s in read_conllu(path, scheme="iobes")] == [("B-PER", "I-PER", "S-PER")]
    assert [s.tags for s in read_conllu(path)] == [("B-PER", "I-PER", "S-PER")]  # "none" accepts any tag
    expected = "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'S-PER'"
    _raises(lambda: read_conllu(path, scheme="iob2"), path, 5, expected)
    assert read_conllu(path, tag_field=None, scheme="iob2")[0].tags == ()  # unlabeled input has no tags to check
    with pytest.raises(ValueError, match="unknown tag scheme 'bio'"):
        read_conllu(path, scheme="bio")


# --- file-level problems, shared by every reader -------------------------------------------------

READERS = {
    "conllu": read_conllu,
    "columns": read_columns,
    "tokens": read_tokens_and_blank_lines,
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_missing_file_and_directory(tmp_path, reader):
    missing = tmp_path / "nope.txt"
    _raises(lambda: reader(missing), missing, None, "file not found")
    _raises(lambda: reader(tmp_path), tmp_path, None, "file not found: this is a directory")


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize("text", ["", "\n\n", " \t\r\n"])
def test_empty_file(tmp_path, reader, text):
    path = _file(tmp_path, text)
    with pytest.raises(DataError) as info:
        reader(path)
    assert str(info.value).startswith(f"{path}: file is empty: expected ")
    assert "sentences" in str(info.value) and info.value.line is None


def test_files_without_sentences(tmp_path):
    comments = _file(tmp_path, "# sent_id = 1\n" + _conllu_line("1-2", "Don't") + "\n\n", "c.conllu")
    with pytest.raises(DataError, match=r"c\.conllu: file has no sentences: expected CoNLL-U sentences"):
        read_conllu(comments)
    documents = _file(tmp_path, "-DOCSTART- -X- -X- O\n\n-DOCSTART- -X- -X- O\n\n", "d.txt")
    with pytest.raises(DataError, match=r"d\.txt: file has no sentences: expected sentences of one token a line"):
        read_columns(documents)


@pytest.mark.parametrize(
    ("reader", "good"),
    [
        (read_conllu, _conllu_line("1", "Hi") + "\n"),
        (read_columns, "Hi O\n"),
        (read_tokens_and_blank_lines, "Hi there\n"),
    ],
)
def test_invalid_utf8_names_line_and_column(tmp_path, reader, good):
    path = _file(tmp_path, good.encode() + b"\n" + "é".encode() + b"x\xffy\n", "latin.txt")
    _raises(lambda: reader(path), path, 3, "not valid UTF-8 (byte 0xff at column 3)")
    latin1 = _file(tmp_path, "Café O\n".encode("latin-1"), "l1.txt")
    _raises(lambda: reader(latin1), latin1, 1, "not valid UTF-8 (byte 0xe9 at column 4)")


# --- column files --------------------------------------------------------------------------------

CONLL2003_IOB1 = """-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
Smith NNP B-NP B-PER
-DOCSTART- -X- O O

BRUSSELS NNP I-NP I-LOC
"""


def test_read_conll2003_with_docstart(tmp_path):
    path = _file(tmp_path, CONLL2003_IOB1)
    sentences = read_columns(path, scheme="iob1")
    assert [s.line for s in sentences] == [3, 9, 14]
    assert sentences[1] == Sentence(("Peter", "Blackburn", "Smith"), ("I-PER", "I-PER", "B-PER"), 9)
    assert [convert(s.tags, "iob1", "iob2") for s in sentences][:2] == [
        ["B-ORG", "O", "B-MISC", "O", "O"], ["B-PER", "I-PER", "B-PER"]]
    chunks = read_columns(path, tag_column=2, scheme="iob1")
    assert chunks == read_columns(path, tag_column=-2, scheme="iob1")
    assert chunks[0].tags == ("I-NP", "I-VP", "I-NP", "I-NP", "O")
    assert read_columns(path, word_column=1, tag_column=0)[0] == Sentence(
        ("NNP", "VBZ", "JJ", "NN", "."), ("EU", "rejects", "German", "call", "."), 3)
    unlabeled = read_columns(path, tag_column=None)
    assert [s.tags for s in unlabeled] == [(), (), ()] and unlabeled[0].words[0] == "EU"


def test_read_columns_feature_columns(tmp_path):
    path = _file(tmp_path, CONLL2003_IOB1)
    sentences = read_columns(path, scheme="iob1", feature_columns=[1, -2])
    assert sentences[1] == Sentence(("Peter", "Blackburn", "Smith"), ("I-PER", "I-PER", "B-PER"), 9,
                                    (("NNP", "NNP", "NNP"), ("I-NP", "I-NP", "B-NP")))
    assert [s.words for s in sentences] == [s.words for s in read_columns(path, scheme="iob1")]
    assert read_columns(path, tag_column=None, feature_columns=[1])[2].features == (("NNP",),)
    assert read_columns(path, scheme="iob1")[0].features == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"feature_columns": [4]}, "expected at least 5 columns for feature_columns=4, found 4"),
     ({"feature_columns": [1, 3]}, "expected feature columns other than the tag column -1")],
)
def test_read_columns_bad_feature_columns(tmp_path, kwargs, message):
    path = _file(tmp_path, "EU NNP I-NP B-ORG\n", "bad.conll")
    _raises(lambda: read_columns(path, **kwargs), path, 1, message)


def test_read_conllu_feature_columns_and_unlabeled_input(tmp_path):
    path = _file(tmp_path, CONLLU)
    sentences = read_conllu(path, feature_columns=[4, 2])
    assert sentences[0].features == (("VBP", "RB", "VB", "."), ("do", "n't", "go", "."))
    assert [s.tags for s in sentences] == [s.tags for s in read_conllu(path)]
    no_tags = _file(tmp_path, _conllu_line("1", "Hi", "_", "UH") + "\n", "unlabeled.conllu")
    assert read_conllu(no_tags, tag_field=None, feature_columns=[4]) == [Sentence(("Hi",), (), 1, (("UH",),))]
    with pytest.raises(ConfigError, match=r"feature_columns: 10 is not one of the 10 CoNLL-U columns \(0-9\)"):
        read_conllu(path, feature_columns=[10])


def test_read_wnut_tab_file_keeps_odd_tokens(tmp_path):
    # A lone tab separates sentences in WNUT-17 train; tokens with spaces, emoji, entities, ZWSP stay.
    text = "@paul_w\tO\nloves\tO\n&lt;3\tO\n\t\n" + (
        "New York\tB-location\n😂\tO\nwatched\u200bwas\tO\nDubbz\ufeff\tB-person\n")
    sentences = read_columns(_file(tmp_path, text), scheme="iob2")
    assert sentences == [
        Sentence(("@paul_w", "loves", "&lt;3"), ("O", "O", "O"), 1),
        Sentence(("New York", "😂", "watched\u200bwas", "Dubbz\ufeff"), ("B-location", "O", "O", "B-person"), 5),
    ]


def test_read_columns_crlf_and_explicit_separator(tmp_path):
    crlf = _file(tmp_path, CONLL2003_IOB1.replace("\n", "\r\n"), "crlf.txt")
    assert read_columns(crlf, scheme="iob1") == read_columns(_file(tmp_path, CONLL2003_IOB1), scheme="iob1")
    wnut = _file(tmp_path, "a\tB-person\r\nb\tI-person\r\n\t\r\nc\tO\r\n", "wnut.txt")
    assert [s.tags for s in read_columns(wnut, scheme="iob2")] == [("B-person", "I-person"), ("O",)]
    semicolons = _file(tmp_path, "a b;NN;B-NP\nc;NN;I-NP\n", "semi.txt")
    assert read_columns(semicolons, separator=";", scheme="iob2") == [
        Sentence(("a b", "c"), ("B-NP", "I-NP"), 1)]


def test_read_columns_rejects_unknown_scheme(tmp_path):
    with pytest.raises(ValueError, match="unknown tag scheme 'bio'"):
        read_columns(_file(tmp_path, "a O\n"), scheme="bio")


@pytest.mark.parametrize(
    ("text", "kwargs", "line", "message"),
    [
        ("-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP\n", {}, 4,
         "expected 4 columns like line 3, found 3"),
        ("EU NNP I-NP I-ORG\n\nrejects VBZ I-VP O extra\n", {}, 3, "expected 4 columns like line 1, found 5"),
        ("a\tO\nb\tO\t\n", {}, 2, "expected 2 columns like line 1, found 3"),
        ("EU NNP I-NP I-ORG\n", {"tag_column": 5}, 1, "expected at least 6 columns for tag_column=5, found 4"),
        ("EU NNP I-NP I-ORG\n", {"tag_column": -5}, 1, "expected at least 5 columns for tag_column=-5, found 4"),
        ("EU NNP\n", {"word_column": 2}, 1, "expected at least 3 columns for word_column=2, found 2"),
        ("\n\nEU\n", {}, 3, "expected a word column and a separate tag column, found 1 column(s)"),
        ("a\tO\n\tO\n", {}, 2, "expected a word in column 1, found an empty field"),
        ("a\tO\nb\tX-PER\n", {"scheme": "iob2"}, 2, "expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'X-PER'"),
        ("a B-PER\nb E-PER\n", {"scheme": "iob1"}, 2, "expected an IOB1 tag (O, B-TYPE or I-TYPE), found 'E-PER'"),
        ("a O\n\nb I-PER\nc I-\n", {"scheme": "iobes"}, 4,
         "expected an IOBES tag (O, B-TYPE, I-TYPE, E-TYPE or S-TYPE), found 'I-'"),
        ("a\tO\nb\t\n", {}, 2, "expected a non-empty tag, found ''"),
    ],
)
def test_read_columns_bad_lines(tmp_path, text, kwargs, line, message):
    path = _file(tmp_path, text, "bad.conll")
    _raises(lambda: read_columns(path, **kwargs), path, line, message)


# --- plain tokens and writing --------------------------------------------------------------------


def test_read_tokens_skips_and_counts_blank_lines(tmp_path):
    path = _file(tmp_path, "Hello  world !\r\n\n   \nSecond\tline 😂\n\u2009\n")
    assert read_tokens_and_blank_lines(path) == ([["Hello", "world", "!"], ["Second", "line", "😂"]], 3)


def test_a_unicode_line_separator_separates_tokens_not_sentences(tmp_path):
    path = _file(tmp_path, "one\u2028two\nthree")  # no final newline either
    assert read_tokens_and_blank_lines(path) == ([["one", "two"], ["three"]], 0)


def test_write_columns_writes_conlleval_input_that_reads_back(tmp_path):
    path = tmp_path / "out" / "eval.txt"
    words = [["EU", "rejects"], ["Peter"]]
    write_columns(path, words, [["B-ORG", "O"], ["B-PER"]], [["B-ORG", "B-MISC"], ["O"]])
    assert path.read_text(encoding="utf-8") == "EU B-ORG B-ORG\nrejects O B-MISC\n\nPeter B-PER O\n\n"
    assert read_columns(path, tag_column=1, scheme="iob2") == [
        Sentence(("EU", "rejects"), ("B-ORG", "O"), 1), Sentence(("Peter",), ("B-PER",), 4)]
    assert [p.name for p in path.parent.iterdir()] == ["eval.txt"]  # no temp file left behind
    write_columns(path, [["a", "b"]], [["NN", "VB"]], separator="\t")
    assert path.read_text(encoding="utf-8") == "a\tNN\nb\tVB\n\n"


def test_write_columns_writes_whitespace_inside_a_word_as_underscore(tmp_path):
    path = tmp_path / "eval.txt"  # CoNLL-U and tab-separated files allow a space in a word; conlleval does not
    write_columns(path, [["New York", "San\u00a0Jose"]], [["B-LOC", "B-LOC"]])
    assert path.read_text(encoding="utf-8") == "New_York B-LOC\nSan_Jose B-LOC\n\n"
    assert [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line] == \
        [["New_York", "B-LOC"], ["San_Jose", "B-LOC"]]  # fmt: skip


@pytest.mark.parametrize(
    ("words", "columns", "match"),
    [
        ([["a"]], [[["O"]], []], "column 2 has 0 sentences, the words have 1"),
        ([["a", "b"]], [[["O"]]], "sentence 0: column 1 has 1 values for 2 words"),
        ([["a"], []], [[["O"], []]], "sentence 1 has no tokens"),
        ([["a"]], [[["B-LOC\u00a0"]]], r"sentence 0, token 0: field 'B-LOC\\xa0' is empty or contains"),
        ([["a"]], [[["B\tLOC"]]], "field 'B\\\\tLOC'"),
        ([["a"]], [[[""]]], "field ''"),
    ],
)
def test_write_columns_refuses_what_would_not_read_back(tmp_path, words, columns, match):
    path = tmp_path / "eval.txt"
    with pytest.raises(ValueError, match=match):
        write_columns(path, words, *columns)
    assert not path.exists()


# --- real corpora (counts from each folder's SOURCE.md) ------------------------------------------


@functools.lru_cache(maxsize=None)
def _columns(relative: str, tag_column: int = -1, scheme: str = "iob2") -> tuple[Sentence, ...]:
    return tuple(read_columns(DATA / relative, tag_column=tag_column, scheme=scheme))


def _counts(sentences) -> tuple[int, int]:
    return len(sentences), sum(len(s.words) for s in sentences)


@needs_data
@pytest.mark.parametrize(
    ("name", "sentences", "words"),
    [("train", 12544, 204577), ("dev", 2001, 25147), ("test", 2077, 25094)],
)
def test_ud_ewt_counts(name, sentences, words):
    read = read_conllu(DATA / "ud_en_ewt" / f"en_ewt-ud-{name}.conllu")
    assert _counts(read) == (sentences, words)
    assert len({tag for s in read for tag in s.tags}) == 17
    assert all(len(s.words) == len(s.tags) for s in read)


@needs_data
def test_ud_ewt_xpos_and_first_lines():
    dev = read_conllu(DATA / "ud_en_ewt" / "en_ewt-ud-dev.conllu", "xpos")
    assert _counts(dev) == (2001, 25147)
    assert {"NN", "VBZ", "IN", "-LRB-"} <= {tag for s in dev for tag in s.tags}
    lines = (DATA / "ud_en_ewt" / "en_ewt-ud-dev.conllu").read_text(encoding="utf-8").split("\n")
    for sentence in dev[:50]:
        fields = lines[sentence.line - 1].split("\t")
        assert fields[0] == "1" and fields[1] == sentence.words[0]


@needs_data
@pytest.mark.parametrize(
    ("name", "sentences", "words"),
    [("eng.train", 14041, 203621), ("eng.testa", 3250, 51362), ("eng.testb", 3453, 46435)],
)
def test_conll2003_original_converts_to_the_iob2_copy(name, sentences, words):
    iob2 = _columns(f"conll2003/{name}")
    original = _columns(f"conll2003_original/{name}", -1, "iob1")
    assert _counts(iob2) == _counts(original) == (sentences, words)
    for copy, source in zip(iob2, original):
        assert copy.words == source.words
        assert list(copy.tags) == convert(source.tags, "iob1", "iob2")


@needs_data
def test_conll2003_chunk_column_and_test_mentions():
    for copy, source in zip(_columns("conll2003/eng.testb", 2), _columns("conll2003_original/eng.testb", 2, "iob1")):
        assert list(copy.tags) == convert(source.tags, "iob1", "iob2")
    mentions = Counter(kind for s in _columns("conll2003/eng.testb") for kind, _, _ in spans(s.tags, "iob2"))
    assert mentions == {"LOC": 1668, "PER": 1617, "ORG": 1661, "MISC": 702}


@needs_data
@pytest.mark.parametrize(
    ("name", "sentences", "words"),
    [("wnut17train.conll", 3394, 62730), ("emerging.dev.conll", 1009, 15733),
     ("emerging.test.annotated", 1287, 23394)],
)
def test_wnut17_counts(name, sentences, words):
    assert _counts(_columns(f"wnut17/{name}")) == (sentences, words)


@needs_data
def test_wnut17_test_mentions_and_odd_tokens():
    test = _columns("wnut17/emerging.test.annotated")
    mentions = Counter(kind for s in test for kind, _, _ in spans(s.tags, "iob2"))
    assert mentions == {"person": 429, "creative-work": 142, "group": 165, "location": 150,
                        "product": 127, "corporation": 66}
    assert test[-1].words[-1] == "😂"
    dev_words = {word for s in _columns("wnut17/emerging.dev.conll") for word in s.words}
    assert {"watched\u200bwas", "Dubbz\ufeff"} <= dev_words


@needs_data
@pytest.mark.parametrize(
    ("name", "sentences", "words", "chunks", "types"),
    [("train.txt", 8936, 211727, 106978, 11), ("test.txt", 2012, 47377, 23852, 10)],  # no UCP in test
)
def test_conll2000_counts(name, sentences, words, chunks, types):
    read = _columns(f"conll2000/{name}")
    assert _counts(read) == (sentences, words)
    assert sum(len(spans(s.tags, "iob2")) for s in read) == chunks
    assert len({kind for s in read for kind, _, _ in spans(s.tags, "iob2")}) == types
