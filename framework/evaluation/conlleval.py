"""A Python port of the CoNLL ``conlleval`` perl script (version 2004-01-26).

CoNLL-2000 chunking and CoNLL-2003 NER results are reported as the perl script computes
them, and small differences in how a chunk is delimited (an ``I-`` that opens a chunk, a
type change inside a chunk) move F1 by tenths of a point. So this module does not
re-derive span extraction from first principles: it runs the script's own state machine
(``startOfChunk`` / ``endOfChunk`` and the ``inCorrect`` flag) token by token, and its
output can be diffed against the perl script's.

Faithful quirks worth knowing:

* The script understands the chunk representations of Tjong Kim Sang & Veenstra (1999):
  IOB1, IOB2, IOE1, IOE2 and the bracket tags ``[`` / ``]``. It has no rule for an
  ``S-`` prefix and no rule for ``B-`` after ``E-``, so IOBES sequences are *not* scored
  as IOBES: ``S-PER S-PER`` is one chunk and so is ``B-PER E-PER B-PER E-PER``. Convert
  IOBES to IOB2 before scoring.
* A tag without ``-`` has type ``''``; a tag is split at its *first* ``-`` so types may
  contain hyphens; the type ``0`` is read as ``''`` (perl string truthiness).
* Tag ``.`` (with any type) continues whatever chunk is open.
* Token accuracy compares the parsed (prefix, type) pairs, as the script does.

All scores are fractions in 0..1; only :func:`format_conlleval` prints percentages.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from framework.data.text_files import read_utf8
from framework.errors import DataError

_END_PAIRS = frozenset(
    {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")}
)
_START_PAIRS = frozenset(
    {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")}
)
_BRACKETS = frozenset({"[", "]"})
_NOT_CHUNK = frozenset({"O", "."})
_BOUNDARY_FIELD = "-X-"
_DOCSTART = "-DOCSTART-"


@dataclass(frozen=True)
class TypeScores:
    """Scores of one chunk type, as on a per-type line of conlleval's output.

    Attributes:
        precision: correct / predicted, 0 when nothing of this type was predicted.
        recall: correct / gold, 0 when the gold data has no chunk of this type.
        f1: harmonic mean of precision and recall, 0 when both are 0.
        gold: number of gold chunks of this type.
        predicted: number of predicted chunks of this type.
        correct: number of predicted chunks matching a gold chunk exactly (span and type).
    """

    precision: float
    recall: float
    f1: float
    gold: int
    predicted: int
    correct: int


@dataclass(frozen=True)
class SpanScores:
    """Corpus-level scores, conlleval's overall line plus per-type and macro figures.

    Attributes:
        tokens: number of tokens scored (sentence boundaries are not tokens).
        correct_tokens: tokens whose parsed gold and predicted tags agree.
        gold_phrases: number of gold chunks.
        predicted_phrases: number of predicted chunks.
        correct_phrases: number of exactly matching chunks.
        accuracy: correct_tokens / tokens (0 for no tokens).
        precision: micro precision over all chunks, 0 when nothing was predicted.
        recall: micro recall, 0 when there are no gold chunks.
        f1: micro F1, conlleval's ``FB1`` on the overall line.
        macro_f1: mean per-type F1 over the types found in gold or predictions (0 if none).
        per_type: scores per chunk type, keys sorted as conlleval prints them.
    """

    tokens: int
    correct_tokens: int
    gold_phrases: int
    predicted_phrases: int
    correct_phrases: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    macro_f1: float
    per_type: dict[str, TypeScores]


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag into (prefix, type) exactly as conlleval's regex ``^([^-]*)-(.*)$`` does.

    Args:
        tag: a chunk tag such as ``B-PER``, ``I-NP``, ``O`` or ``B-ORG-DERIV``.

    Returns:
        The text before the first ``-`` and the rest; the type is ``''`` when the tag has
        no ``-`` or the type is ``0`` (perl treats the string ``"0"`` as false).
    """
    prefix, sep, chunk_type = tag.partition("-")
    if not sep or chunk_type == "0":
        return (tag if not sep else prefix), ""
    return prefix, chunk_type


def end_of_chunk(prev_tag: str, tag: str, prev_type: str, chunk_type: str) -> bool:
    """Port of conlleval's ``endOfChunk``: did a chunk end between the previous and this word?"""
    if (prev_tag, tag) in _END_PAIRS or prev_tag in _BRACKETS:
        return True
    return prev_tag not in _NOT_CHUNK and prev_type != chunk_type


def start_of_chunk(prev_tag: str, tag: str, prev_type: str, chunk_type: str) -> bool:
    """Port of conlleval's ``startOfChunk``: did a chunk start between the previous and this word?"""
    if (prev_tag, tag) in _START_PAIRS or tag in _BRACKETS:
        return True
    return tag not in _NOT_CHUNK and prev_type != chunk_type


