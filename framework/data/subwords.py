"""Sentencepiece subwords for translators: trained on the train split only, saved in the run dir.

Ids are fixed so the model and the search agree without a lookup: 0 padding, 1 BOS, 2 EOS,
3 unknown (set when training sentencepiece, so ``bos_id``/``eos_id`` of :class:`Seq2Seq` match).
A joint model (one for both languages) lets identical strings such as names and numbers share
pieces and allows tied embeddings across sides; separate models give each language its full
vocabulary. Output is detokenised with sentencepiece's own ``decode``, which restores the
original spacing, so BLEU is scored on raw text against raw references.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framework.errors import ConfigError, DataError
from framework.io import atomic_write_bytes, atomic_write_json

PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SETTINGS_FILE = "subwords.json"
JOINT_FILE, SOURCE_FILE, TARGET_FILE = "joint.spm.model", "source.spm.model", "target.spm.model"


def train_sentencepiece(lines: Sequence[str], vocab_size: int, model_type: str = "unigram",
                        character_coverage: float = 1.0) -> bytes:  # fmt: skip
    """Train a sentencepiece model on ``lines`` (training sentences only) and return its bytes.

    ``hard_vocab_limit=False`` makes ``vocab_size`` an upper bound, so a small corpus gets a
    smaller vocabulary instead of a crash; one thread keeps the result reproducible.

    Raises:
        ConfigError: a vocabulary too small for the special ids, or sentencepiece refusing the settings.
    """
    import sentencepiece

    if vocab_size < 8:
        raise ConfigError(f"data.vocab_size must be at least 8, got {vocab_size}")
    if model_type not in ("unigram", "bpe"):
        raise ConfigError(f"data.subword_model must be unigram or bpe, got {model_type!r}")
    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter([line for line in lines if line.strip()]), model_writer=model,
            vocab_size=vocab_size, model_type=model_type, character_coverage=character_coverage,
            hard_vocab_limit=False, pad_id=PAD_ID, bos_id=BOS_ID, eos_id=EOS_ID, unk_id=UNK_ID,
            pad_piece="<pad>", bos_piece="<s>", eos_piece="</s>", unk_piece="<unk>",
            num_threads=1, minloglevel=2, input_sentence_size=2_000_000, shuffle_input_sentence=True,
        )  # fmt: skip
    except RuntimeError as err:
        raise ConfigError(f"sentencepiece training failed (data.vocab_size={vocab_size}, "
                          f"data.subword_model={model_type}): {err}") from None  # fmt: skip
    return model.getvalue()


class SubwordModel:
    """One sentencepiece model: text -> piece ids (no BOS/EOS) and ids -> detokenised text."""

    def __init__(self, proto: bytes):
        import sentencepiece

        self.proto = proto
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
        special = (self.processor.pad_id(), self.processor.bos_id(), self.processor.eos_id(), self.processor.unk_id())
        if special != (PAD_ID, BOS_ID, EOS_ID, UNK_ID):
            raise ValueError(f"sentencepiece ids (pad, bos, eos, unk) are {special}, expected (0, 1, 2, 3)")

    def __len__(self) -> int:
        return int(self.processor.get_piece_size())

    def encode(self, lines: Sequence[str]) -> list[np.ndarray]:
        """Piece ids [n_i] per line."""
        return [np.asarray(ids, dtype=np.int32) for ids in self.processor.encode(list(lines), out_type=int)]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """The pieces of ids, for attention plots."""
        return [self.processor.id_to_piece(int(i)) for i in ids]

    def decode(self, ids: Sequence[int]) -> str:
        """Detokenised text; special ids (padding, BOS, EOS) are dropped first."""
        return self.processor.decode([int(i) for i in ids if int(i) > EOS_ID])


@dataclass
class Subwords:
    """The source and target subword models of one translator (the same object when joint)."""

    source: SubwordModel
    target: SubwordModel
    settings: dict[str, Any]

    @property
    def joint(self) -> bool:
        """One model for both languages (saved once as ``joint.spm.model``)."""
        return bool(self.settings.get("joint"))

    def save(self, run_dir: str | Path) -> None:
        """Write the ``.model`` file(s) and ``subwords.json`` (which file is which) atomically."""
        run_dir = Path(run_dir)
        if self.joint:
            atomic_write_bytes(run_dir / JOINT_FILE, self.source.proto)
        else:
            atomic_write_bytes(run_dir / SOURCE_FILE, self.source.proto)
            atomic_write_bytes(run_dir / TARGET_FILE, self.target.proto)
        atomic_write_json(run_dir / SETTINGS_FILE, self.settings)

    @classmethod
    def load(cls, run_dir: str | Path) -> "Subwords":
        """The subword models saved by :meth:`save` (a missing file is a one-line DataError)."""
        run_dir = Path(run_dir)
        path = run_dir / SETTINGS_FILE
        if not path.is_file():
            raise DataError(path, None, "missing: expected the run's subword settings here")
        settings = json.loads(path.read_text(encoding="utf-8"))
        protos = []
        for name in (settings["source_file"], settings["target_file"]):
            if not (run_dir / name).is_file():
                raise DataError(run_dir / name, None, "missing: expected the run's sentencepiece model here")
            protos.append((run_dir / name).read_bytes())
        source = SubwordModel(protos[0])
        target = source if settings.get("joint") else SubwordModel(protos[1])
        return cls(source, target, settings)


def build_subwords(data: Any, train_sources: Sequence[str], train_targets: Sequence[str]) -> Subwords:
    """Train the subword model(s) a TranslationDataConfig asks for, on the training pairs only."""
    kind, size, coverage = data.subword_model, data.vocab_size, data.character_coverage
    settings = {"joint": bool(data.joint_vocab), "model_type": kind, "vocab_size_requested": size,
                "src_lang": data.src_lang, "tgt_lang": data.tgt_lang, "trained_on": "train split"}  # fmt: skip
    if data.joint_vocab:
        model = SubwordModel(train_sentencepiece([*train_sources, *train_targets], size, kind, coverage))
        settings.update(source_file=JOINT_FILE, target_file=JOINT_FILE, source_size=len(model), target_size=len(model))
        return Subwords(model, model, settings)
    source = SubwordModel(train_sentencepiece(train_sources, size, kind, coverage))
    target = SubwordModel(train_sentencepiece(train_targets, size, kind, coverage))
    settings.update(source_file=SOURCE_FILE, target_file=TARGET_FILE, source_size=len(source),
                    target_size=len(target))  # fmt: skip
    return Subwords(source, target, settings)
