"""Runs side by side: ``compare.md`` / ``compare.html`` from ``recipes/compare.py run_dirs=[a,b]``.

The first run is the baseline: deltas are ``run - baseline``. The report shows the metrics,
the config keys that differ (the only thing a reader needs to know about the configs), and
per task what moved: per-label F1 for taggers, a paired bootstrap test and the most different
sentences for translators.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from framework.data.text_files import read_json_object, read_utf8, yaml_data_error
from framework.errors import DataError
from framework.reporting import compare_translation as translation
from framework.reporting.document import Document

SUMMARY_KEYS = ("status", "objective_name", "objective", "epochs", "best_epoch", "train/seconds")
SPAN_TASKS = ("ner", "chunk")
_DETAIL_SUFFIXES = ("_ci_low", "_ci_high", "/sentences", "/tokens")  # in each run's own report


@dataclass
class Run:
    """A run dir's name, resolved config (flattened to dotted keys) and metrics."""

    name: str
    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay values."""
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def load_run(path: str | Path) -> Run:
    """Read a run dir (config.yaml required, metrics.json when training finished)."""
    path = Path(path)
    if not (path / "config.yaml").is_file():
        raise DataError(path, None, "not a run dir (no config.yaml)")
    config = _read_config(path / "config.yaml")
    metrics_path = path / "metrics.json"
    metrics = read_json_object(metrics_path, "metrics") if metrics_path.is_file() else {}
    return Run(path.name, path, flatten(config), metrics)


def _read_config(path: Path) -> dict[str, Any]:
    """A run's resolved config: a YAML mapping (a one-line DataError when it is not)."""
    text = read_utf8(path)
    expected = "expected a YAML mapping of config keys"
    try:
        config = OmegaConf.to_container(OmegaConf.load(io.StringIO(text)), resolve=False)
    except yaml.YAMLError as err:
        raise yaml_data_error(path, err) from None
    except OSError:  # OmegaConf's "Invalid loaded object type": a scalar document
        raise DataError(path, None, f"{expected}, found a single value") from None
    if not isinstance(config, dict):
        raise DataError(path, None, f"{expected}, found a list")
    return config


def _unique_names(runs: list[Run]) -> None:
    """Name runs by dir name, prefixed by their parent where two dir names clash."""
    names = [r.name for r in runs]
    for run in runs:
        if names.count(run.name) > 1:
            run.name = f"{run.path.parent.name}/{run.path.name}"
    for index, run in enumerate(runs):
        if [r.name for r in runs].count(run.name) > 1:
            run.name = f"{index + 1}:{run.name}"


def _delta(value: Any, base: Any) -> Any:
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, base))
    return value - base if numeric else ""


def metric_rows(runs: list[Run]) -> tuple[list[str], list[list[Any]]]:
    """Metric per row, one column per run, and the last run's delta to the baseline."""
    keys = [k for k in SUMMARY_KEYS if any(k in r.metrics for r in runs)]
    for run in runs:
        keys += [k for k in run.metrics if k.startswith(("dev/", "test/")) and k.count("/") == 1
                 and not k.endswith(_DETAIL_SUFFIXES) and k not in keys]  # fmt: skip
    columns = ["metric", *(r.name for r in runs), f"delta ({runs[-1].name} - {runs[0].name})"]
    apart = len({str(r.metrics.get("objective_name")) for r in runs}) > 1  # no delta between two metrics
    rows = [[k, *(r.metrics.get(k, "") for r in runs),
             "" if apart and k == "objective" else _delta(runs[-1].metrics.get(k), runs[0].metrics.get(k))]
            for k in keys]  # fmt: skip
    return columns, rows


TEST_DATA_KEYS = ("test", "test_src", "test_tgt", "file")


def _is_test_data(key: str) -> bool:
    return key.startswith("data.") and key.rsplit(".", 1)[-1] in TEST_DATA_KEYS


def comparability_notes(runs: list[Run]) -> list[str]:
    """Why the runs' scores may not be comparable: other tasks, other objectives, other test data."""
    notes = []
    for key, what in (("task", "tasks"), ("objective_name", "objectives")):
        values = sorted({str(r.metrics.get(key)) for r in runs})
        if len(values) > 1:
            notes.append(f"The runs have different {what} ({', '.join(values)}): their scores are not comparable.")
    tested_on = {repr(sorted((k, v) for k, v in r.config.items() if _is_test_data(k))) for r in runs}
    if len(tested_on) > 1:
        notes.append("The runs were tested on different data (see Config differences): "
                     "their test scores are not on the same sentences.")  # fmt: skip
    return notes


def config_diff(runs: list[Run]) -> list[list[Any]]:
    """The config keys whose values differ between runs, one column per run."""
    keys: dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run.config))
    missing = "(not set)"
    return [[k, *(str(r.config.get(k, missing)) for r in runs)] for k in sorted(keys)
            if len({repr(r.config.get(k, missing)) for r in runs}) > 1]  # fmt: skip


