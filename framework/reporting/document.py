"""A tiny document model rendered to both Markdown and self-contained HTML.

Every training run (taggers, translators, classifiers, sweeps) describes its report once
as a :class:`Document` and gets ``report.md`` (readable in a terminal or on a code host)
and ``report.html`` (one file that opens offline, plots embedded) from the same blocks,
so the two can never drift apart.

All text is treated as plain text, never as markup: words, labels, config values and
error messages come from data and must not be able to inject HTML or break a Markdown
table. The only markup in the output is the markup this module writes itself.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from framework.io import atomic_write_bytes, atomic_write_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS_DIR = "plots"

# Names become file names under plots/ and must need no URL or path escaping.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SAFE_LANGUAGE = re.compile(r"^[A-Za-z0-9_+-]+$")
# Characters with inline meaning in (GitHub-flavoured) Markdown, escaped with a backslash.
_MD_BACKSLASHED = {c: "\\" + c for c in "\\`*_[]|~"}
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_ORDERED_LIST = re.compile(r"^(\d+)([.)])")

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#fafafa;color:#222}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem;background:#fff}
h1{border-bottom:2px solid #ddd;padding-bottom:.3rem}
h2{border-bottom:1px solid #eee;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
caption{caption-side:top;text-align:left;font-style:italic;padding:.2rem 0;color:#555}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fcfcfc}
figure{margin:1rem 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.88rem}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;font-size:.88rem}
.example{margin:.8rem 0 1.2rem}
.example p{margin:.2rem 0;color:#555;font-size:.88rem}
.tokens{display:flex;flex-wrap:wrap;gap:.25rem}
.tok{display:inline-flex;flex-direction:column;border:1px solid #e3e3e3;padding:.15rem .35rem;font-size:.85rem}
.tok .w{font-weight:600}
.tok .g{color:#2a6b2a}
.tok .p{color:#555}
.tok.legend{background:#f3f3f3;color:#777;font-style:italic}
.tok.mismatch{background:#fde8e8;border-color:#e0a0a0}
.tok.mismatch .p{color:#b00020;font-weight:600}
"""

# Only what a self-contained report needs: inline CSS and data: images, no scripts.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def format_value(value: object) -> str:
    """Format a cell value compactly so tables stay narrow and comparable.

    Floats get 4 significant digits (``0.8734``, ``1.235e+05``) because more digits in a
    metric table are noise; fractions stay fractions (``0.25``, not ``25%``) so values are
    read the same way everywhere. Integers, including integral floats below 1e15, are
    shown whole. Lists and tuples are comma-joined, everything else uses ``str``.
    """
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Rational):
        return str(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return format(number, ".4g")
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value)
    return str(value)


