"""Score a split with a trained tagger and write its conlleval-format predictions file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from framework.data.readers import Sentence, write_columns
from framework.data.vocab import TaggerVocabs
from framework.evaluation.tagger_eval import TaggingScores, predict_tags, score_tagging, to_input_scheme


def score_sentences(
    model, vocabs: TaggerVocabs, sentences: list[Sentence], train_scheme: str, scheme: str, task: str,
    split: str, batch_size: int, predictions_path: Path,
) -> tuple[TaggingScores, float, list[tuple]]:  # fmt: skip
    """Tag ``sentences``, write ``word gold predicted`` lines in the input scheme, and score them.

    Returns the scores, the tagging time in seconds, and (words, gold, predicted) triples for
    the report's examples.
    """
    start = time.perf_counter()
    predicted = predict_tags(model, vocabs, [s.words for s in sentences], batch_size, [s.features for s in sentences])
    seconds = time.perf_counter() - start
    gold = to_input_scheme([list(s.tags) for s in sentences], train_scheme, scheme)
    predicted = to_input_scheme(predicted, train_scheme, scheme)
    words = [list(s.words) for s in sentences]
    write_columns(predictions_path, words, gold, predicted)
    scores = score_tagging(gold, predicted, task, split, scheme=scheme)
    return scores, seconds, list(zip(words, gold, predicted))


def write_split_outputs(model, vocabs: TaggerVocabs, corpus, split: str, run_dir: Path, cfg: Any):
    """``score_sentences`` for a corpus split into ``<run_dir>/<split>.predictions.conll``."""
    scores, seconds, examples = score_sentences(
        model, vocabs, getattr(corpus, split), corpus.train_scheme, corpus.scheme, cfg.data.task, split,
        cfg.trainer.eval_batch_size, run_dir / f"{split}.predictions.conll",
    )  # fmt: skip
    return scores, seconds, examples