def per_label_f1(run: Run) -> dict[str, float]:
    """Test F1 per label: ``test/f1/<type>`` from metrics.json, else scored from test predictions.

    Span tasks (NER, chunking) score conlleval's per-type span F1; POS tagging token F1.
    """
    from_metrics = {k.split("/", 2)[2]: v for k, v in run.metrics.items() if k.startswith("test/f1/")}
    if from_metrics:
        return from_metrics
    path = run.path / "test.predictions.conll"
    if not path.is_file():
        return {}
    from framework.data.tagschemes import detect_scheme
    from framework.evaluation import conlleval
    from framework.evaluation.tagger_eval import conlleval_ready
    from framework.evaluation.token_metrics import per_label_scores

    gold, pred = conlleval.read_conlleval_file(path)
    task = run.metrics.get("task") or run.config.get("data.task")
    if task in SPAN_TASKS:
        scheme = detect_scheme(gold)  # IOBES is scored as the same chunks in IOB2: conlleval has no S- rule
        try:
            gold, pred = conlleval_ready(gold, pred, scheme)
        except ValueError as err:
            raise DataError(path, None, f"cannot read the tags as {scheme}: {err}") from None
        return {t: s.f1 for t, s in conlleval.evaluate(gold, pred).per_type.items()}
    return {label: s["f1"] for label, s in per_label_scores(gold, pred).items()}


def label_rows(runs: list[Run]) -> list[list[Any]]:
    """Per-label F1 of every run and the last run's delta, biggest changes first."""
    scores = [per_label_f1(r) for r in runs]
    labels = sorted({label for s in scores for label in s})
    rows = [[label, *(s.get(label, "") for s in scores), _delta(scores[-1].get(label), scores[0].get(label))]
            for label in labels]  # fmt: skip
    return sorted(rows, key=lambda row: -abs(row[-1]) if row[-1] != "" else 0.0)


def _add_translation(doc: Document, runs: list[Run], bootstrap: int, examples: int, seed: int) -> None:
    if not all(translation.has_translations(r.path) for r in runs):
        return
    refs, systems = translation.load_systems([r.path for r in runs], [r.name for r in runs])
    doc.heading("Translation: paired bootstrap")
    doc.paragraph(f"sacrebleu paired bootstrap resampling, {bootstrap} samples, seed {seed}; "
                  f"p-values test each system against {runs[0].name}.")  # fmt: skip
    rows = translation.paired_bootstrap(refs, systems, bootstrap, seed)
    doc.table(["system", "BLEU", "mean ± 95% CI", "p-value"], rows)
    header, different = translation.differing_sentences(refs, systems, examples)
    doc.heading("Sentences where the systems differ most")
    if not different:
        doc.paragraph("The first two systems' translations are identical.")
    for row in different:
        doc.table(["", "text"], [list(field) for field in zip(header, row)])


def build_comparison(runs: list[Run], bootstrap: int = 1000, examples: int = 10, seed: int = 12345) -> Document:
    """The comparison document of ``runs`` (the first is the baseline)."""
    doc = Document(f"Comparison: {', '.join(r.name for r in runs)}")
    doc.paragraph("\n".join(f"{r.name}: {r.path}" for r in runs) + f"\nDeltas are against the baseline {runs[0].name}.")
    notes = comparability_notes(runs)
    if notes:
        doc.heading("Warning").paragraph("\n".join(notes))
    columns, rows = metric_rows(runs)
    doc.heading("Metrics").table(columns, rows)
    differing = config_diff(runs)
    doc.heading("Config differences")
    if differing:
        doc.table(["key", *(r.name for r in runs)], differing)
    else:
        doc.paragraph("The resolved configs are identical.")
    labels = label_rows(runs)
    if labels:
        doc.heading("Per-label test F1")
        doc.table(["label", *(r.name for r in runs), "delta"], labels, caption="Largest changes first")
    _add_translation(doc, runs, bootstrap, examples, seed)
    return doc


def write_comparison(run_dirs: list[str | Path], output_dir: str | Path | None = None, bootstrap: int = 1000,
                     examples: int = 10, seed: int = 12345) -> list[Path]:  # fmt: skip
    """Write ``compare.md`` and ``compare.html`` into ``output_dir`` (default ``<first run>/compare``)."""
    if len(run_dirs) < 2:
        raise DataError(", ".join(map(str, run_dirs)) or "run_dirs", None, "give at least two run dirs to compare")
    runs = [load_run(p) for p in run_dirs]
    _unique_names(runs)
    output = Path(output_dir) if output_dir else Path(run_dirs[0]) / "compare"
    return build_comparison(runs, bootstrap, examples, seed).save(output, stem="compare")
