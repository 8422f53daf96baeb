"""The real corpora in ``../shared/data`` read as their SOURCE.md files describe them, and a short
training on one of them learns (marked ``slow``: ``python3 -m pytest -m slow``; minutes).

The expected counts are the ones each corpus' SOURCE.md states (the official ones); they are read
through the same configs and loaders the recipes use. Skipped where ``../shared/data`` is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from cli_helpers import run_as_user
from framework.cli import plain_config
from framework.config import register_configs
from framework.data.corpus import load_tagging_corpus
from framework.data.parallel import load_parallel_corpus
from framework.data.tagschemes import spans

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data").resolve()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DATA.is_dir(), reason=f"no corpora at {DATA}")]

register_configs()


def _data(data: str, *overrides: str):
    """``data=<data>`` as the recipes compose it, with the shared corpora as paths.data_dir."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", [f"data={data}", f"paths.data_dir={DATA}", f"paths.root_dir={ROOT}", *overrides])
    return plain_config(cfg).data


def _sizes(sentences) -> tuple[int, int]:
    return len(sentences), sum(len(s.words) for s in sentences)


# (data config, (train, dev, test) as (sentences, tokens)), from each folder's SOURCE.md
TAGGING = [
    ("ud_en_ewt", ((12544, 204577), (2001, 25147), (2077, 25094))),
    ("conll2003", ((14041, 203621), (3250, 51362), (3453, 46435))),
    ("conll2003_original", ((14041, 203621), (3250, 51362), (3453, 46435))),
    ("wnut17", ((3394, 62730), (1009, 15733), (1287, 23394))),
]


@pytest.mark.parametrize(("data", "expected"), TAGGING, ids=[name for name, _ in TAGGING])
def test_tagging_corpora_have_their_published_sizes(data, expected):
    corpus = load_tagging_corpus(_data(data))
    assert (_sizes(corpus.train), _sizes(corpus.dev), _sizes(corpus.test)) == expected
    assert all(len(s.tags) == len(s.words) for s in corpus.train)


def test_conll2000_train_and_test_sizes():
    corpus = load_tagging_corpus(_data("conll2000"))  # no dev file: 10% of train is carved off
    assert _sizes(corpus.test) == (2012, 47377)
    assert len(corpus.train) + len(corpus.dev) == 8936
    assert sum(len(s.words) for s in corpus.train + corpus.dev) == 211727


def test_conll2003_entity_counts_and_the_iob1_copy_agree():
    """Train entities LOC 7,140, PER 6,600, ORG 6,321, MISC 3,438 (SOURCE.md), and the original
    IOB1 files with -DOCSTART- lines give the same sentences and spans once converted."""
    iob2, iob1 = load_tagging_corpus(_data("conll2003")), load_tagging_corpus(_data("conll2003_original"))
    counts: dict[str, int] = {}
    for sentence in iob2.train:
        for label, _, _ in spans(sentence.tags, iob2.train_scheme):
            counts[label] = counts.get(label, 0) + 1
    assert counts == {"LOC": 7140, "PER": 6600, "ORG": 6321, "MISC": 3438}
    assert iob1.scheme == "iob1" and iob2.train_scheme == iob1.train_scheme
    for split in ("train", "dev", "test"):
        a, b = getattr(iob2, split), getattr(iob1, split)
        assert [s.words for s in a] == [s.words for s in b]
        assert [s.tags for s in a] == [s.tags for s in b]


def test_multi30k_pairs_are_read_verbatim():
    """Pairs per split, and the whitespace word counts of SOURCE.md's file table (raw text: nothing
    is tokenized or normalized before sentencepiece)."""
    corpus = load_parallel_corpus(_data("multi30k_en_de"))
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (29000, 1014, 1000)
    words = [sum(len(line.split()) for line in lines) for lines in
             (corpus.train.sources, corpus.train.targets, corpus.dev.sources, corpus.dev.targets)]  # fmt: skip
    assert words == [345020, 322383, 12167, 11568]


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_one_epoch_of_the_pos_recipe_on_ud_ewt_learns(tmp_path, precision):
    """The shipped POS experiment, one epoch on the full treebank (its budget is 20): the test
    set is scored and already well above the majority-tag baseline (NOUN, about 17%), in float32
    and under mixed precision (README "Mixed precision")."""
    overrides = ["experiment=pos_ud_ewt", f"paths.data_dir={DATA}", "trainer.epochs=1", f"hydra.run.dir={tmp_path}",
                 f"trainer.precision={precision}"]  # fmt: skip
    done = run_as_user("train", *overrides, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["test/tokens"] == 25094
    assert metrics["test/accuracy"] > 0.85, metrics["test/accuracy"]
    assert (tmp_path / "report.html").is_file()
