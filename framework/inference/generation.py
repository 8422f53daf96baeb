"""Generate text from a language model: read the prompt once, then one stateful step per token.

The prompt (or nothing: the start of a line) is run through the model in one call, which gives
the next-token logits and the per-layer states; after that every new token is fed alone with
the carried states (``LanguageModel.step``). Several samples run as one batch, each row with its
own seeded generator, so a sample depends only on its seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from framework.data.text_corpus import LMVocab
from framework.inference.graph import graph_function
from framework.inference.sampling import SamplingSettings, sample_tokens


@dataclass(frozen=True)
class Generation:
    """One sample: the settings that made it, the generated ids and the text (prompt included)."""

    prompt: str
    seed: int
    temperature: float
    token_ids: tuple[int, ...]
    text: str


def banned_ids(vocab: LMVocab) -> list[int]:
    """Ids never generated: padding, and <unk> (which would print as a placeholder, not a word)."""
    return [0] + ([vocab.vocab.unk_id] if vocab.vocab.specials else [])


def generate(
    model,
    vocab: LMVocab,
    prompt: str = "",
    max_tokens: int = 40,
    settings: SamplingSettings = SamplingSettings(),
    seeds: Sequence[int] = (0,),
) -> list[Generation]:
    """Continue ``prompt`` ``len(seeds)`` times, ``max_tokens`` tokens each.

    Args:
        model: a LanguageModel (anything with ``run`` and ``step``).
        vocab: the run's tokeniser and vocabulary.
        prompt: text to continue; "" starts from the beginning of a line.
        max_tokens: tokens to generate per sample (end-of-line tokens included).
        settings: temperature (0 = greedy), top-k and top-p.
        seeds: one numpy seed per sample.

    Returns:
        One Generation per seed, in order; ``text`` is the decoded prompt plus its continuation.
    """
    if max_tokens < 0:
        raise ValueError(f"max_tokens must be >= 0, got {max_tokens}")
    context = vocab.encode_prompt(prompt)
    batch = len(seeds)
    rngs = [np.random.default_rng(seed) for seed in seeds]
    step = graph_function(model, "step")
    logits, states = graph_function(model, "run")(np.tile(np.asarray(context, dtype=np.int32), (batch, 1)), None)
    logits = keras.ops.convert_to_numpy(logits)[:, -1, :]
    banned = banned_ids(vocab)
    generated = np.zeros((batch, max_tokens), dtype=np.int32)
    for position in range(max_tokens):
        logits = keras.ops.convert_to_numpy(logits).astype(np.float64)
        logits[:, banned] = -np.inf
        tokens = sample_tokens(logits, settings, rngs).astype(np.int32)
        generated[:, position] = tokens
        if position + 1 < max_tokens:
            logits, states = step(tokens, states)
    shown_prompt = vocab.decode_ids(context[1:])
    return [
        Generation(prompt, int(seed), settings.temperature, tuple(int(i) for i in row),
                   with_prompt_as_typed(prompt, shown_prompt, vocab.decode_ids(context[1:] + list(row))))  # fmt: skip
        for seed, row in zip(seeds, generated)
    ]


def with_prompt_as_typed(prompt: str, decoded_prompt: str, decoded: str) -> str:
    """``decoded`` (prompt and continuation) with the prompt as the user typed it, not as the
    vocabulary saw it (lowercased, ``<unk>`` for unknown words); the continuation is joined to
    it as the tokenizer would join it."""
    if not decoded.startswith(decoded_prompt):
        return decoded
    if not decoded_prompt.endswith((" ", "\n")):
        prompt = prompt.rstrip(" ")
    return prompt + decoded[len(decoded_prompt):]


def format_samples(samples: Sequence[Generation]) -> str:
    """Samples as text, each under a header naming its temperature, seed and prompt."""
    blocks = []
    for sample in samples:
        header = f"=== temperature {sample.temperature:g}, seed {sample.seed}, prompt {sample.prompt!r} ==="
        blocks.append(f"{header}\n{sample.text}\n")
    return "\n".join(blocks)
