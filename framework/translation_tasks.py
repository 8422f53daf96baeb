"""Evaluate and predict with a trained translator run (what recipes/evaluate.py and predict.py call).

Both re-decode with the run's own ``decode`` settings (from its config.yaml); any ``decode.*``
given on the command line replaces that one setting. ``predict`` streams its input in chunks,
so a file of millions of lines needs memory for one chunk only, and logs its progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from framework.data.parallel import ParallelSplit, load_parallel_corpus, read_tsv
from framework.data.subwords import SETTINGS_FILE, Subwords
from framework.errors import ConfigError, DataError
from framework.evaluation.run_metrics import claim_evaluation_name, merge_into_metrics
from framework.inference.translation import DecodeSettings, Translation, translate
from framework.io import atomic_save
from framework.run_loading import require_run_files

log = logging.getLogger(__name__)

CHUNK_BATCHES = 8  # sentences read per chunk = batch_size x this (sorting by length works within a chunk)


@dataclass
class TranslatorRun:
    """Everything evaluate/predict need from a run dir."""

    run_dir: Path
    cfg: Any
    subwords: Subwords
    model: Any


def load_translator_run(run_dir: str | Path) -> TranslatorRun:
    """Load config.yaml, the sentencepiece models and model.keras; a missing piece is a one-line DataError."""
    import framework.models.seq2seq  # noqa: F401 - registers the custom layers for load_model
    from framework.models.precision import load_model

    run_dir = require_run_files(run_dir, {SETTINGS_FILE: "the subword settings"})
    cfg = OmegaConf.load(run_dir / "config.yaml")
    return TranslatorRun(run_dir, cfg, Subwords.load(run_dir), load_model(run_dir / "model.keras"))


def _split_to_score(run: TranslatorRun, split: str, file: str | None) -> tuple[str, ParallelSplit]:
    """(name, pairs): a ``source<TAB>target`` file, or a split of the run's own corpus."""
    if file:
        pairs = read_tsv(file)
        return claim_evaluation_name(split, file, run.run_dir), pairs
    pairs = load_parallel_corpus(run.cfg.data).split(split)
    if not len(pairs):
        raise ConfigError(f"split={split}: the run's corpus has no {split} split (set file=<source<TAB>target file>)")
    return split, pairs


def evaluate_translator(run_dir: Path, settings: Any) -> dict[str, Any]:
    """recipes/evaluate.py for a translation run: re-decode a split, write ``<name>.{src,ref,hyp}.txt``
    and merge the ``<name>/...`` scores (with sacrebleu signatures) into metrics.json.

    ``<name>`` is the split's only when the search is the one training scored it with (the run's
    ``decode`` on test); otherwise it carries the search, e.g. ``test-greedy`` or ``dev-beam5``, so
    that re-decoding never replaces the run's own results (dev/ is greedy on training's dev subset,
    which model selection used). Another file is ``file-<stem>`` under the run's ``decode``, and
    carries the search too under any other.
    """
    from framework.training.translator_run import decode_and_score

    run = load_translator_run(run_dir)
    decode = DecodeSettings.from_config(run.cfg.get("decode"), settings.get("decode"))
    name, pairs = _split_to_score(run, settings.split, settings.file)
    if decode != DecodeSettings.from_config(run.cfg.get("decode")) or (not settings.file and name != "test"):
        name = f"{name}-{decode.short_name()}"
    log.info("decoding %d %s pairs: %s", len(pairs), name, decode.describe())
    scores, _ = decode_and_score(run.model, run.subwords, pairs, name, decode, settings.batch_size, run.run_dir)
    return merge_into_metrics(run.run_dir, scores)


def count_lines(path: Path) -> int:
    """Lines in a file (a last line without a newline counts), read in blocks for large inputs."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def read_chunks(path: str | Path, size: int) -> Iterator[list[str]]:
    """Lists of up to ``size`` lines (UTF-8, CRLF or LF), streamed.

    Raises:
        DataError: a missing or empty file, or a line that is not UTF-8 (line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    if path.stat().st_size == 0:
        raise DataError(path, None, "file is empty")
    chunk: list[str] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                message = f"not UTF-8: byte 0x{raw[err.start]:02x} at column {err.start + 1}"
                raise DataError(path, number, message) from None
            chunk.append((line.removeprefix("\ufeff") if number == 1 else line).rstrip("\r\n"))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def format_output(index: int, nbest: list[Translation], n: int) -> str:
    """The best translation, or ``index ||| text ||| score`` lines (Moses n-best style) when n > 1."""
    if n <= 1:
        return nbest[0].text + "\n"
    return "".join(f"{index} ||| {t.text} ||| {t.score:.4f}\n" for t in nbest)


def predict_translator(run_dir: Path, settings: Any) -> str:
    """recipes/predict.py for a translator: ``input=`` one source sentence a line, ``output=`` one
    translation a line (or an n-best list with ``decode.nbest>1``); written atomically at the end."""
    if not settings.input or not settings.output:
        raise ConfigError("predict for a translator needs input=<one sentence per line> and output=<file>")
    run = load_translator_run(run_dir)
    decode = DecodeSettings.from_config(run.cfg.get("decode"), settings.get("decode"))
    batch_size = max(1, settings.batch_size)
    output = Path(settings.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    total = count_lines(Path(settings.input)) if Path(settings.input).is_file() else 0
    log.info("translating %d lines: %s", total, decode.describe())
    done, start = 0, time.perf_counter()

    def write_translations(tmp: Path) -> None:
        nonlocal done
        with open(tmp, "w", encoding="utf-8") as handle:
            for chunk in read_chunks(settings.input, batch_size * CHUNK_BATCHES):
                for nbest in translate(run.model, run.subwords, chunk, decode, batch_size):
                    handle.write(format_output(done, nbest, decode.nbest))
                    done += 1
                rate = done / max(time.perf_counter() - start, 1e-9)
                log.info("translated %d/%d lines (%.0f%%, %.1f sentences/s)", done, total, 100 * done / max(total, 1),
                         rate)  # fmt: skip

    atomic_save(output, write_translations, suffix=".tmp")
    return f"translated {done} lines -> {output}"
