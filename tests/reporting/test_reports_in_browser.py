"""Reports open in a real browser: headless Chromium renders their tables and images, no console errors.

Skipped when no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import json

import pytest
from chromium_cdp import Browser, find_chromium

from framework.reporting import plots
from framework.reporting.document import Document

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")

PAGE_FACTS = """JSON.stringify({
  tables: document.querySelectorAll('table').length,
  rows: document.querySelectorAll('tbody tr').length,
  images: Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth})),
  scripts: document.scripts.length,
  title: document.title,
})"""


def _facts(path):
    with Browser(CHROMIUM) as browser:
        session = browser.load(path)
        facts = json.loads(browser.evaluate(session, PAGE_FACTS))
        return facts, browser.problems()


def _fake_sweep(sweep):
    """Three trials as Hydra leaves them: two finished with histories, one failed."""
    trials = (("0", 16, {"status": "ok", "objective": 0.5}),
              ("1", 32, {"status": "failed", "error": "<script>console.error('x')</script>"}),
              ("2", 64, {"status": "ok", "objective": 0.7}))  # fmt: skip
    for name, units, metrics in trials:
        (sweep / name / ".hydra").mkdir(parents=True)
        (sweep / name / ".hydra" / "overrides.yaml").write_text(f"- model.rnn.units={units}\n")
        metrics.update(objective_name="dev/accuracy", objective_direction="maximize")
        (sweep / name / "metrics.json").write_text(json.dumps(metrics))
        history = [{"epoch": 1, "loss": 2.0, "dev/accuracy": 0.4}, {"epoch": 2, "loss": 1.0, "dev/accuracy": 0.6}]
        (sweep / name / "history.json").write_text(json.dumps(history))
    return sweep


def test_sweep_report_renders(tmp_path):
    from framework.reporting.sweep_report import write_sweep_report

    sweep = _fake_sweep(tmp_path / "sweep")
    write_sweep_report(sweep)
    facts, problems = _facts(sweep / "sweep_report.html")
    assert problems == []
    assert facts["tables"] >= 3 and facts["rows"] >= 3
    assert facts["images"] and all(i["complete"] and i["width"] > 0 for i in facts["images"])
    assert facts["scripts"] == 0 and facts["title"].startswith("Sweep report")


def test_hostile_text_stays_text(tmp_path):
    doc = Document("<script>alert(1)</script>")
    doc.table(["<img src=x onerror=alert(1)>"], [["</table><script>console.error('x')</script>"]])
    doc.image("curve", plots.learning_curves({"loss": [2.0, 1.0]}), "<b>alt</b>")
    html_path = doc.save(tmp_path)[1]
    facts, problems = _facts(html_path)
    assert problems == []
    assert facts["scripts"] == 0 and facts["tables"] == 1 and len(facts["images"]) == 1
    assert facts["images"][0]["width"] > 0


def test_compare_report_renders(tmp_path):
    from framework.reporting.compare_report import write_comparison

    runs = []
    for name, cell, accuracy in (("a", "lstm", 0.5), ("b", "gru", 0.6)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.yaml").write_text(f"model: {{rnn: {{cell: {cell}}}}}\n")
        (run / "metrics.json").write_text(json.dumps({"status": "ok", "test/accuracy": accuracy}))
        runs.append(run)
    html_path = write_comparison(runs, tmp_path / "out")[1]
    facts, problems = _facts(html_path)
    assert problems == []
    assert facts["tables"] == 2 and facts["rows"] >= 3 and facts["scripts"] == 0
