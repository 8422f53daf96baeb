"""Typed schemas for every Hydra config group, so a wrong key or type fails at start-up.

Each YAML file in ``conf/<group>/`` starts with ``defaults: [<schema name>]`` and so is
validated against one of the dataclasses below, which are registered in Hydra's ConfigStore
by :func:`register_configs`. The root schema types the shared groups (trainer, optimizer,
callbacks, paths); ``data`` and ``model`` are typed by their own group schema, because a
tagger, a translator and a classifier need different keys there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from framework.errors import ConfigError


def _choices(name: str, values: str) -> type[Enum]:
    """An Enum whose names are the allowed strings, so OmegaConf rejects any other value."""
    return Enum(name, [(value, value) for value in values.split()])


Task = _choices("Task", "pos ner chunk")
Source = _choices("Source", "files tfds")
Format = _choices("Format", "conllu columns")
Scheme = _choices("Scheme", "none iob1 iob2 iobes auto")
TrainScheme = _choices("TrainScheme", "none iob2 iobes")
TagField = _choices("TagField", "upos xpos")
CharKind = _choices("CharKind", "none cnn bilstm")
Cell = _choices("Cell", "lstm gru")
UseCudnn = _choices("UseCudnn", "auto never")
Head = _choices("Head", "softmax crf")
Strategy = _choices("Strategy", "default mirrored multi_worker")
Precision = _choices("Precision", "float32 mixed_float16 mixed_bfloat16")
OptimizerName = _choices("OptimizerName", "adam adamw sgd rmsprop")
Schedule = _choices("Schedule", "constant inverse_time exponential cosine")
Split = _choices("Split", "train dev test")
DecodeStrategy = _choices("DecodeStrategy", "greedy beam")


# The folder above this package: the repository in a checkout (an editable install); see repository_dir.
PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def repository_dir() -> str:
    """``${rnnseq.repo:}``: the folder that holds the run's primary config dir (``conf/``) and the corpus
    slices shipped beside it in ``samples/``, so that they are found whatever the launch dir, and from
    the checkout whose ``conf/`` the recipe composed (the package may be installed elsewhere). Outside a
    Hydra run (a test composing configs itself): the folder above this package."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        for source in HydraConfig.get().runtime.config_sources:
            if source.provider == "main" and source.schema == "file":
                return str(Path(source.path).resolve().parent)
    return str(PACKAGE_PARENT)


OmegaConf.register_new_resolver("rnnseq.repo", repository_dir, replace=True)


@dataclass
class PathsConfig:
    """Where corpora live and where runs go (relative paths are relative to the launch dir; the
    shipped samples are the repository's own)."""

    root_dir: str = "."
    data_dir: str = "../shared/data"
    sample_dir: str = "${rnnseq.repo:}/samples"
    output_dir: str = "runs"


@dataclass
class TaggingDataConfig:
    """A tagging corpus: files (or a TFDS dataset) and how to read them.

    ``scheme`` is the tag scheme of the files (iob1, iob2, iobes or none for POS tags);
    ``train_scheme`` is what the model learns; predictions are written back in ``scheme``.
    """

    name: str = MISSING
    task: Task = MISSING  # pos | ner | chunk: decides the dev metric (accuracy or span F1)
    source: Source = Source.files  # files | tfds
    format: Format = Format.columns  # conllu | columns
    train: Optional[str] = None
    dev: Optional[str] = None
    test: Optional[str] = None
    tag_field: TagField = TagField.upos  # conllu: upos | xpos
    word_column: int = 0
    tag_column: int = -1
    separator: Optional[str] = None
    scheme: Scheme = Scheme.none  # none | iob1 | iob2 | iobes | auto
    train_scheme: TrainScheme = TrainScheme.none  # none | iob2 | iobes
    dev_fraction: float = 0.0  # carve dev from train when the corpus has no dev split
    split_seed: int = 13
    max_train_sentences: Optional[int] = None  # a quick run on the first N sentences
    lowercase: bool = False
    min_freq: int = 1
    max_word_length: int = 24
    # Extra input columns embedded beside the word (e.g. [1] for the POS tags of CoNLL-2000/2003;
    # CoNLL-U: 0-based columns, 3 UPOS, 4 XPOS). predict then reads input in the corpus format.
    feature_columns: list[int] = field(default_factory=list)
    casing: bool = False  # the word's casing class (lower, upper, title, numeric, ...) as a feature
    tfds_name: Optional[str] = None  # e.g. conll2003, universal_dependencies/en_ewt
    tfds_splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "dev", "test": "test"})
    tfds_tag_feature: Optional[str] = None  # e.g. ner, upos, chunks
    tfds_download: bool = True
    tfds_data_dir: Optional[str] = None  # null = tensorflow-datasets' default (~/tensorflow_datasets)