class _Scanner:
    """The main loop of conlleval, fed one line (token or boundary) at a time.

    Keeping the perl variable names' meaning (last tags, ``inCorrect``) makes the port
    checkable line by line against the script.
    """

    def __init__(self) -> None:
        self.last_correct, self.last_correct_type = "O", ""
        self.last_guessed, self.last_guessed_type = "O", ""
        self.in_correct = False
        self.tokens = 0
        self.correct_tags = 0
        self.found_correct: Counter[str] = Counter()
        self.found_guessed: Counter[str] = Counter()
        self.correct_chunk: Counter[str] = Counter()

    def feed(self, gold_tag: str, pred_tag: str, boundary: bool = False) -> None:
        """Process one input line; a boundary is the perl ``-X- O O`` pseudo-line."""
        correct, correct_type = split_tag(gold_tag)
        guessed, guessed_type = split_tag(pred_tag)
        if boundary:
            guessed = "O"
        gold_end = end_of_chunk(self.last_correct, correct, self.last_correct_type, correct_type)
        pred_end = end_of_chunk(self.last_guessed, guessed, self.last_guessed_type, guessed_type)
        if self.in_correct:
            if gold_end and pred_end and self.last_guessed_type == self.last_correct_type:
                self.in_correct = False
                self.correct_chunk[self.last_correct_type] += 1
            elif gold_end != pred_end or guessed_type != correct_type:
                self.in_correct = False
        gold_start = start_of_chunk(self.last_correct, correct, self.last_correct_type, correct_type)
        pred_start = start_of_chunk(self.last_guessed, guessed, self.last_guessed_type, guessed_type)
        if gold_start and pred_start and guessed_type == correct_type:
            self.in_correct = True
        if gold_start:
            self.found_correct[correct_type] += 1
        if pred_start:
            self.found_guessed[guessed_type] += 1
        if not boundary:
            if correct == guessed and guessed_type == correct_type:
                self.correct_tags += 1
            self.tokens += 1
        self.last_correct, self.last_correct_type = correct, correct_type
        self.last_guessed, self.last_guessed_type = guessed, guessed_type

    def finish(self) -> None:
        """The end-of-input check: a chunk still open and correct counts."""
        if self.in_correct:
            self.in_correct = False
            self.correct_chunk[self.last_correct_type] += 1

    def totals(self) -> tuple[int, int, int, int, int]:
        """(tokens, correct tokens, gold, predicted, correct chunks) so far."""
        return (
            self.tokens,
            self.correct_tags,
            sum(self.found_correct.values()),
            sum(self.found_guessed.values()),
            sum(self.correct_chunk.values()),
        )


