"""Tests for the report document model: escaping, images, atomic saving, well-formed HTML."""

from __future__ import annotations

import base64
import struct
import zlib
from fractions import Fraction
from html.parser import HTMLParser

import numpy as np
import pytest

import framework.io
from framework.reporting.document import PNG_SIGNATURE, Document, format_value

PAYLOAD = "<script>alert(1)</script>"
PIPE = "a|b"
# Void elements have no end tag, so they never go on the balance stack.
VOID = {"meta", "img", "br", "hr", "input", "link"}


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG, built by hand so these tests do not depend on matplotlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


class TagAudit(HTMLParser):
    """Records start tags and checks that every non-void tag is closed in order."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[str] = []
        self.cells_per_row: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.starts.append(tag)
        if tag == "tr":
            self.cells_per_row.append(0)
        if tag in ("td", "th"):
            self.cells_per_row[-1] += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def audit(page: str) -> TagAudit:
    parser = TagAudit()
    parser.feed(page)
    parser.close()
    return parser


def split_md_row(line: str) -> list[str]:
    """Split a Markdown table row on pipes that no backslash escapes, as GFM does."""
    cells, current, chars = [], [], iter(line.strip()[1:-1])
    for char in chars:
        if char == "\\":
            current.append(char + next(chars, ""))
        elif char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
    return cells + ["".join(current)]


def hostile_document() -> Document:
    """A document with data-borne markup in every place text can go."""
    doc = Document(f"Report {PAYLOAD}")
    doc.heading(f"Section {PAYLOAD} ##")
    doc.paragraph(f"Error: {PAYLOAD} in {PIPE}\n# not a heading\n1. not a list")
    doc.key_values({PAYLOAD: PIPE, "learning_rate": 0.00123456, "note": "line1\nline2"})
    doc.table(
        ["word", "count", PIPE],
        [[PAYLOAD, 3, PIPE], ["`tick` *star* \\|", 4.5, "x\ny"]],
        caption=f"Words {PAYLOAD}",
    )
    doc.image("confusion", tiny_png(), alt=f'"quoted" {PAYLOAD}')
    doc.code(f"{PAYLOAD}\n```\nstill code", language="text")
    doc.tagged_examples([(["The", PAYLOAD, PIPE], ["DT", "NN", "$"], ["DT", "VB", "$"])])
    return doc


def test_html_escapes_data_everywhere():
    page = hostile_document().render_html()
    parser = audit(page)
    assert "script" not in parser.starts
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;quoted&quot;" in page  # the alt attribute cannot be closed early


def test_html_tags_are_balanced_and_rows_complete():
    doc = hostile_document()
    parser = audit(doc.render_html())
    assert parser.errors == []
    assert parser.stack == []
    assert parser.starts.count("table") == 2
    # key_values rows have 2 cells, the 3-column table 3: no row was split or merged.
    assert parser.cells_per_row == [2, 2, 2, 2, 3, 3, 3]


def test_html_is_self_contained():
    page = hostile_document().render_html()
    assert "data:image/png;base64," in page
    for external in ("http://", "https://", "<link", 'src="plots/'):
        assert external not in page
    encoded = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(encoded) == tiny_png()


def test_markdown_tables_keep_their_column_count():
    text = hostile_document().render_markdown()
    rows = [line for line in text.splitlines() if line.startswith("|")]
    widths = [len(split_md_row(line)) for line in rows]
    # key_values: header, rule, 3 rows; table: header, rule, 2 rows; examples: header, rule, 3.
    assert widths == [2] * 5 + [3] * 4 + [3] * 5
    for line in rows:
        assert line.endswith("|")


def test_markdown_shows_data_literally():
    before, code, after = hostile_document().render_markdown().split("````")
    text = before + after
    assert "<script" not in text
    assert code == f"text\n{PAYLOAD}\n```\nstill code\n"  # verbatim inside the fence
    assert "&lt;script&gt;" in text
    assert "a\\|b" in text
    assert "\\# not a heading" in text
    assert "1\\. not a list" in text
    assert "Section &lt;script&gt;alert(1)&lt;/script&gt; #\\#" in text


def test_markdown_round_trips_through_a_commonmark_parser():
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(
        hostile_document().render_markdown()
    )
    parser = audit(rendered)
    assert "script" not in parser.starts
    assert parser.starts.count("table") == 3
    assert parser.cells_per_row == [2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3]
    assert "<td>a|b</td>" in rendered
    assert "<td>`tick` *star* \\|</td>" in rendered
    assert "<h1>" in rendered and parser.starts.count("h1") == 1  # '# not a heading' stays text
    assert "<ol>" not in rendered


def test_code_fence_outlasts_backticks_in_the_code():
    text = Document("t").code("a\n```\nb", language="python").render_markdown()
    assert "````python\na\n```\nb\n````" in text
    with pytest.raises(ValueError):
        Document("t").code("x", language='py" onload="x')


def test_tagged_examples_highlight_only_mismatches():
    doc = Document("t").tagged_examples(
        [(["I", "saw", "her"], ["PRP", "VBD", "PRP"], ["PRP", "NN", "PRP$"])]
    )
    page = doc.render_html()
    assert page.count('class="tok mismatch"') == 2
    assert page.count('class="tok"') == 1
    markdown = doc.render_markdown()
    assert "| I | PRP | PRP |" in markdown
    assert "| **saw** | **VBD** | **NN** |" in markdown
    assert "| **her** | **PRP** | **PRP$** |" in markdown
    assert "2 of 3 tokens wrong" in markdown


def test_tagged_examples_must_align():
    with pytest.raises(ValueError, match="example 1"):
        Document("t").tagged_examples([(["a", "b"], ["X", "Y"], ["X"])])


@pytest.mark.parametrize(
    "value, shown",
    [
        (0.87345678, "0.8735"),
        (0.25, "0.25"),
        (0.00012346, "0.0001235"),
        (3.0, "3"),
        (10, "10"),
        (np.float32(0.5), "0.5"),
        (np.int64(7), "7"),
        (Fraction(1, 3), "1/3"),
        (True, "True"),
        (float("nan"), "nan"),
        ([0.123456, 2], "0.1235, 2"),
        ("text", "text"),
    ],
)
def test_format_value_is_compact(value, shown):
    assert format_value(value) == shown


def test_numeric_columns_are_right_aligned():
    doc = Document("t").table(["name", "f1"], [["NN", 0.91], ["VB", 0.8]])
    assert "|---|---:|" in doc.render_markdown()
    assert '<td class="num">0.91</td>' in doc.render_html()


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="row 2"):
        Document("t").table(["a", "b"], [[1, 2], [3]])


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x\n", "a b"])
def test_image_rejects_names_that_are_not_plain_file_stems(name):
    with pytest.raises(ValueError):
        Document("t").image(name, tiny_png(), "alt")


def test_image_rejects_duplicates_and_non_png():
    doc = Document("t").image("plot", tiny_png(), "alt")
    with pytest.raises(ValueError, match="twice"):
        doc.image("plot", tiny_png(), "alt")
    with pytest.raises(ValueError, match="not PNG"):
        doc.image("other", b"GIF89a", "alt")


def test_save_writes_reports_and_plots(tmp_path):
    doc = Document("Run").heading("Plots").image("learning_curves", tiny_png(), "curves")
    paths = doc.save(tmp_path / "run")
    run = tmp_path / "run"
    assert paths == [run / "report.md", run / "report.html", run / "plots/learning_curves.png"]
    markdown = (run / "report.md").read_text(encoding="utf-8")
    assert "![curves](plots/learning_curves.png)" in markdown
    png = (run / "plots" / "learning_curves.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and png == tiny_png()
    assert (run / "report.html").read_text(encoding="utf-8") == doc.render_html()


def test_save_leaves_old_report_when_rendering_fails(tmp_path, monkeypatch):
    (tmp_path / "report.md").write_text("old report\n", encoding="utf-8")

    def broken(self):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(Document, "render_html", broken)
    doc = Document("new").paragraph("new text").image("plot", tiny_png(), "alt")
    with pytest.raises(RuntimeError):
        doc.save(tmp_path)
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_save_leaves_old_html_and_no_temp_files_when_a_write_fails(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("<p>old</p>", encoding="utf-8")
    real_fsync, calls = framework.io.os.fsync, []

    def fsync_failing_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:  # report.md is written first, report.html second
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(framework.io.os, "fsync", fsync_failing_on_second_file)
    with pytest.raises(OSError, match="disk full"):
        Document("new").paragraph("new text").save(tmp_path)
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == "<p>old</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_save_rejects_unsafe_stem(tmp_path):
    with pytest.raises(ValueError):
        Document("t").save(tmp_path, stem="../report")


def test_heading_level_must_be_valid():
    with pytest.raises(ValueError):
        Document("t").heading("x", level=7)
    assert "### Deep" in Document("t").heading("Deep", level=3).render_markdown()