@dataclass
class EmbeddingConfig:
    """Word embeddings; ``pretrained`` is a word2vec/GloVe text file (optional)."""

    dim: int = 100
    pretrained: Optional[str] = None
    trainable: bool = True
    dropout: float = 0.5
    word_dropout: float = 0.0  # probability of replacing a training word by <unk>
    feature_dim: int = 20  # embedding size of each data.feature_columns column and of data.casing


@dataclass
class CharConfig:
    """Character features per word: none, a CNN with max pooling, or a BiLSTM's final states."""

    kind: CharKind = CharKind.cnn  # none | cnn | bilstm
    dim: int = 30
    units: int = 50  # CNN filters or LSTM units per direction
    kernel_size: int = 3


@dataclass
class RNNConfig:
    """The recurrent stack. Keep cuDNN-eligible values unless ``allow_non_cudnn`` is set."""

    cell: Cell = Cell.lstm  # lstm | gru
    units: int = 128
    layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.5  # between layers (and on the RNN input), never inside the recurrence
    recurrent_dropout: float = 0.0
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    unroll: bool = False
    use_bias: bool = True
    reset_after: bool = True  # GRU: cuDNN needs True
    use_cudnn: UseCudnn = UseCudnn.auto  # auto: cuDNN on a GPU, and fail loudly if it cannot be used | never
    allow_non_cudnn: bool = False  # explicit opt-out of the cuDNN guard


@dataclass
class TaggerModelConfig:
    """A sequence tagger: embeddings (+ chars) -> stacked (Bi)RNN -> softmax or CRF head."""

    name: str = MISSING
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    chars: CharConfig = field(default_factory=CharConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)
    head: Head = Head.crf  # softmax | crf
    constrain_transitions: bool = True  # CRF: forbid transitions the tag scheme does not allow


@dataclass
class TrainerConfig:
    """How to fit: epochs, batches, seeds, selection and distribution."""

    epochs: int = 30
    batch_size: int = 32
    eval_batch_size: int = 128
    seed: int = 42
    deterministic: bool = True  # tf op determinism + seeded shuffles: reproducible CPU runs
    early_stopping_patience: int = 5  # epochs without dev improvement; 0 disables
    strategy: Strategy = Strategy.default  # default | mirrored | multi_worker
    jit_compile: bool = False
    # mixed_float16: GPUs (cuDNN, loss scaling); mixed_bfloat16: CPUs with bf16 matmuls (README "Mixed precision")
    precision: Precision = Precision.float32  # float32 | mixed_float16 | mixed_bfloat16
    steps_per_execution: int = 1
    bucket_width: int = 1  # sentence lengths grouped per bucket (1 = exact length buckets)
    shuffle_buffer: int = 100000
    max_steps_per_epoch: Optional[int] = None  # debug: cap an epoch
    time_limit_minutes: Optional[float] = None  # stop after the epoch that crosses this training time
    verbose: str = "auto"  # auto | 0 | 1 | 2 (Keras fit verbosity; 1 = progress bar)
    # TensorFlow's CPU thread pools (framework/threads.py, README "Threads"); null = its default, all cores
    intra_op_threads: Optional[int] = None  # threads one op may use
    inter_op_threads: Optional[int] = None  # ops run side by side


@dataclass
class OptimizerConfig:
    """Optimizer, learning-rate schedule and gradient clipping."""

    name: OptimizerName = OptimizerName.adam  # adam | adamw | sgd | rmsprop
    learning_rate: float = 0.001
    momentum: float = 0.9  # sgd only
    weight_decay: float = 0.0  # adamw only
    schedule: Schedule = Schedule.constant  # constant | inverse_time | exponential | cosine
    decay_rate: float = 0.05  # per epoch, for inverse_time / exponential
    warmup_epochs: float = 0.0  # cosine only
    clipnorm: Optional[float] = 5.0  # global gradient norm clip; null disables


@dataclass
class CallbacksConfig:
    """Optional Keras callbacks beyond checkpointing/early stopping (always on)."""

    tensorboard: bool = True
    backup_every_epoch: bool = True  # resume after an interruption by re-running into the run dir


@dataclass
class TrainConfig:
    """The root config of ``recipes/train.py``."""

    experiment_name: str = "default"
    task: str = "tagging"
    data: Any = MISSING
    model: Any = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    decode: DecodeConfig = field(default_factory=lambda: DecodeConfig())  # translators: test-set search


@dataclass
class EvaluateConfig:
    """The root config of ``recipes/evaluate.py``: score a trained run on a split."""

    run_dir: str = MISSING
    split: Split = Split.test  # train | dev | test
    file: Optional[str] = None  # score another file in the run's data format instead
    batch_size: int = 128
    decode: DecodeOverrides = field(default_factory=lambda: DecodeOverrides())  # translators


@dataclass
class GenerateConfig:
    """Sampling from a language model (one-to-many)."""

    max_tokens: int = 40
    temperature: float = 1.0
    top_k: int = 0  # 0 = no top-k filter
    top_p: float = 1.0  # 1.0 = no nucleus filter
    seed: int = 0
    samples: int = 1


