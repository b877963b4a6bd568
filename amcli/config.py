"""Structured configs: one dataclass schema per command, registered in Hydra's ConfigStore.

Hydra validates types and enum choices against these schemas while it composes the config, so a
mistyped value fails before any work starts (Hydra's error, exit 1). Checks that need more than
a type (ranges, names known only at run time) live in each command and raise
:class:`~amcli.errors.UserError` (exit 2). The YAML files in ``conf/`` hold the defaults a user
sees in ``--help`` and name their schema in their defaults list.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore

from amcli.data.spec import DataConfig
from amcli.train.classifier import TrainSettings
from amcli.train.gan import GanSettings

#: The demo classes, in the order every checkpoint stores them.
DEFAULT_CLASSES = ["neutral", "happy", "sad", "angry"]


class SynthEngine(Enum):
    """Which synthesizer renders the corpus."""

    espeak = "espeak"
    numpy = "numpy"


@dataclass
class SynthConfig:
    """Schema of ``amcli synth``."""

    #: Output folder of the corpus; null writes it into the run's Hydra output dir as corpus/.
    out: str | None = None
    engine: SynthEngine = SynthEngine.espeak
    n_per_class: int = 100
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    #: "train" (every speaker but the held-out one), "holdout", "all", or a list of speaker ids.
    speakers: Any = "train"
    #: "all" (the dozen sentences) or a list of sentence ids 0-11.
    sentences: Any = "all"
    #: Scales every cue's random spread; 0 renders each class at its prototype.
    jitter: float = 1.0
    sample_rate: int = 16000
    seed: int = 0
    #: Worker processes; 0 uses every core.
    workers: int = 0
    #: Replace an existing corpus in `out`.
    overwrite: bool = False
    quiet: bool = False


@dataclass
class ModelConfig:
    """An architecture of conf/model/ and its size. Raw-only keys are null for mel models."""

    arch: str = "crnn_mel"
    width: int = 16
    depth: int = 4
    rnn_hidden: int = 64
    embed_dim: int = 64
    dropout: float = 0.2
    frontend_kernel: int | None = None
    frontend_stride: int | None = None

    def hparams(self) -> dict[str, Any]:
        keys = ("width", "depth", "rnn_hidden", "embed_dim", "dropout", "frontend_kernel",
                "frontend_stride")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass
class TrainClassifierConfig:
    """Schema of ``amcli train-classifier``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    #: checkpoint name in the run folder; null = the architecture's name
    name: str | None = None
    seed: int = TrainSettings.seed
    device: str = "auto"
    # training settings: their defaults live in amcli.train.TrainSettings, the one source
    epochs: int = TrainSettings.epochs
    batch_size: int = TrainSettings.batch_size
    lr: float = TrainSettings.lr
    weight_decay: float = TrainSettings.weight_decay
    patience: int = TrainSettings.patience
    gain_db: float = TrainSettings.gain_db
    noise_snr_db: list[float] = field(default_factory=lambda: list(TrainSettings.noise_snr_db))
    noise_prob: float = TrainSettings.noise_prob
    quiet: bool = False

    def train_settings(self) -> TrainSettings:
        """The library's settings, from the keys the two share."""
        shared = {f.name: getattr(self, f.name) for f in fields(TrainSettings)
                  if hasattr(self, f.name)}
        shared["noise_snr_db"] = tuple(self.noise_snr_db)
        return TrainSettings(**shared)


class EvalSplit(Enum):
    test = "test"
    val = "val"
    train = "train"
    all = "all"


@dataclass
class CustomClassifierConfig:
    """A user model (``checkpoint=custom``): see amcli.models.custom."""

    target: str | None = None
    weights: str | None = None
    classes: list[str] = field(default_factory=list)
    representation: str = "raw"
    sample_rate: int = 16000


