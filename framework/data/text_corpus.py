"""Plain-text corpora for language models: lines, held-out split, tokenisers, vocabulary, windows.

A corpus file is UTF-8 text with one verse (or sentence) per line. Whitespace-only lines (e.g.
Poe's lines of U+2009 thin spaces) are blank, and a run of blank lines is one stanza break. Every
line ends with an explicit end-of-line token (``<eol>`` for words and pieces, ``"\\n"`` for
characters), so a model learns where verses break and generated text keeps its line breaks.

Three tokenisers share one interface (``tokenize_line`` / ``detokenize_line``): ``word`` (optional
lowercasing and punctuation split), ``char``, and ``sentencepiece`` (unigram or BPE, trained on the
train split only with the sentencepiece Python API; the model file is saved in the run dir). The
vocabulary is built from the train split only and saved as ``vocab.json``.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framework.data.readers import _read_lines
from framework.data.vocab import Vocabulary
from framework.errors import ConfigError, DataError
from framework.io import atomic_write_bytes, atomic_write_json

EOL = "<eol>"
VOCAB_FILE = "vocab.json"
SENTENCEPIECE_FILE = "sentencepiece.model"

_WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = set(".,;:!?)]}’”…")
_NO_SPACE_AFTER = set("([{‘“")


# ----------------------------------------------------------------------------------------- lines
def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a text file, stripped, with every run of blank lines reduced to one "".

    Leading and trailing blank lines are dropped, so the text starts and ends with a verse.

    Raises:
        DataError: missing file, non-UTF-8 bytes (``file:line``), or no non-blank line.
    """
    lines: list[str] = []
    for raw in _read_lines(path):
        line = raw.strip()  # str.strip also removes U+2009 and the other Unicode spaces
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise DataError(path, None, "file is empty: expected text, one verse or sentence per line")
    return lines


@dataclass(frozen=True)
class TextCorpus:
    """The lines of each split ("" = a blank line) and where the dev text came from."""

    name: str
    train: list[str]
    dev: list[str]
    test: list[str]
    dev_source: str


