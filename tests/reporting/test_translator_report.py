"""The attention heatmap and the translator report, without training."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.data.parallel import ParallelSplit
from framework.inference.translation import Translation
from framework.reporting.document import PNG_SIGNATURE
from framework.reporting.plots import attention_heatmap
from framework.reporting.translator_report import length_rows, write_translator_report


def test_attention_heatmap_draws_tokens_literally_and_checks_its_input():
    weights = np.full((3, 4), 0.25)
    png = attention_heatmap(["▁$x$", "<b>", "_", "</s>"], ["▁Ein", "$", "</s>"], weights)
    assert png.startswith(PNG_SIGNATURE)
    long = np.full((70, 80), 1 / 80)
    assert attention_heatmap([str(i) for i in range(80)], [str(i) for i in range(70)], long).startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="does not match"):
        attention_heatmap(["a"], ["b", "c"], weights)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attention_heatmap(["a"], ["b"], np.array([[1.5]]))


def test_length_rows_bucket_by_source_words():
    rows = length_rows(["a b", "a b c d e f g h i j k l"], ["x y", "x y z"], ["x y", "x"])
    assert [row[0] for row in rows] == ["all", "1–10", "11–20"]
    assert rows[0][1:6] == [2, 7.0, 2.5, 1.5, 0.6]


def test_report_escapes_data_and_lists_signatures(tmp_path):
    cfg = OmegaConf.create({"experiment_name": "e", "model": {"name": "m"},
                            "data": {"name": "d", "src_lang": "en", "tgt_lang": "de", "max_length": 80,
                                     "subword_model": "unigram"}})  # fmt: skip
    test = ParallelSplit(["<script>alert(1)</script> a | b"], ["Ein *Hund*"])
    translations = [[Translation("Ein <b>Hund</b>", (5, 6), -1.0)]]
    metrics = {"objective_name": "dev/bleu", "dev/bleu": 1.0, "test/bleu": 2.0, "test/bleu_ci_low": 1.0,
               "test/bleu_ci_high": 3.0, "test/chrf": 10.0, "test/ter": 90.0, "test/bleu_brevity_penalty": 1.0,
               "test/length_ratio": 1.0, "test/decode": "beam 5", "test/sentences": 1,
               "test/bleu_signature": "nrefs:1|case:mixed"}  # fmt: skip
    history = [{"loss": 3.0, "dev/bleu": 1.0}, {"loss": 2.0, "dev/bleu": 1.5}]
    write_translator_report(tmp_path, cfg, metrics, history, {"python": "3"}, None, None, test, translations)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Hund" in page
    assert "nrefs:1\\|case:mixed" in markdown and "2.00 (95% CI 1.00–3.00)" in markdown
    assert (tmp_path / "plots" / "learning_curves.png").is_file()