def check_aligned(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> None:
    """Refuse mismatched inputs: silently zipping would score the wrong token pairs.

    Raises:
        ValueError: the number of sentences, or of tags in a sentence, differs.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    for index, (gold_sent, pred_sent) in enumerate(zip(gold, pred)):
        if len(gold_sent) != len(pred_sent):
            raise ValueError(
                f"sentence {index}: gold has {len(gold_sent)} tags but pred has {len(pred_sent)}"
            )


def _scan(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], per_sentence: bool = False
) -> tuple[_Scanner, np.ndarray | None]:
    """Run conlleval over the sentences, each followed by a blank line, as the script would.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.
        per_sentence: also return what each sentence (with its trailing boundary) added.

    Returns:
        The finished scanner and, if asked, an int64 array of shape (sentences, 5) with the
        per-sentence increments of :meth:`_Scanner.totals`. The rows sum to the totals.
    """
    check_aligned(gold, pred)
    scanner = _Scanner()
    cumulative = [scanner.totals()] if per_sentence else None
    for gold_sent, pred_sent in zip(gold, pred):
        for gold_tag, pred_tag in zip(gold_sent, pred_sent):
            scanner.feed(gold_tag, pred_tag)
        scanner.feed("O", "O", boundary=True)
        if cumulative is not None:
            cumulative.append(scanner.totals())
    scanner.finish()
    if cumulative is None:
        return scanner, None
    if len(cumulative) > 1:
        cumulative[-1] = scanner.totals()  # a chunk counted by finish() belongs to the last row
    return scanner, np.diff(np.asarray(cumulative, dtype=np.int64), axis=0)


def _prf(correct: int, gold: int, predicted: int) -> tuple[float, float, float]:
    """Precision, recall and F1 as fractions, with conlleval's zero conventions."""
    precision = correct / predicted if predicted > 0 else 0.0
    recall = correct / gold if gold > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def evaluate(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> SpanScores:
    """Score predicted tag sequences against gold ones as conlleval does.

    Each sentence is scored as conlleval sees a file in which every sentence is followed
    by a blank line, so (for any B/I/E/O tags) chunks never cross sentences.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.

    Returns:
        The overall, per-type and macro scores.

    Raises:
        ValueError: the number of sentences, or of tags in a sentence, differs.
    """
    scanner, _ = _scan(gold, pred)
    tokens, correct_tags, n_gold, n_pred, n_correct = scanner.totals()
    per_type = {}
    for chunk_type in sorted(set(scanner.found_correct) | set(scanner.found_guessed)):
        counts = (
            scanner.correct_chunk[chunk_type],
            scanner.found_correct[chunk_type],
            scanner.found_guessed[chunk_type],
        )
        per_type[chunk_type] = TypeScores(*_prf(*counts), counts[1], counts[2], counts[0])
    precision, recall, f1 = _prf(n_correct, n_gold, n_pred)
    macro = float(np.mean([s.f1 for s in per_type.values()])) if per_type else 0.0
    return SpanScores(
        tokens=tokens,
        correct_tokens=correct_tags,
        gold_phrases=n_gold,
        predicted_phrases=n_pred,
        correct_phrases=n_correct,
        accuracy=correct_tags / tokens if tokens else 0.0,
        precision=precision,
        recall=recall,
        f1=f1,
        macro_f1=macro,
        per_type=per_type,
    )


def sentence_span_counts(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> np.ndarray:
    """Per-sentence conlleval counts, so that resampling can sum rows instead of rescoring.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, aligned with ``gold``.

    Returns:
        int64 array of shape (sentences, 5): tokens, correct tokens, gold chunks,
        predicted chunks, correct chunks. Column sums equal :func:`evaluate`'s totals.

    Raises:
        ValueError: the number of sentences, or of tags in a sentence, differs.
    """
    _, rows = _scan(gold, pred, per_sentence=True)
    return rows if rows is not None else np.zeros((0, 5), dtype=np.int64)


def _percent_prf(correct: int, gold: int, predicted: int) -> tuple[float, float, float]:
    """conlleval's percentages, computed in the same order so the printed digits match."""
    precision = 100 * correct / predicted if predicted > 0 else 0.0
    recall = 100 * correct / gold if gold > 0 else 0.0
    fb1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, fb1


def format_conlleval(scores: SpanScores) -> str:
    """Render scores as the perl script prints them (without ``-l``), for diffing.

    The untyped chunk type ``''`` is printed twice when it occurs in both gold and
    predictions, because the script's de-duplication treats ``''`` as "no previous type".

    Args:
        scores: the result of :func:`evaluate`.

    Returns:
        The report text, ending with a newline.
    """
    lines = [
        f"processed {scores.tokens} tokens with {scores.gold_phrases} phrases; "
        f"found: {scores.predicted_phrases} phrases; correct: {scores.correct_phrases}."
    ]
    if scores.tokens > 0:
        precision, recall, fb1 = _percent_prf(
            scores.correct_phrases, scores.gold_phrases, scores.predicted_phrases
        )
        accuracy = 100 * scores.correct_tokens / scores.tokens
        lines.append(
            "accuracy: %6.2f%%; precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f"
            % (accuracy, precision, recall, fb1)
        )
    for chunk_type, type_scores in scores.per_type.items():
        precision, recall, fb1 = _percent_prf(
            type_scores.correct, type_scores.gold, type_scores.predicted
        )
        line = "%17s: precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f  %d" % (
            chunk_type, precision, recall, fb1, type_scores.predicted,
        )
        repeats = (type_scores.gold > 0) + (type_scores.predicted > 0) if chunk_type == "" else 1
        lines.extend([line] * repeats)
    return "\n".join(lines) + "\n"


def read_conlleval_file(path: str | Path) -> tuple[list[list[str]], list[list[str]]]:
    """Read conlleval's input format: ``word ... gold predicted`` per line.

    Fields are split on any whitespace (the script splits on single spaces). A blank line
    or a line whose first field is ``-X-`` ends a sentence. ``-DOCSTART-`` lines are
    skipped, unlike in the script, which counts each as an ``O``/``O`` token: phrase counts
    and F1 are unaffected, but the token count and accuracy differ from the script's by
    the document lines.

    Args:
        path: the file to read (UTF-8).

    Returns:
        (gold, pred): tag sequences per sentence, taken from the last two columns.

    Raises:
        DataError: a missing or unreadable file, a byte that is not UTF-8, or a line with fewer
            than two fields or a different number of fields than the first token line (the script
            stops there too).
    """
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    gold_sent: list[str] = []
    pred_sent: list[str] = []
    n_fields = None
    # read_utf8: a missing file, a non-UTF-8 byte or a BOM as every reader handles them; newline=None
    # splits lines as open() does (\n, \r\n or \r)
    with io.StringIO(read_utf8(path), newline=None) as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if fields and fields[0] == _DOCSTART:
                continue
            if not fields or fields[0] == _BOUNDARY_FIELD:
                if gold_sent:
                    gold.append(gold_sent)
                    pred.append(pred_sent)
                gold_sent, pred_sent = [], []
                continue
            if len(fields) < 2:
                raise DataError(str(path), line_no, "expected at least 2 fields (gold, predicted)")
            if n_fields is None:
                n_fields = len(fields)
            elif len(fields) != n_fields:
                raise DataError(
                    str(path), line_no, f"expected {n_fields} fields, found {len(fields)}"
                )
            gold_sent.append(fields[-2])
            pred_sent.append(fields[-1])
    if gold_sent:
        gold.append(gold_sent)
        pred.append(pred_sent)
    return gold, pred
