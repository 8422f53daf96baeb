"""Typed schemas of the translator's (encoder-decoder) ``data`` and ``model`` groups.

``conf/data/multi30k_*.yaml`` start with ``defaults: [translation_schema]`` and are checked
against :class:`TranslationDataConfig`; ``conf/model/seq2seq*.yaml`` against
:class:`TranslatorModelConfig`. A translator has its own recurrent config
(:class:`Seq2SeqRNNConfig`) without ``bidirectional``: only the encoder can read both ways, and
that is ``model.encoder_bidirectional``, so no key is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

from framework.config import Cell, Source, UseCudnn, _choices

ParallelFormat = _choices("ParallelFormat", "text tsv")
SubwordModel = _choices("SubwordModel", "unigram bpe")
BridgeKind = _choices("BridgeKind", "identity sum concat_dense")
AttentionKind = _choices("AttentionKind", "none dot general additive")


@dataclass
class TranslationDataConfig:
    """A parallel corpus and its subword vocabularies.

    ``format=text``: one plain-text file per side and split (``train_src``/``train_tgt`` ...),
    line i of one translating line i of the other. ``format=tsv``: one ``source<TAB>target``
    file per split (``train``/``dev``/``test``). ``source=tfds`` reads a tensorflow-datasets
    translation corpus instead (needs the internet once; see framework.data.tfds_translation).
    """

    name: str = MISSING
    source: Source = Source.files  # files | tfds
    format: ParallelFormat = ParallelFormat.text  # text (aligned files) | tsv (src<TAB>tgt)
    src_lang: str = "en"
    tgt_lang: str = "de"
    train_src: Optional[str] = None
    train_tgt: Optional[str] = None
    dev_src: Optional[str] = None
    dev_tgt: Optional[str] = None
    test_src: Optional[str] = None
    test_tgt: Optional[str] = None
    train: Optional[str] = None  # format=tsv
    dev: Optional[str] = None
    test: Optional[str] = None
    max_train_pairs: Optional[int] = None  # a quick run on the first N training pairs
    max_length: int = 80  # training pairs with more subword pieces on either side are left out
    subword_model: SubwordModel = SubwordModel.unigram  # unigram | bpe (sentencepiece)
    joint_vocab: bool = True  # one sentencepiece model for both languages, or one per side
    vocab_size: int = 8000  # pieces per sentencepiece model (a soft limit on tiny corpora)
    character_coverage: float = 1.0  # share of training characters the pieces must cover
    dev_max_sentences: Optional[int] = None  # dev BLEU each epoch on the first N pairs (null = all)
    tfds_name: Optional[str] = None  # e.g. wmt14_translate/de-en, ted_hrlr_translate/pt_to_en
    tfds_splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "validation",
                                                                 "test": "test"})  # fmt: skip
    tfds_download: bool = True
    tfds_data_dir: Optional[str] = None  # null = tensorflow-datasets' default (~/tensorflow_datasets)


@dataclass
class Seq2SeqRNNConfig:
    """The encoder's and decoder's LSTM/GRU stacks (same cell, units and depth).

    Keep the cuDNN-eligible values unless ``allow_non_cudnn`` is set (see framework.models.cudnn).
    """

    cell: Cell = Cell.lstm  # lstm | gru
    units: int = 256  # per direction in the encoder; per layer in the decoder
    layers: int = 2
    dropout: float = 0.3  # on each layer's input and on the decoder's output, never inside the recurrence
    recurrent_dropout: float = 0.0
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    unroll: bool = False
    use_bias: bool = True
    reset_after: bool = True  # GRU: cuDNN needs True
    use_cudnn: UseCudnn = UseCudnn.auto  # auto | never
    allow_non_cudnn: bool = False  # explicit opt-out of the cuDNN guard


@dataclass
class TranslatorModelConfig:
    """Encoder (embeddings -> (Bi)LSTM/GRU) -> bridge -> decoder (LSTM/GRU -> attention -> logits).

    ``input_feeding`` (Luong et al. 2015: feed the previous attentional vector into the next
    decoder step) makes the decoder step-wise during training, which takes it off cuDNN: it
    needs attention and ``rnn.allow_non_cudnn=true``, and the kernel report says so.
    """

    name: str = MISSING
    embedding_dim: int = 256
    rnn: Seq2SeqRNNConfig = field(default_factory=Seq2SeqRNNConfig)
    encoder_bidirectional: bool = True
    bridge: BridgeKind = BridgeKind.concat_dense  # identity | sum | concat_dense
    attention: AttentionKind = AttentionKind.general  # none | dot | general (Luong) | additive (Bahdanau)
    tie_embeddings: bool = False  # the decoder's output layer reuses its input embeddings
    label_smoothing: float = 0.1
    input_feeding: bool = False  # step-wise decoder, off cuDNN (see the docstring)


def register(store) -> None:
    """Store ``data/translation_schema`` and ``model/translator_schema`` in Hydra's ConfigStore."""
    store.store(group="data", name="translation_schema", node=TranslationDataConfig)
    store.store(group="model", name="translator_schema", node=TranslatorModelConfig)
