"""Chunk tag schemes (IOB1, IOB2, IOBES): validation, lossless conversion, spans and CRF constraints.

Corpora arrive in different schemes (CoNLL-2003 in IOB1, its common copies and WNUT in IOB2) and
a model may learn better in another (IOBES), so every scheme is read through one chunk reader and
written back from the chunks: conversion is then lossless by construction, and span scoring agrees
with what conversion does.

The chunk reader follows conlleval, so scores and conversions never disagree with the official
scorer: a chunk starts at B- or S-, at a tag whose type differs from the previous token's, or after
O, E- or S- (so an I-X after O, or at the start of a sentence, starts a chunk even in IOB2); it ends
before a token that starts a new chunk, before O, and after E- or S-. IOB1 and IOB2 are read alike;
they differ only in how chunks are written (IOB1 uses B- only to separate two adjacent chunks of the
same type, as in the original CoNLL-2003 files).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

SCHEMES = ("none", "iob1", "iob2", "iobes")

# Prefixes each chunk scheme allows besides the bare "O".
_PREFIXES = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}
_EXPECTED = {
    "iob1": "an IOB1 tag (O, B-TYPE or I-TYPE)",
    "iob2": "an IOB2 tag (O, B-TYPE or I-TYPE)",
    "iobes": "an IOBES tag (O, B-TYPE, I-TYPE, E-TYPE or S-TYPE)",
}


def check_scheme(scheme: str) -> None:
    """Raise ValueError for an unknown scheme name, so a typo fails before any data is read."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")


def _parse(tag: str) -> tuple[str, str] | None:
    """Split a tag into (prefix, type): ("O", "") for O, ("B", "PER") for B-PER; None if not IOB-shaped.

    Only the first hyphen separates, because types may contain hyphens (WNUT's ``creative-work``).
    """
    if tag == "O":
        return "O", ""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return None


def tag_error(tag: str, scheme: str) -> str | None:
    """Say why ``tag`` is not a tag of ``scheme``, or return None when it is.

    Readers call this on every tag so a corpus in the wrong scheme (or a shifted column) is reported
    at its first bad line instead of silently training on garbage labels. Under "none" (plain labels
    such as POS tags) any non-empty string is a tag.

    Args:
        tag: The tag as read from the file.
        scheme: One of SCHEMES.

    Returns:
        None if valid, else a one-line message like
        ``expected an IOB2 tag (O, B-TYPE or I-TYPE), found 'X-PER'``.
    """
    check_scheme(scheme)
    if scheme == "none":
        return None if tag else "expected a non-empty tag, found ''"
    parsed = _parse(tag)
    if parsed is not None and (parsed[0] == "O" or parsed[0] in _PREFIXES[scheme]):
        return None
    return f"expected {_EXPECTED[scheme]}, found {tag!r}"


def parse_tags(tags: Sequence[str], scheme: str) -> list[tuple[str, str]]:
    """Parse a chunk-scheme sequence, raising ValueError at the first tag the scheme does not allow."""
    if scheme == "none":
        raise ValueError("tag scheme 'none' has no chunks: use iob1, iob2 or iobes")
    parsed = []
    for position, tag in enumerate(tags):
        message = tag_error(tag, scheme)
        if message is not None:
            raise ValueError(f"tag {position}: {message}")
        parsed.append(_parse(tag))
    return parsed


def spans(tags: Sequence[str], scheme: str) -> list[tuple[str, int, int]]:
    """Read the chunks of a tag sequence the way conlleval does.

    Args:
        tags: One sentence's tags.
        scheme: "iob1", "iob2" or "iobes" ("none" has no chunks and raises ValueError).

    Returns:
        (type, start, end) triples, end exclusive, in sentence order.

    Raises:
        ValueError: A tag is not valid in ``scheme``.
    """
    check_scheme(scheme)
    result: list[tuple[str, int, int]] = []
    start: int | None = None
    current, previous = "", "O"
    for position, (prefix, kind) in enumerate(parse_tags(tags, scheme)):
        if prefix == "O" or prefix in "BS" or previous in "OES" or kind != current:
            if start is not None:
                result.append((current, start, position))
            start = None if prefix == "O" else position
            current = kind
        if prefix in "ES":
            result.append((current, start, position + 1))
            start = None
        previous = prefix
    if start is not None:
        result.append((current, start, len(tags)))
    return result