def _is_numeric(value: object) -> bool:
    """True for numbers (not booleans), which tables right-align."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _md_inline(text: str) -> str:
    """Escape text so Markdown shows it literally: no emphasis, code, links, HTML or pipes.

    ``<``, ``>`` and ``&`` become entities rather than backslash escapes because raw HTML
    in Markdown is passed through by most renderers; a backslash would not stop it.
    """
    out = []
    for char in text:
        out.append(_MD_BACKSLASHED.get(char) or _MD_ENTITIES.get(char) or char)
    return "".join(out)


def _md_cell(value: object) -> str:
    """Escape a table cell: inline escaping plus line breaks, which would end the row."""
    return "<br>".join(_md_inline(format_value(value)).splitlines())


def _md_line(line: str) -> str:
    """Escape one paragraph line so it cannot start a heading, list, quote or rule."""
    text = _md_inline(line)
    if text[:1] in ("#", "-", "+", "="):
        return "\\" + text
    return _MD_ORDERED_LIST.sub(r"\1\\\2", text, count=1)


def _one_line(text: str) -> str:
    """Collapse whitespace runs, so a heading or caption stays on one line."""
    return " ".join(str(text).split())


def _html_text(value: object) -> str:
    """HTML-escape a formatted value, keeping its line breaks visible."""
    return "<br>".join(html.escape(line) for line in format_value(value).splitlines())


@dataclass(frozen=True)
class _Heading:
    """Each block renders itself to both formats, so a new block cannot miss one."""

    text: str
    level: int

    def markdown(self) -> str:
        text = _md_inline(_one_line(self.text))
        if text.endswith("#"):  # a trailing run of '#' would be read as a closing sequence
            text = text[:-1] + "\\#"
        return f"{'#' * self.level} {text}"

    def html(self) -> str:
        return f"<h{self.level}>{html.escape(_one_line(self.text))}</h{self.level}>"


@dataclass(frozen=True)
class _Paragraph:
    lines: tuple[str, ...]

    def markdown(self) -> str:
        # A trailing backslash is a hard line break in CommonMark, so lines stay lines.
        return "\\\n".join(_md_line(line) for line in self.lines)

    def html(self) -> str:
        return "<p>" + "<br>\n".join(html.escape(line) for line in self.lines) + "</p>"


@dataclass(frozen=True)
class _Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    caption: str | None

    def _numeric(self) -> list[bool]:
        """Right-align a column when every value in it is a number."""
        return [
            bool(self.rows) and all(_is_numeric(row[i]) for row in self.rows)
            for i in range(len(self.columns))
        ]

    def markdown(self) -> str:
        numeric = self._numeric()
        lines = [f"*{_md_inline(_one_line(self.caption))}*", ""] if self.caption else []
        lines.append("| " + " | ".join(_md_cell(c) for c in self.columns) + " |")
        lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
        return "\n".join(lines)

    def html(self) -> str:
        numeric = self._numeric()
        parts = ["<table>"]
        if self.caption:
            parts.append(f"<caption>{html.escape(_one_line(self.caption))}</caption>")
        header = "".join(f"<th>{_html_text(c)}</th>" for c in self.columns)
        parts.append(f"<thead><tr>{header}</tr></thead>")
        parts.append("<tbody>")
        for row in self.rows:
            cells = "".join(
                f'<td class="num">{_html_text(v)}</td>' if n else f"<td>{_html_text(v)}</td>"
                for v, n in zip(row, numeric)
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        return "\n".join(parts)


@dataclass(frozen=True)
class _Image:
    name: str
    png: bytes
    alt: str

    @property
    def relative_path(self) -> str:
        """Where ``save`` puts the PNG, relative to the report, as the Markdown links it."""
        return f"{PLOTS_DIR}/{self.name}.png"

    def markdown(self) -> str:
        return f"![{_md_inline(_one_line(self.alt))}]({self.relative_path})"

    def html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        alt = html.escape(_one_line(self.alt), quote=True)
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{alt}</figcaption></figure>"
        )


@dataclass(frozen=True)
class _Code:
    text: str
    language: str

    def markdown(self) -> str:
        # The fence must be longer than any backtick run inside, or the text could close it.
        longest = max((len(run) for run in re.findall(r"`+", self.text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}{self.language}\n{self.text.rstrip(chr(10))}\n{fence}"

    def html(self) -> str:
        cls = f' class="language-{self.language}"' if self.language else ""
        return f"<pre><code{cls}>{html.escape(self.text.rstrip(chr(10)))}</code></pre>"


@dataclass(frozen=True)
class _TaggedExamples:
    """Markdown: one Word/Gold/Predicted table per sentence; HTML: wrapping token stacks."""

    examples: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]

    @staticmethod
    def _summary(index: int, gold: Sequence[str], pred: Sequence[str]) -> str:
        """One line per sentence, so a reader sees how bad it is before reading it."""
        wrong = sum(g != p for g, p in zip(gold, pred))
        return f"Example {index}: {wrong} of {len(gold)} tokens wrong"

    def markdown(self) -> str:
        if not self.examples:
            return "*No examples.*"
        blocks = []
        for index, (words, gold, pred) in enumerate(self.examples, start=1):
            lines = [f"*{self._summary(index, gold, pred)}*", "", "| Word | Gold | Predicted |"]
            lines.append("|---|---|---|")
            for word, g, p in zip(words, gold, pred):
                cells = [_md_cell(word), _md_cell(g), _md_cell(p)]
                if g != p:  # empty strings stay empty: '****' would not render as bold
                    cells = [f"**{c}**" if c else c for c in cells]
                lines.append("| " + " | ".join(cells) + " |")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def html(self) -> str:
        if not self.examples:
            return "<p><em>No examples.</em></p>"
        legend = (
            '<span class="tok legend"><span class="w">word</span>'
            '<span class="g">gold</span><span class="p">predicted</span></span>'
        )
        parts = []
        for index, (words, gold, pred) in enumerate(self.examples, start=1):
            tokens = [legend]
            for word, g, p in zip(words, gold, pred):
                cls = "tok mismatch" if g != p else "tok"
                tokens.append(
                    f'<span class="{cls}"><span class="w">{html.escape(word)}</span>'
                    f'<span class="g">{html.escape(g)}</span>'
                    f'<span class="p">{html.escape(p)}</span></span>'
                )
            summary = html.escape(self._summary(index, gold, pred))
            parts.append(
                f'<div class="example"><p>{summary}</p>'
                f'<div class="tokens">{"".join(tokens)}</div></div>'
            )
        return "\n".join(parts)


class Document:
    """An ordered list of blocks with a title, rendered to Markdown and HTML.

    Methods return the document itself so a report reads top to bottom as one chain.
    Inputs are validated when added, so a mistake points at the line that made it rather
    than at rendering time at the end of a long run.
    """

    def __init__(self, title: str):
        self.title = str(title)
        self._blocks: list = []
        self._images: dict[str, _Image] = {}

    def heading(self, text: str, level: int = 2) -> "Document":
        """Add a section heading (1-6); the title is level 1, so sections usually use 2."""
        if not 1 <= int(level) <= 6:
            raise ValueError(f"heading level must be 1..6, got {level}")
        self._blocks.append(_Heading(str(text), int(level)))
        return self

    def paragraph(self, text: str) -> "Document":
        """Add plain text; line breaks are kept, blank lines and edge whitespace dropped."""
        lines = tuple(line.strip() for line in str(text).splitlines() if line.strip())
        self._blocks.append(_Paragraph(lines))
        return self

    def key_values(self, rows: Mapping[str, object]) -> "Document":
        """Add a two-column Name/Value table, e.g. for a config or a metric summary."""
        pairs = tuple((str(key), value) for key, value in rows.items())
        self._blocks.append(_Table(("Name", "Value"), pairs, None))
        return self

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
        caption: str | None = None,
    ) -> "Document":
        """Add a table; every row must have one value per column, or the table is a bug."""
        columns = tuple(str(c) for c in columns)
        if not columns:
            raise ValueError("a table needs at least one column")
        frozen = tuple(tuple(row) for row in rows)
        for number, row in enumerate(frozen, start=1):
            if len(row) != len(columns):
                raise ValueError(
                    f"table row {number} has {len(row)} values for {len(columns)} columns"
                )
        self._blocks.append(_Table(columns, frozen, _one_line(caption) if caption else None))
        return self

    def image(self, name: str, png: bytes, alt: str) -> "Document":
        """Add a PNG: Markdown links to ``plots/<name>.png``, HTML embeds it as a data URI."""
        if not _SAFE_NAME.fullmatch(str(name)):
            raise ValueError(f"image name must be a file stem of [A-Za-z0-9_.-], got {name!r}")
        if name in self._images:
            raise ValueError(f"image name {name!r} is used twice; one plot would replace the other")
        if not bytes(png).startswith(PNG_SIGNATURE):
            raise ValueError(f"image {name!r} is not PNG data")
        image = _Image(name, bytes(png), str(alt))
        self._images[name] = image
        self._blocks.append(image)
        return self

    def code(self, text: str, language: str = "") -> "Document":
        """Add a verbatim block, e.g. the resolved config or a traceback."""
        if language and not _SAFE_LANGUAGE.fullmatch(language):
            raise ValueError(f"code language must match [A-Za-z0-9_+-]+, got {language!r}")
        self._blocks.append(_Code(str(text), language))
        return self

    def tagged_examples(
        self, examples: Sequence[tuple[Sequence[str], Sequence[str], Sequence[str]]]
    ) -> "Document":
        """Add sentences as (words, gold tags, predicted tags), mismatches highlighted."""
        frozen = []
        for number, (words, gold, pred) in enumerate(examples, start=1):
            words, gold, pred = (tuple(str(x) for x in seq) for seq in (words, gold, pred))
            if not len(words) == len(gold) == len(pred):
                raise ValueError(
                    f"example {number}: {len(words)} words, {len(gold)} gold and "
                    f"{len(pred)} predicted tags; they must align"
                )
            frozen.append((words, gold, pred))
        self._blocks.append(_TaggedExamples(tuple(frozen)))
        return self

    def render_markdown(self) -> str:
        """Render GitHub-flavoured Markdown; images are referenced as ``plots/<name>.png``."""
        parts = [_Heading(self.title, 1).markdown()]
        parts.extend(block.markdown() for block in self._blocks)
        return "\n\n".join(parts) + "\n"

    def render_html(self) -> str:
        """Render one self-contained HTML page: inline CSS, embedded images, no scripts."""
        body = "\n".join(block.html() for block in self._blocks)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(_one_line(self.title))}</title>\n<style>{_CSS}</style>\n"
            f"</head>\n<body>\n<main>\n<h1>{html.escape(_one_line(self.title))}</h1>\n"
            f"{body}\n</main>\n</body>\n</html>\n"
        )

    def save(self, directory: str | os.PathLike, stem: str = "report") -> list[Path]:
        """Write ``<stem>.md``, ``<stem>.html`` and ``plots/<name>.png`` into ``directory``.

        Both documents are rendered before anything is written, so a rendering error
        leaves an earlier report untouched; each file is then replaced atomically. Plots
        go first so the Markdown never links to a plot that is not there yet.

        Returns:
            The written paths: the Markdown, the HTML, then the plots in document order.
        """
        if not _SAFE_NAME.fullmatch(stem):
            raise ValueError(f"report stem must be a plain file stem, got {stem!r}")
        directory = Path(directory)
        markdown = self.render_markdown()
        page = self.render_html()
        plots = []
        for image in self._images.values():
            path = directory / image.relative_path
            atomic_write_bytes(path, image.png)
            plots.append(path)
        md_path, html_path = directory / f"{stem}.md", directory / f"{stem}.html"
        atomic_write_text(md_path, markdown)
        atomic_write_text(html_path, page)
        return [md_path, html_path, *plots]