@dataclass
class DecodeConfig:
    """Search for translators (encoder-decoder)."""

    strategy: DecodeStrategy = DecodeStrategy.greedy
    beam_size: int = 5
    length_penalty: float = 1.0
    max_length_ratio: float = 2.0
    nbest: int = 1


@dataclass
class DecodeOverrides:
    """``decode.*`` of evaluate/predict: a value left unset (null) is the run's own setting."""

    strategy: Optional[DecodeStrategy] = None
    beam_size: Optional[int] = None
    length_penalty: Optional[float] = None
    max_length_ratio: Optional[float] = None
    nbest: Optional[int] = None


@dataclass
class PredictConfig:
    """The root config of ``recipes/predict.py``: apply a trained run to new input."""

    run_dir: str = MISSING
    input: Optional[str] = None  # taggers/classifiers/translators: one sentence (or text) per line
    output: Optional[str] = None
    prompt: Optional[str] = None  # generators: the text to continue ("" = from nothing)
    batch_size: int = 128
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    decode: DecodeOverrides = field(default_factory=lambda: DecodeOverrides())  # translators


@dataclass
class ExportConfig:
    """The root config of ``recipes/export.py``: a trained run as a TensorFlow SavedModel."""

    run_dir: str = MISSING
    output: Optional[str] = None  # a new directory; default <run_dir>/export


@dataclass
class ReportConfig:
    """The root config of ``recipes/report.py``: report a sweep dir's trials."""

    sweep_dir: str = MISSING


@dataclass
class CompareConfig:
    """The root config of ``recipes/compare.py``: runs side by side.

    ``output_dir`` defaults to ``<first run dir>/compare``; ``bootstrap`` is the number of
    resamples of the paired significance test (translators).
    """

    run_dirs: list[str] = MISSING
    output_dir: Optional[str] = None
    bootstrap: int = 1000
    examples: int = 10  # translators: sentences where the systems differ most
    seed: int = 12345


@dataclass
class BenchmarkShapes:
    """Fixed shapes of recipes/benchmark.py (``benchmark.*`` on the command line)."""

    batch_size: int = 64
    seq_len: int = 40
    units: int = 256
    embed_dim: int = 128
    layers: int = 2
    cell: Optional[Cell] = None  # the tagger's cell: set here, else a tagger config's rnn.cell (model=), else lstm
    vocab_size: int = 10000
    num_tags: int = 20
    steps: int = 10  # timed batches per round
    warmup: int = 3
    rounds: int = 3  # ours and plain Keras measured in turns, medians reported (a noisy machine slows both)
    decode_sentences: int = 64
    beam_size: int = 5
    matmul_size: int = 2048
    compare_kernels: bool = False  # also time use_cudnn=False and mixed precision (always on a GPU)

    @staticmethod
    def with_overrides(overrides: list[str] | tuple[str, ...] = ()) -> Any:
        """The shapes with ``key=value`` overrides, checked against this schema (the measuring
        scripts' ``--set``, as ``benchmark.key=value`` is the recipe's); a bad one is a ConfigError naming it."""
        shapes = OmegaConf.structured(BenchmarkShapes)
        for override in overrides:
            try:
                if "=" not in override:
                    raise ValueError("expected key=value")
                shapes = OmegaConf.merge(shapes, OmegaConf.from_dotlist([override]))
            except (ValueError, OmegaConfBaseException) as err:
                keys = ", ".join(field.name for field in fields(BenchmarkShapes))
                known = f" (keys: {keys})" if isinstance(err, ConfigKeyError) else ""
                raise ConfigError(f"--set {override}: {str(err).splitlines()[0]}{known}") from None
        return shapes


@dataclass
class BenchmarkConfig:
    """The root config of ``recipes/benchmark.py``."""

    benchmark: BenchmarkShapes = field(default_factory=BenchmarkShapes)
    # ``model=<tagger config>``: the tagger's architecture (cell, head, directions) from that config;
    # ``model=<translator config>``: the translators' (cell, encoder directions, bridge, attention). Its sizes,
    # dropout and character features give way to ``benchmark.*`` (README "Speed benchmark"). Typed by the
    # config's own schema (tagger_schema, translator_schema); framework.benchmarking refuses any other.
    model: Any = None


def register_configs() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="predict_schema", node=PredictConfig)
    store.store(name="export_schema", node=ExportConfig)
    store.store(name="benchmark_schema", node=BenchmarkConfig)
    store.store(name="report_schema", node=ReportConfig)
    store.store(name="compare_schema", node=CompareConfig)
    store.store(group="data", name="tagging_schema", node=TaggingDataConfig)
    store.store(group="model", name="tagger_schema", node=TaggerModelConfig)
    from framework.schemas import classification  # here, not at the top: it imports this module
    classification.register(store)
    from framework.schemas import language_model  # here, not at the top: it imports this module
    language_model.register(store)
    from framework.schemas import translation  # here, not at the top: it imports this module
    translation.register(store)