@dataclass
class EvaluateConfig:
    """Schema of ``amcli evaluate``."""

    checkpoint: str = "crnn_mel"
    custom: CustomClassifierConfig = field(default_factory=CustomClassifierConfig)
    data: DataConfig = field(default_factory=DataConfig)
    split: EvalSplit = EvalSplit.test
    device: str = "auto"
    batch_size: int = 64
    quiet: bool = False


class Method(Enum):
    mask = "mask"
    input = "input"
    latent = "latent"


class Prior(Enum):
    none = "none"
    gan = "gan"
    cgan = "cgan"


@dataclass
class PriorConfig:
    """``prior=gan|cgan`` (config group conf/prior/) resolves to the shipped checkpoint
    ``<kind>_<representation of the classifier>``; ``prior.checkpoint=PATH`` names another."""

    kind: Prior = Prior.none
    checkpoint: str | None = None


@dataclass
class LatentConfig:
    """method=latent: the generator's z (DGN-AM; the seed's objective family)."""

    #: z's norm is kept at most max_norm * sqrt(latent_dim) (the prior's typical set); null: free
    max_norm: float | None = 1.0
    l1: float = 0.0  # lambda_1 * mean |z|
    l2: float = 0.0  # lambda_2 * mean z^2
    init_std: float = 1.0  # z starts from N(0, init_std^2 I)
    #: each item starts from the best of this many draws of z (by its target logit); 1: the first
    init_candidates: int = 8


@dataclass
class VocoderConfig:
    """How log-mel outputs (mel priors, mel inputs) become WAVs."""

    #: a TorchScript vocoder (log-mel [B, n_mels, frames] -> waveform [B, T]); null: Griffin-Lim
    path: str | None = None
    griffin_lim_iters: int = 64


@dataclass
class MaskConfig:
    """method=mask: the extremal perturbation of Fong et al. (2019) by default."""

    kind: str = "time"  # time | tf (time-frequency, on the STFT)
    formulation: str = "extremal"  # extremal (fixed area) | penalty (lambda * area)
    area: float = 0.5  # extremal: share of active frames to keep
    area_weight: float = 1.0  # extremal: start weight of the sorted-area loss (grows x100)
    penalty: float = 2.0  # penalty formulation: lambda of mean(m)
    tv: float = 0.01
    max_gain: float = 1.0
    init: float = 0.5
    init_noise: float = 0.5
    resolution_s: float = 0.05
    smooth: int = 2
    freq_bands: int = 16


@dataclass
class SignalConfig:
    """method=input: the signal itself (Simonyan et al. 2013)."""

    domain: str = "wave"  # wave | mel (mel classifiers: the log-mel fed to body)
    start: str = "noise"  # noise | clip
    spectral: bool = False
    l2: float = 0.0
    tv: float = 0.0
    seconds: float = 3.0  # length when starting from noise


@dataclass
class ObjectiveConfig:
    kind: str = "logit"  # logit | log_softmax | prob
    suppress: float = 0.0  # lambda_o: minus lambda_o * mean of the other classes' logits
    layer: str | None = None  # a module name: maximize its activation instead of a class
    channel: int | None = None
    unit: int | None = None


@dataclass
class TransformConfig:
    enabled: bool = True
    shift_s: float = 0.05
    gain_db: float = 1.0
    snr_db: list[float] | None = field(default_factory=lambda: [30.0, 50.0])