def hold_out_tail(lines: Sequence[str], fraction: float, path: str) -> tuple[list[str], list[str]]:
    """Split off the last ``fraction`` of the lines (the end of the text, never shuffled).

    A contiguous tail keeps poems whole on both sides, so dev perplexity measures how well the
    model predicts unseen verse rather than lines it saw the neighbours of.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"data.dev_fraction must be in (0, 1) when data.dev is null, got {fraction}")
    cut = len(lines) - max(1, round(len(lines) * fraction))
    train, dev = list(lines[:cut]), list(lines[cut:])
    while dev and not dev[0]:  # a stanza break at the cut belongs to neither side
        dev.pop(0)
    while train and not train[-1]:
        train.pop()
    if not any(train) or not any(dev):
        raise DataError(path, None, f"{len(lines)} lines are too few to hold out dev_fraction={fraction}")
    return train, dev


def load_text_corpus(data: Any) -> TextCorpus:
    """Read train (and dev/test files, if set) of a LanguageModelDataConfig."""
    lines = read_text_lines(data.train)
    if data.dev:
        train, dev, dev_source = lines, read_text_lines(data.dev), str(data.dev)
    else:
        train, dev = hold_out_tail(lines, data.dev_fraction, str(data.train))
        dev_source = f"last {len(dev)} of {len(lines)} lines of {data.train}"
    test = read_text_lines(data.test) if data.test else []
    return TextCorpus(data.name, train, dev, test, dev_source)


# ------------------------------------------------------------------------------------ tokenisers
class TextTokenizer:
    """Text <-> tokens; ``encode_lines`` ends every line with ``eol`` and ``decode`` undoes it."""

    kind = "base"
    eol = EOL

    def __init__(self, lowercase: bool = False):
        self.lowercase = lowercase

    def tokenize_line(self, line: str) -> list[str]:
        """The tokens of one line, without an end-of-line token."""
        raise NotImplementedError

    def detokenize_line(self, tokens: Sequence[str]) -> str:
        """The text of one line's tokens (the inverse of ``tokenize_line`` up to normalisation)."""
        raise NotImplementedError

    def normalise(self, line: str) -> str:
        """Lowercase when configured: the same rule at training and at generation time."""
        return line.lower() if self.lowercase else line

    def encode_lines(self, lines: Sequence[str]) -> list[str]:
        """Tokens of every line, each line followed by the end-of-line token."""
        tokens: list[str] = []
        for line in lines:
            tokens.extend(self.tokenize_line(line))
            tokens.append(self.eol)
        return tokens

    def decode(self, tokens: Sequence[str]) -> str:
        """Text of ``tokens``: one output line per end-of-line token."""
        lines, current = [], []
        for token in tokens:
            if token == self.eol:
                lines.append(self.detokenize_line(current))
                current = []
            else:
                current.append(token)
        lines.append(self.detokenize_line(current))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Settings saved in vocab.json, so evaluate/predict tokenise exactly as training did."""
        return {"kind": self.kind, "lowercase": self.lowercase}


class WordTokenizer(TextTokenizer):
    """Words; with ``split_punctuation`` punctuation marks are tokens of their own.

    Hyphenated words and inner apostrophes stay whole ("time-eaten", "rear'd"), because in
    verse they are single words; decoding glues closing punctuation back onto the word before.
    """

    kind = "word"

    def __init__(self, lowercase: bool = True, split_punctuation: bool = True):
        super().__init__(lowercase)
        self.split_punctuation = split_punctuation

    def tokenize_line(self, line: str) -> list[str]:
        line = self.normalise(line)
        return _WORD.findall(line) if self.split_punctuation else line.split()

    def detokenize_line(self, tokens: Sequence[str]) -> str:
        text = ""
        for token in tokens:
            glue = not text or token in _NO_SPACE_BEFORE or text[-1] in _NO_SPACE_AFTER
            text += token if glue else " " + token
        return text

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "split_punctuation": self.split_punctuation}


class CharTokenizer(TextTokenizer):
    """Characters; the end of a line is the character "\\n" itself."""

    kind = "char"
    eol = "\n"

    def tokenize_line(self, line: str) -> list[str]:
        return list(self.normalise(line))

    def detokenize_line(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


class SentencePieceTokenizer(TextTokenizer):
    """Subword pieces from a sentencepiece model (``model_proto``: the serialized model bytes)."""

    kind = "sentencepiece"

    def __init__(self, model_proto: bytes, lowercase: bool = True):
        import sentencepiece

        super().__init__(lowercase)
        self.model_proto = model_proto
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)

    def tokenize_line(self, line: str) -> list[str]:
        return self.processor.encode(self.normalise(line), out_type=str)

    def detokenize_line(self, tokens: Sequence[str]) -> str:
        return self.processor.decode_pieces(list(tokens)) if tokens else ""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "model_file": SENTENCEPIECE_FILE}


def train_sentencepiece(lines: Sequence[str], vocab_size: int, model_type: str, lowercase: bool) -> bytes:
    """Train a sentencepiece model on ``lines`` (the train split only) and return its bytes.

    ``hard_vocab_limit=False`` makes ``vocab_size`` an upper bound, so a tiny corpus gets a
    smaller vocabulary instead of a crash; ``character_coverage=1.0`` keeps every character.
    """
    import sentencepiece

    text = [line.lower() if lowercase else line for line in lines if line]
    if vocab_size < 8:
        raise ConfigError(f"data.vocab_size must be at least 8 for sentencepiece, got {vocab_size}")
    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(text), model_writer=model, vocab_size=vocab_size, model_type=model_type,
            hard_vocab_limit=False, character_coverage=1.0, minloglevel=2, num_threads=1,
        )  # fmt: skip
    except RuntimeError as err:
        raise ConfigError(f"sentencepiece training failed (data.vocab_size={vocab_size}): {err}") from None
    return model.getvalue()


# ----------------------------------------------------------------------------------- vocabulary
@dataclass
class LMVocab:
    """A tokeniser and the token ids of one language model, saved together in the run dir."""

    tokenizer: TextTokenizer
    vocab: Vocabulary

    @property
    def eol_id(self) -> int:
        """The id of the end-of-line token, which also starts every text (there is no BOS)."""
        return self.vocab.id(self.tokenizer.eol)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode_lines(self, lines: Sequence[str]) -> np.ndarray:
        """Token ids [N] of ``lines``, each line closed by the end-of-line id."""
        return np.asarray(self.vocab.encode(self.tokenizer.encode_lines(lines)), dtype=np.int32)

    def encode_prompt(self, prompt: str) -> list[int]:
        """Context ids for generation: start of a line, then the prompt's tokens.

        The prompt's last line is left open (no end-of-line), so the model continues it;
        a prompt ending in a newline starts the continuation on a new line.
        """
        lines = prompt.split("\n")
        tokens = self.tokenizer.encode_lines(lines)[:-1]  # drop the closing eol of the last line
        return [self.eol_id] + self.vocab.encode(tokens)

    def decode_ids(self, ids: Sequence[int]) -> str:
        """Text of token ids, one line per end-of-line id."""
        return self.tokenizer.decode(self.vocab.decode(int(i) for i in ids))

    def save(self, run_dir: Path) -> None:
        """Write vocab.json (and sentencepiece.model) into the run dir, atomically."""
        if isinstance(self.tokenizer, SentencePieceTokenizer):
            atomic_write_bytes(Path(run_dir) / SENTENCEPIECE_FILE, self.tokenizer.model_proto)
        atomic_write_json(Path(run_dir) / VOCAB_FILE, {"tokenizer": self.tokenizer.to_dict(),
                                                       "vocab": self.vocab.to_dict()})  # fmt: skip

    @classmethod
    def load(cls, run_dir: Path) -> "LMVocab":
        """The vocabulary (and sentencepiece model) saved by :meth:`save` in ``run_dir``."""
        path = Path(run_dir) / VOCAB_FILE
        if not path.is_file():
            raise DataError(path, None, "missing: expected the run's vocabulary here")
        data = json.loads(path.read_text(encoding="utf-8"))
        settings = data["tokenizer"]
        if settings["kind"] == "sentencepiece":
            model_path = Path(run_dir) / settings["model_file"]
            if not model_path.is_file():
                raise DataError(model_path, None, "missing: expected the run's sentencepiece model here")
            tokenizer: TextTokenizer = SentencePieceTokenizer(model_path.read_bytes(), settings["lowercase"])
        elif settings["kind"] == "char":
            tokenizer = CharTokenizer(settings["lowercase"])
        else:
            tokenizer = WordTokenizer(settings["lowercase"], settings.get("split_punctuation", True))
        return cls(tokenizer, Vocabulary.from_dict(data["vocab"]))


def make_tokenizer(data: Any, train_lines: Sequence[str]) -> TextTokenizer:
    """The tokeniser a LanguageModelDataConfig asks for (sentencepiece is trained here)."""
    if data.tokenizer == "word":
        return WordTokenizer(data.lowercase, data.split_punctuation)
    if data.tokenizer == "char":
        return CharTokenizer(data.lowercase)
    if data.tokenizer == "sentencepiece":
        proto = train_sentencepiece(train_lines, data.vocab_size, data.piece_model, data.lowercase)
        return SentencePieceTokenizer(proto, data.lowercase)
    raise ConfigError(f"data.tokenizer: unknown tokenizer {data.tokenizer!r} (word, char or sentencepiece)")


def build_lm_vocab(data: Any, train_lines: Sequence[str]) -> LMVocab:
    """Tokeniser and vocabulary from the train split only; the end-of-line token is always in it."""
    tokenizer = make_tokenizer(data, train_lines)
    tokens = tokenizer.encode_lines(train_lines)
    min_freq = 1 if data.tokenizer == "sentencepiece" else data.min_freq
    max_size = None if data.tokenizer == "sentencepiece" else data.max_vocab
    vocab = Vocabulary.build(tokens, min_freq=min_freq, max_size=max_size)
    if tokenizer.eol not in vocab:
        vocab = Vocabulary(vocab.tokens + (tokenizer.eol,))
    return LMVocab(tokenizer, vocab)


def corpus_stats(vocab: LMVocab, splits: dict[str, np.ndarray], lines: dict[str, list[str]]) -> dict[str, Any]:
    """Lines, tokens and unknown-token rate per split (of ``token_stream`` ids), for metrics and the report."""
    stats: dict[str, Any] = {"vocab/size": len(vocab), "vocab/tokenizer": vocab.tokenizer.kind}
    for split, stream in splits.items():
        ids = np.asarray(stream)[1:]  # a token stream starts with a context-only end-of-line
        if len(ids):
            stats[f"{split}/lines"] = len(lines[split])
            stats[f"{split}/tokens"] = int(len(ids))
            stats[f"{split}/unk_rate"] = float(np.mean(ids == vocab.vocab.unk_id))
    return stats


# --------------------------------------------------------------------------------------- windows
def token_stream(vocab: LMVocab, lines: Sequence[str]) -> np.ndarray:
    """Ids of ``lines`` preceded by one end-of-line id, so the first verse has a start context."""
    return np.concatenate([[vocab.eol_id], vocab.encode_lines(lines)]).astype(np.int32)


def make_windows(stream: np.ndarray, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows: inputs [N, bptt] and targets [N, bptt] (inputs shifted by one).

    The tail shorter than ``bptt`` is kept and right-padded with 0, which the loss ignores.
    """
    if bptt < 1:
        raise ConfigError(f"data.bptt must be at least 1, got {bptt}")
    count = max(1, math.ceil((len(stream) - 1) / bptt))
    padded = np.zeros(count * bptt + 1, dtype=np.int32)
    padded[: len(stream)] = stream
    inputs = padded[:-1].reshape(count, bptt)
    targets = padded[1:].reshape(count, bptt)
    inputs = np.where(targets == 0, 0, inputs)  # padding positions read padding, not a stale token
    return inputs, targets


