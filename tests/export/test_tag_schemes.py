"""The exported tagger's in-graph scheme conversion against framework.data.tagschemes.convert,
on random (mostly ill-formed) sequences of every pair of chunk schemes."""

from __future__ import annotations

import random

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from framework.data import tagschemes  # noqa: E402
from framework.export.tag_schemes import tag_strings  # noqa: E402

PREFIXES = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}


@pytest.mark.parametrize("source", ["iob1", "iob2", "iobes"])
@pytest.mark.parametrize("target", ["iob1", "iob2", "iobes"])
def test_random_sequences_convert_as_in_python(source, target):
    rng = random.Random(f"{source}-{target}")
    tags = ["O"] + [f"{p}-{kind}" for kind in ("PER", "creative-work") for p in PREFIXES[source]]
    lengths = [rng.randint(1, 8) for _ in range(300)]
    ids = np.zeros((len(lengths), 8), np.int32)
    for row, n in enumerate(lengths):
        ids[row, :n] = [rng.randrange(len(tags)) for _ in range(n)]
    mask = np.arange(8)[None, :] < np.array(lengths)[:, None]
    got = tag_strings(tf.constant(ids), tf.constant(mask), tags, source, target).numpy()
    for row, n in enumerate(lengths):
        expected = tagschemes.convert([tags[i] for i in ids[row, :n]], source, target) + [""] * (8 - n)
        assert [t.decode() for t in got[row]] == expected, [tags[i] for i in ids[row, :n]]


def test_plain_labels_pass_unchanged():
    got = tag_strings(tf.constant([[1, 0, 0]]), tf.constant([[True, True, False]]), ["NOUN", "VERB"], "none", "none")
    assert got.numpy().tolist() == [[b"VERB", b"NOUN", b""]]