@dataclass
class OptimizeConfig:
    """Schema of ``amcli optimize``."""

    classifier: str = "crnn_mel"
    #: classifier=custom: your own nn.Module (see amcli.models.custom)
    custom: CustomClassifierConfig = field(default_factory=CustomClassifierConfig)
    #: an independent classifier that scores the outputs (transfer); null: none
    judge: str | None = "judge"
    method: Method = Method.mask
    prior: PriorConfig = field(default_factory=PriorConfig)
    #: cgan: what the generator is told to make: target (each item's target) or a class name
    condition: str | None = None
    target: Any = "all"
    restarts: int = 1
    steps: int = 200
    #: null: the method's default (mask 0.1 on mask logits, input 0.003 on the signal)
    lr: float | None = None
    optimizer: str = "adam"
    threshold: float | None = 0.99
    min_steps: int = 100
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    threads: int = 0
    input: str | None = None
    mask: MaskConfig = field(default_factory=MaskConfig)
    signal: SignalConfig = field(default_factory=SignalConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)
    vocoder: VocoderConfig = field(default_factory=VocoderConfig)
    transforms: TransformConfig = field(default_factory=TransformConfig)
    record_every: int = 10
    #: measure acoustic cues (RMS, F0, centroid, rate) of every output against its reference
    cues: bool = True
    #: real clips (a folder, searched recursively) for the Frechet distance of the outputs in the
    #: judge's embedding space; null: not computed
    frechet_reference: str | None = None
    #: rerun on copies of the classifier with re-initialized weights (top layer, then all) and
    #: report how far the masks move (Adebayo et al. 2018); triples the run time
    sanity: bool = False
    #: items per optimization batch; larger runs are split into chunks run one after another
    #: (0: all items in one batch, or on CUDA as many as fit 80% of the free memory)
    max_batch: int = 0
    #: run the classifier through torch.compile (CUDA: mode reduce-overhead, i.e. CUDA graphs)
    compile: bool = False
    plot_format: str = "png"
    quiet: bool = False


@dataclass
class TrainPriorConfig:
    """Schema of ``amcli train-prior``."""

    #: the config group conf/prior/ shared with optimize: prior=gan | prior=cgan
    prior: PriorConfig = field(default_factory=lambda: PriorConfig(kind=Prior.gan))
    representation: str = "mel"  # mel (64 x 128 log-mel patches) | raw (16384 samples)
    data: DataConfig = field(default_factory=DataConfig)
    #: checkpoint name in the run folder; null: <prior>_<representation>
    name: str | None = None
    seed: int = GanSettings.seed
    device: str = "auto"
    # training settings: their defaults live in amcli.train.gan.GanSettings, the one source
    iterations: int = GanSettings.iterations
    batch_size: int = GanSettings.batch_size
    lr_g: float = GanSettings.lr_g
    lr_d: float = GanSettings.lr_d
    beta1: float = GanSettings.beta1
    beta2: float = GanSettings.beta2
    #: null: the representation's default (mel 128 / width 32; raw 100 / width 16)
    latent_dim: int | None = None
    width: int | None = None
    d_width: int | None = None
    embed_dim: int = 32
    #: mode-seeking weight (MSGAN): rewards the generator for outputs that move with z
    diversity: float = GanSettings.diversity
    #: every this many iterations: sample grids (WAV + PNG), training state, generator checkpoint
    every: int = 250
    n_samples: int = GanSettings.n_samples
    #: a run folder (or its state.safetensors) to continue from
    resume: str | None = None
    #: float16 generator weights in the checkpoint (float32 in the training state)
    half: bool = True
    #: judge for the quality figures at the end (Frechet distance, cgan accuracy); null: none
    judge: str | None = "judge"
    quality_n: int = 512
    threads: int = 0
    quiet: bool = False

    def gan_settings(self) -> GanSettings:
        """The library's settings, from the keys the two share."""
        return GanSettings(**{f.name: getattr(self, f.name) for f in fields(GanSettings)})


@dataclass
class ReportConfig:
    """Schema of ``amcli report``."""

    #: a sweep dir, a run folder or a folder of WAVs (``amcli report DIR`` sets it)
    dir: str | None = None


@dataclass
class ListConfig:
    """Schema of ``amcli list``."""

    #: extra folders to list besides the shipped checkpoints/
    dirs: list[str] = field(default_factory=list)


def register_configs() -> None:
    """Register every command's schema (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="synth_schema", node=SynthConfig)
    store.store(name="train_classifier_schema", node=TrainClassifierConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="list_schema", node=ListConfig)
    store.store(name="optimize_schema", node=OptimizeConfig)
    store.store(name="report_schema", node=ReportConfig)
    store.store(name="train_prior_schema", node=TrainPriorConfig)


register_configs()