def training_dataset(stream: np.ndarray, bptt: int, batch_size: int, seed: int, max_batches: int | None = None):
    """A tf.data pipeline of (inputs [B, bptt], targets [B, bptt]) windows, reshuffled every epoch.

    Returns:
        (dataset, batches per epoch, target tokens per epoch); ``max_batches`` caps an epoch
        (a debug run), and the dataset's cardinality is set so Keras knows the epoch length.
    """
    import tensorflow as tf

    inputs, targets = make_windows(stream, bptt)
    batches = math.ceil(len(inputs) / batch_size)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    tokens = int(np.count_nonzero(targets))
    if max_batches and max_batches < batches:
        dataset, batches = dataset.take(max_batches), max_batches
        tokens = min(tokens, max_batches * batch_size * bptt)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(tf.data.AUTOTUNE), batches, tokens


def evaluation_chunks(stream: np.ndarray, streams: int, bptt: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut ``stream`` into ``streams`` contiguous rows and those into [rows, bptt] chunks, in order.

    Scoring the chunks in order while carrying the RNN state from one chunk to the next
    conditions every token on all the text before it in its row, as perplexity should.
    Padding (id 0 targets) fills the end of the last rows and is ignored when scoring.
    """
    targets_total = len(stream) - 1
    rows = max(1, min(streams, targets_total))
    per_row = math.ceil(targets_total / rows)
    length = math.ceil(per_row / bptt) * bptt
    inputs = np.zeros((rows, length), dtype=np.int32)
    targets = np.zeros((rows, length), dtype=np.int32)
    for row in range(rows):
        start = row * per_row
        span = min(per_row, targets_total - start)
        if span > 0:
            inputs[row, :span] = stream[start : start + span]
            targets[row, :span] = stream[start + 1 : start + span + 1]
    return [(inputs[:, i : i + bptt], targets[:, i : i + bptt]) for i in range(0, length, bptt)]
