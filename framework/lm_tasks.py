"""Evaluate and generate with a trained language-model run (what recipes/evaluate.py and predict.py call).

``evaluate``: perplexity of the best model on a split of the run's corpus (``split=dev``) or on
another text file (``file=...``), merged into the run's metrics.json. ``predict``: continue
``prompt=`` (or start from nothing) with the ``generate.*`` settings; the text goes to
``output=`` or, when that is unset, back to the recipe, which prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.text_corpus import LMVocab, load_text_corpus, read_text_lines, token_stream
from framework.errors import ConfigError
from framework.evaluation.lm_eval import perplexity_metrics
from framework.evaluation.run_metrics import claim_evaluation_name, merge_into_metrics
from framework.inference.generation import format_samples, generate
from framework.inference.sampling import SamplingSettings
from framework.io import atomic_write_text
from framework.run_loading import require_run_files


@dataclass
class LanguageModelRun:
    """Everything evaluate/predict need from a language-model run dir."""

    run_dir: Path
    cfg: Any
    vocab: LMVocab
    model: Any


def load_lm_run(run_dir: str | Path) -> LanguageModelRun:
    """Load config.yaml, vocab.json (+ sentencepiece.model) and model.keras; a missing piece is a DataError."""
    from omegaconf import OmegaConf

    import framework.models.language_model  # noqa: F401 - registers LanguageModel for load_model
    from framework.models.precision import load_model

    run_dir = require_run_files(run_dir, {})
    vocab = LMVocab.load(run_dir)
    return LanguageModelRun(run_dir, OmegaConf.load(run_dir / "config.yaml"), vocab,
                            load_model(run_dir / "model.keras"))  # fmt: skip


def evaluate_language_model(run_dir: Path, settings: Any) -> dict[str, Any]:
    """recipes/evaluate.py for a language model: perplexity on ``split`` or on ``file``."""
    run = load_lm_run(run_dir)
    if settings.file:
        lines = read_text_lines(settings.file)
        name = claim_evaluation_name(settings.split, settings.file, run.run_dir)
    else:
        corpus = load_text_corpus(run.cfg.data)
        lines, name = getattr(corpus, settings.split), settings.split
        if not lines:
            raise ConfigError(f"split={settings.split}: the run's corpus has no {settings.split} text (set file=<path>)")
    stream = token_stream(run.vocab, lines)
    scores = perplexity_metrics(run.model, stream, name)
    scores[f"{name}/unk_rate"] = float(np.mean(stream[1:] == run.vocab.vocab.unk_id))
    return merge_into_metrics(run.run_dir, scores)


def _sampling(generate_cfg: Any) -> SamplingSettings:
    try:
        return SamplingSettings(generate_cfg.temperature, generate_cfg.top_k, generate_cfg.top_p)
    except ValueError as err:
        raise ConfigError(f"generate: {err}") from None


def predict_language_model(run_dir: Path, settings: Any) -> str:
    """recipes/predict.py for a language model: the generated text, or where it was written."""
    if settings.input:
        raise ConfigError("a language model continues prompt=\"...\" (or nothing); it reads no input= file")
    options = settings.generate
    if options.samples < 1 or options.max_tokens < 0:
        raise ConfigError("generate.samples must be >= 1 and generate.max_tokens >= 0")
    sampling = _sampling(options)
    run = load_lm_run(run_dir)
    seeds = [options.seed + i for i in range(options.samples)]
    samples = generate(run.model, run.vocab, settings.prompt or "", options.max_tokens, sampling, seeds)
    text = samples[0].text + "\n" if len(samples) == 1 else format_samples(samples)
    if not settings.output:
        return text.rstrip("\n")
    atomic_write_text(settings.output, text)
    return f"generated {len(samples)} sample(s) of {options.max_tokens} tokens -> {settings.output}"