def _write(chunks: Sequence[tuple[str, int, int]], length: int, scheme: str) -> list[str]:
    """Write chunks as tags of ``scheme``; the inverse of spans() for well-formed sequences."""
    tags = ["O"] * length
    previous_end, previous_kind = -1, None
    for kind, start, end in chunks:
        inside = f"I-{kind}"
        tags[start:end] = [inside] * (end - start)
        if scheme == "iobes":
            if end - start == 1:
                tags[start] = f"S-{kind}"
            else:
                tags[start], tags[end - 1] = f"B-{kind}", f"E-{kind}"
        elif scheme == "iob2" or (start == previous_end and kind == previous_kind):
            tags[start] = f"B-{kind}"
        previous_end, previous_kind = end, kind
    return tags


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Convert one sentence's tags between chunk schemes without losing any chunk.

    Conversion goes through the chunks (see spans()), so ill-formed but valid input is normalized
    the way conlleval would read it (IOB2 ``O I-PER`` becomes ``O B-PER``), and round trips such as
    iob1 -> iob2 -> iob1 or iob2 -> iobes -> iob2 give back well-formed input unchanged.

    Args:
        tags: One sentence's tags in ``source``.
        source: The scheme of ``tags``.
        target: The scheme wanted; "none" converts only to itself.

    Returns:
        The tags in ``target``; a copy of ``tags`` when source == target.

    Raises:
        ValueError: Unknown scheme, "none" paired with a chunk scheme, or a tag invalid in ``source``.
    """
    check_scheme(source)
    check_scheme(target)
    if source == target:
        if source != "none":
            parse_tags(tags, source)
        return list(tags)
    if "none" in (source, target):
        raise ValueError(f"cannot convert tags from {source!r} to {target!r}: 'none' has no chunks")
    return _write(spans(tags, source), len(tags), target)


def _may_follow(previous: tuple[str, str], tag: tuple[str, str], scheme: str) -> bool:
    """Whether ``tag`` may directly follow ``previous`` in a well-formed sequence of ``scheme``."""
    (prev_prefix, prev_kind), (prefix, kind) = previous, tag
    if scheme == "iob2":
        return prefix != "I" or (prev_prefix in "BI" and prev_kind == kind)
    if scheme == "iob1":
        return prefix != "B" or (prev_prefix in "BI" and prev_kind == kind)
    if prev_prefix in "BI":  # iobes: an open chunk must continue or close with the same type
        return prefix in "IE" and prev_kind == kind
    return prefix in "OBS"


def allowed_transitions(labels: Sequence[str], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks that confine a linear-chain CRF to well-formed sequences of ``scheme``.

    Without them a CRF trained on IOBES can still decode ``O I-PER E-LOC``, which no scorer reads
    as intended. Labels that are not tags of the scheme (a ``<pad>`` label, say) are left fully
    allowed so the caller can keep such labels in the same output layer.

    Args:
        labels: The output labels, in the model's index order.
        scheme: One of SCHEMES; "none" allows everything.

    Returns:
        ``(transitions, start, end)``: boolean arrays of shapes (L, L), (L,), (L,);
        ``transitions[i, j]`` says label j may follow label i, ``start[j]`` that j may begin a
        sentence, ``end[i]`` that i may end one.
    """
    check_scheme(scheme)
    size = len(labels)
    transitions = np.ones((size, size), dtype=bool)
    start = np.ones(size, dtype=bool)
    end = np.ones(size, dtype=bool)
    if scheme == "none":
        return transitions, start, end
    parsed = [_parse(label) if tag_error(label, scheme) is None else None for label in labels]
    for j, tag in enumerate(parsed):
        if tag is None:
            continue
        prefix = tag[0]
        start[j] = prefix in ("OBS" if scheme == "iobes" else "OB" if scheme == "iob2" else "OI")
        end[j] = scheme != "iobes" or prefix in "OES"
        for i, previous in enumerate(parsed):
            if previous is not None:
                transitions[i, j] = _may_follow(previous, tag, scheme)
    return transitions, start, end


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the tag scheme of a corpus, for ``scheme: auto``.

    Args:
        tag_sequences: The tags of every sentence (any iterable; read once).

    Returns:
        "none" if some tag is not IOB-shaped (POS tags) or there are no tags; "iobes" if any E- or
        S- tag occurs; "iob1" if some chunk starts with I- (after O, another type, or at sentence
        start); otherwise "iob2" (every chunk starts with B-; an all-O corpus lands here too).
    """
    seen = iobes = starts_with_inside = False
    for tags in tag_sequences:
        previous, current = "O", ""
        for tag in tags:
            parsed = _parse(tag)
            if parsed is None:
                return "none"
            seen = True
            prefix, kind = parsed
            iobes = iobes or prefix in "ES"
            if prefix == "I" and (previous in "OES" or kind != current):
                starts_with_inside = True
            previous, current = prefix, kind
    if not seen:
        return "none"
    if iobes:
        return "iobes"
    return "iob1" if starts_with_inside else "iob2"
