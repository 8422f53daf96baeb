"""Typed schemas of the ``data`` and ``model`` groups of a text classifier (many-to-one).

Kept out of :mod:`framework.config` so each task owns its own group schemas;
:func:`framework.config.register_configs` calls :func:`register` to store them. A YAML file
opts in with ``defaults: [classification_schema]`` (data) or ``[classifier_schema]`` (model),
so a typo in a key or an unknown choice fails when Hydra composes the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from framework.config import EmbeddingConfig, RNNConfig, _choices

TextFormat = _choices("TextFormat", "tsv csv")
ClassWeight = _choices("ClassWeight", "none balanced")
Monitor = _choices("Monitor", "macro_f1 accuracy")
Pooling = _choices("Pooling", "last max mean attention")
OutputActivation = _choices("OutputActivation", "softmax sigmoid")

# Words (with inner apostrophes) or single symbols, so "£", "!" and ":)" still count as evidence.
DEFAULT_TOKEN_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"


@dataclass
class ClassificationDataConfig:
    """A labelled text corpus: one file split here (stratified, seeded) or one file per split.

    ``file`` is used when ``train`` is not set; its split is recorded in the run dir's
    ``split.json``. Columns are 0-based; every row must have exactly ``columns`` fields.
    """

    name: str = MISSING
    format: TextFormat = TextFormat.tsv  # tsv (label<TAB>text) | csv (quoted fields allowed)
    file: Optional[str] = None  # a single corpus file, split into train/dev/test below
    train: Optional[str] = None  # or one file per split (dev required, test optional)
    dev: Optional[str] = None
    test: Optional[str] = None
    header: bool = False  # skip the first row
    columns: int = 2  # fields per row
    label_column: int = 0
    text_column: int = 1
    labels: Optional[list[str]] = None  # the allowed labels, in output order; null = those in train
    positive_label: Optional[str] = None  # binary: the class ROC AUC scores; null = the rarer one in train
    train_fraction: float = 0.8
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 13
    lowercase: bool = True
    token_pattern: str = DEFAULT_TOKEN_PATTERN
    min_freq: int = 1  # training tokens seen fewer times become <unk>
    max_vocab: Optional[int] = None
    max_length: int = 100  # tokens kept per text (the rest is cut off)
    class_weight: ClassWeight = ClassWeight.none  # none | balanced (weights n / (classes * n_class))
    monitor: Monitor = Monitor.macro_f1  # the dev metric for model selection: macro_f1 | accuracy


@dataclass
class ClassifierModelConfig:
    """Embeddings -> (Bi)LSTM/GRU stack -> pooling over time -> dense -> softmax or sigmoid.

    ``pooling=last`` reads the final state of the last recurrent layer (both directions'
    final states when bidirectional); ``max``/``mean``/``attention`` pool its outputs over
    the real (unmasked) time steps.
    """

    name: str = MISSING
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)
    pooling: Pooling = Pooling.last  # last | max | mean | attention
    attention_units: int = 64  # attention pooling: size of the additive scorer's hidden layer
    hidden_units: int = 0  # a ReLU dense layer between pooling and output; 0 = none
    dropout: float = 0.5  # on the pooled vector
    output: OutputActivation = OutputActivation.softmax  # softmax | sigmoid (binary tasks only)


def register(store: ConfigStore) -> None:
    """Store the classification schemas in Hydra's ConfigStore."""
    store.store(group="data", name="classification_schema", node=ClassificationDataConfig)
    store.store(group="model", name="classifier_schema", node=ClassifierModelConfig)
