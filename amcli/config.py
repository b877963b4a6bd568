"""Structured configs: one dataclass schema per command, registered in Hydra's ConfigStore.

Hydra validates types and enum choices against these schemas while it composes the config, so a
mistyped value fails before any work starts (Hydra's error, exit 1). Numeric ranges are declared
on the fields (:func:`amcli.bounds.bounded`) and checked in one place
(:func:`amcli.bounds.check_bounds`, exit 2); checks that need names known only at run time live
in the commands and methods. The YAML files in ``conf/`` hold the defaults a user sees in
``--help`` and name their schema in their defaults list.

``amcli optimize``'s schema gets one optional field per AM method (``mask``, ``signal``,
``latent``, ... from :mod:`amcli.am.methods`) and per config group a method owns (``prior``):
the chosen ``conf/method/<name>.yaml`` fills its own, the others stay null, so an option of
another method is refused while the config is composed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from amcli.am.methods import METHODS
from amcli.am.methods.latent import Prior, PriorConfig
from amcli.bounds import bounded
from amcli.data.spec import DataConfig
from amcli.families import Family
from amcli.train.classifier import TrainSettings
from amcli.train.gan import GanSettings

#: The demo classes, in the order every checkpoint stores them.
DEFAULT_CLASSES = ["neutral", "happy", "sad", "angry"]


class SynthEngine(Enum):
    """Which synthesizer renders the corpus."""

    espeak = "espeak"
    numpy = "numpy"


class OtherCues(Enum):
    """How a cue-isolated corpus draws the cue families it does not isolate."""

    varied = "varied"
    neutral = "neutral"


@dataclass
class SynthConfig:
    """Schema of ``amcli synth``."""

    #: Output folder of the corpus; null writes it into the run's Hydra output dir as corpus/.
    out: str | None = None
    #: espeak (espeak-ng: 26 voices, SSML prosody) or numpy (a pure-NumPy source-filter synthesizer,
    #: no system package needed)
    engine: SynthEngine = SynthEngine.espeak
    #: clips per class
    n_per_class: int = bounded(100, ge=1)
    #: a subset of the four classes, in output order
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    #: "train" (every speaker but the held-out one), "holdout", "all", or a list of speaker ids.
    speakers: Any = "train"
    #: "all" (the dozen sentences) or a list of sentence ids 0-11.
    sentences: Any = "all"
    #: Scales every cue's random spread; 0 renders each class at its prototype.
    jitter: float = bounded(1.0, ge=0)
    #: output sample rate in Hz (espeak-ng's 22.05 kHz is resampled)
    sample_rate: int = bounded(16000, ge=4000, le=192000)
    #: the corpus is bit-for-bit the same for a seed, whatever workers is
    seed: int = 0
    #: Worker processes; 0 uses the CPUs this process may run on.
    workers: int = bounded(0, ge=0, hint="a number of processes, or 0 for the usable CPUs")
    #: cue families that alone differ between classes (pitch, loudness, tempo, voice); the others
    #: are drawn the same way for every class (see others); null: every cue differs
    isolate: list[Family] | None = None
    #: with isolate: varied draws every other family over the whole span the emotions give it,
    #: alike for all classes, so a model trained on the corpus learns to ignore them; neutral
    #: keeps them at the neutral profile's narrow spread
    others: OtherCues = OtherCues.varied
    #: Replace an existing corpus in `out`.
    overwrite: bool = False
    #: no progress bar
    quiet: bool = False


@dataclass
class HFFolderConfig:
    """A transformers folder: see amcli.models.hf."""

    #: the folder save_pretrained wrote (config.json, model.safetensors,
    #: preprocessor_config.json)
    path: str | None = None
    #: null: the feature extractor's; set, it must agree with it
    sample_rate: int | None = bounded(None, ge=4000, le=192000)


@dataclass
class HFClassifierConfig(HFFolderConfig):
    """A transformers audio-classification folder (``classifier=hf``), or a CLAP folder with
    text prompts as its classes."""

    #: CLAP folders only: the classes, as text prompts (e.g. ["an angry voice", "a calm
    #: voice"]); the classifier's logits are the model's scaled audio-text similarities
    labels: list[str] = field(default_factory=list)


@dataclass
class HFTrainConfig(HFFolderConfig):
    """``train-classifier model=hf``: the pretrained folder to fine-tune."""

    #: keep the convolutional feature encoder's pretrained filters (the usual recipe)
    freeze_feature_encoder: bool = True


@dataclass
class ModelConfig:
    """An architecture of conf/model/ and its size. Raw-only keys are null for mel models."""

    #: cnn_mel | crnn_mel | cnn_raw | crnn_raw | hf (set by model=)
    arch: str = "crnn_mel"
    #: channels of the first convolution block (doubling per block, up to 4x)
    width: int = bounded(16, ge=1)
    #: convolution blocks
    depth: int = bounded(4, ge=1)
    rnn_hidden: int = bounded(64, ge=0, hint="GRU units (0: no GRU)")
    #: size of the penultimate embedding (embed(), used by judge metrics)
    embed_dim: int = bounded(64, ge=1)
    #: dropout before the output layer
    dropout: float = bounded(0.2, ge=0, lt=1)
    #: raw models: kernel of the learned filterbank in samples; null for mel models
    frontend_kernel: int | None = None
    #: raw models: stride of the learned filterbank in samples; null for mel models
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
    #: model=hf: the transformers folder to fine-tune
    hf: HFTrainConfig = field(default_factory=HFTrainConfig)
    #: checkpoint name in the run folder; null = the architecture's name
    name: str | None = None
    #: seeds weights, batches and augmentation
    seed: int = TrainSettings.seed
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    # training settings: their defaults live in amcli.train.TrainSettings, the one source
    #: training epochs (one-cycle learning-rate schedule over them)
    epochs: int = bounded(TrainSettings.epochs, ge=1)
    #: clips per training batch
    batch_size: int = bounded(TrainSettings.batch_size, ge=1)
    #: peak learning rate of the one-cycle schedule
    lr: float = bounded(TrainSettings.lr, gt=0)
    #: AdamW weight decay
    weight_decay: float = bounded(TrainSettings.weight_decay, ge=0)
    #: stop after this many epochs without a better validation accuracy (the best epoch is kept)
    patience: int = bounded(TrainSettings.patience, ge=1)
    #: at most 3 dB: loudness is a class cue, a wider gain augmentation teaches the model to
    #: ignore it
    gain_db: float = bounded(TrainSettings.gain_db, ge=0, le=3,
                             hint="a gain augmentation of at most 3 dB")
    #: range of the SNR (dB) of the added-noise augmentation
    noise_snr_db: list[float] = field(default_factory=lambda: list(TrainSettings.noise_snr_db))
    #: share of training clips that get noise
    noise_prob: float = bounded(TrainSettings.noise_prob, ge=0, le=1)
    #: no progress bars
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False

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

    #: dotted path of your nn.Module class (package.module.Class), built without arguments
    target: str | None = None
    #: its state_dict as a .safetensors file
    weights: str | None = None
    #: class names in the order of the model's outputs
    classes: list[str] = field(default_factory=list)
    #: raw (the model takes waveforms [B, T]) or mel (amcli's log-mel [B, 64, frames])
    representation: str = "raw"
    #: the sample rate the model expects; inputs are resampled to it
    sample_rate: int = bounded(16000, ge=4000, le=192000)
    #: true for a multi-label model (a sigmoid per output, like an AudioSet tagger): its
    #: probabilities are each label's sigmoid, and raising the target leaves the other labels
    #: free (objective.suppress pushes them down)
    multi_label: bool = False


@dataclass
class EvaluateConfig:
    """Schema of ``amcli evaluate``."""

    #: a shipped name, a path to <name>.json or to a transformers folder, custom, or hf
    classifier: str = "crnn_mel"
    custom: CustomClassifierConfig = field(default_factory=CustomClassifierConfig)
    hf: HFClassifierConfig = field(default_factory=HFClassifierConfig)
    data: DataConfig = field(default_factory=DataConfig)
    #: test: the held-out groups the checkpoint recorded (or the seeded split of data.split); val,
    #: train, or all clips
    split: EvalSplit = EvalSplit.test
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    #: clips per forward pass
    batch_size: int = bounded(64, ge=1)
    #: no progress bar
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False


class Optimizer(Enum):
    adam = "adam"
    sgd = "sgd"


class Precision(Enum):
    fp32 = "fp32"
    bf16 = "bf16"  # autocast


class PlotFormat(Enum):
    png = "png"
    pdf = "pdf"
    svg = "svg"


class ObjectiveKind(Enum):
    logit = "logit"
    log_softmax = "log_softmax"
    prob = "prob"


@dataclass
class VocoderConfig:
    """How log-mel outputs (mel priors, mel inputs) become WAVs."""

    #: a TorchScript vocoder (log-mel [B, n_mels, frames] -> waveform [B, T]); null: Griffin-Lim
    path: str | None = None
    #: Griffin-Lim iterations when no vocoder path is given
    griffin_lim_iters: int = bounded(64, ge=1)


@dataclass
class ObjectiveConfig:
    #: what is maximized for the target: logit (Simonyan et al.), log_softmax or prob
    kind: ObjectiveKind = ObjectiveKind.logit
    #: minus this weight times the mean of the other classes' logits
    suppress: float = 0.0
    #: log_softmax only: stop rewarding the target beyond this probability (penalties then
    #: shrink what the method optimizes while the target stays about this probable); null: none
    cap: float | None = bounded(None, gt=0, lt=1, hint="a probability (or null)")
    #: a module name (e.g. body.convs.2): maximize its activation instead of a class
    layer: str | None = None
    #: with layer: the mean of one channel (axis 1) instead of the whole activation
    channel: int | None = bounded(None, ge=0)
    #: with layer: one unit (an index into the flattened activation) instead of a mean
    unit: int | None = bounded(None, ge=0)


@dataclass
class TransformConfig:
    #: apply random robustness transforms to what the classifier hears, fresh every step
    enabled: bool = True
    #: largest random time shift in seconds
    shift_s: float = bounded(0.05, ge=0)
    #: largest random gain in dB
    gain_db: float = bounded(1.0, ge=0)
    #: range of the SNR (dB) of the added white noise; null: no noise
    snr_db: list[float] | None = field(default_factory=lambda: [30.0, 50.0])


@dataclass
class OptimizeSettings:
    """The options of ``amcli optimize`` that every method shares."""

    #: a shipped name, a path to <name>.json or to a transformers folder, custom (custom.*), or hf
    #: (hf.*)
    classifier: str = "crnn_mel"
    #: classifier=custom: your own nn.Module (see amcli.models.custom)
    custom: CustomClassifierConfig = field(default_factory=CustomClassifierConfig)
    #: classifier=hf: a transformers audio-classification folder (see amcli.models.hf)
    hf: HFClassifierConfig = field(default_factory=HFClassifierConfig)
    #: an independent classifier that scores the outputs (transfer); null: none
    judge: str | None = "judge"
    #: set by the method group (conf/method/<name>.yaml): method=mask|input|latent|...
    method: str = "mask"
    #: a class name, a list [angry,sad], or all
    target: Any = "all"
    #: independent items per (clip, target), each from its own seed
    restarts: int = bounded(1, ge=1)
    #: most optimization steps per item
    steps: int = bounded(200, ge=1)
    #: null: the method's default (mask 0.1 on mask logits, input 0.003 on the signal, ...)
    lr: float | None = bounded(None, gt=0, hint="a positive learning rate (or null)")
    #: adam or sgd
    optimizer: Optimizer = Optimizer.adam
    #: an item stops once its target probability reaches this (after min_steps); null: run every
    #: step
    threshold: float | None = bounded(0.99, gt=0, le=1, hint="a probability (or null)")
    #: steps before an item may stop at threshold
    min_steps: int = bounded(100, ge=0)
    #: an item has reached its target when its target probability is at least this: its verdict
    #: (reached / not reached), which edits may be undone (prosody), faithfulness scores
    reached: float = bounded(0.9, gt=0, lt=1, hint="a probability")
    #: stop an item (after min_steps) once its best state has not improved for this many steps;
    #: null: never
    patience: int | None = bounded(None, ge=1, hint="a number of steps (or null)")
    #: the run's seed; every item derives its own from it and its identity
    seed: int = 0
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    #: fp32 or bf16 (autocast)
    precision: Precision = Precision.fp32
    #: CPU threads for torch; 0: the CPUs this process may use
    threads: int = bounded(0, ge=0)
    #: a clip or a folder of clips (methods that need one); null: the target's example clip
    input: str | None = None
    #: seconds of audio the classifier hears per clip: clips are cut or padded (centred) to it;
    #: 0: each clip's own length (all padded to the longest); null: the length the classifier
    #: was trained on (its checkpoint's clip_seconds; 3 s for custom and transformers models)
    clip_seconds: float | None = bounded(None, ge=0, hint="seconds (0: the clip's own, or null)")
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    vocoder: VocoderConfig = field(default_factory=VocoderConfig)
    transforms: TransformConfig = field(default_factory=TransformConfig)
    #: steps between history records (objective, probability, penalty)
    record_every: int = bounded(10, ge=1)
    #: measure acoustic cues (RMS, F0, centroid, rate) of every output against its reference
    cues: bool = True
    #: real clips (a folder, searched recursively): distances of the outputs to them in the
    #: judge's embedding space (KID and Frechet, with real clips and noise at the same N);
    #: null: not computed
    frechet_reference: str | None = None
    #: rerun on copies of the classifier with re-initialized weights (top layer, then all) and
    #: report how far the explanations move (Adebayo et al. 2018); triples the run time
    sanity: bool = False
    #: items per optimization batch; larger runs are split into chunks run one after another
    #: (0: all items in one batch, or on CUDA as many as fit 80% of the free memory)
    max_batch: int = bounded(0, ge=0, hint="a batch size, or 0 for one batch")
    #: run the classifier through torch.compile (CUDA: mode reduce-overhead, i.e. CUDA graphs)
    compile: bool = False
    #: png, pdf or svg
    plot_format: PlotFormat = PlotFormat.png
    #: no progress bar, only the summary
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False


def _method_fields() -> list[tuple[str, Any, Any]]:
    """One optional node per method's options and per config group a method owns."""
    nodes: dict[str, type] = {}
    for method in METHODS.values():
        nodes[method.config_key] = method.options_type
        nodes.update(method.groups)
    return [(key, Optional[kind], field(default=None)) for key, kind in nodes.items()]  # noqa: UP045


#: Schema of ``amcli optimize``: the shared settings plus every method's options node.
OptimizeConfig = dataclasses.make_dataclass("OptimizeConfig", _method_fields(),
                                            bases=(OptimizeSettings,))
OptimizeConfig.__doc__ = "Schema of ``amcli optimize``."


@dataclass
class TrainPriorConfig:
    """Schema of ``amcli train-prior``."""

    #: the config group conf/prior/ shared with optimize: prior=gan | prior=cgan
    prior: PriorConfig = field(default_factory=lambda: PriorConfig(kind=Prior.gan))
    #: mel (64 x 128 log-mel patches) or raw (16384 samples)
    representation: str = "mel"
    data: DataConfig = field(default_factory=DataConfig)
    #: checkpoint name in the run folder; null: <prior>_<representation>
    name: str | None = None
    #: seeds weights, crops and sample grids
    seed: int = GanSettings.seed
    #: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    # training settings: their defaults live in amcli.train.gan.GanSettings, the one source
    #: training iterations (one discriminator and one generator step each)
    iterations: int = bounded(GanSettings.iterations, ge=1)
    #: real crops per iteration
    batch_size: int = bounded(GanSettings.batch_size, ge=1)
    #: generator learning rate (Adam)
    lr_g: float = bounded(GanSettings.lr_g, gt=0)
    #: discriminator learning rate (Adam)
    lr_d: float = bounded(GanSettings.lr_d, gt=0)
    #: Adam beta1 of both networks
    beta1: float = bounded(GanSettings.beta1, ge=0, lt=1)
    #: Adam beta2 of both networks
    beta2: float = bounded(GanSettings.beta2, ge=0, lt=1)
    #: null: the representation's default (mel 128 / width 32; raw 100 / width 16)
    latent_dim: int | None = bounded(None, ge=1)
    #: generator width; null: the representation's default
    width: int | None = bounded(None, ge=1)
    #: discriminator width; null: the representation's default
    d_width: int | None = bounded(None, ge=1)
    #: size of the class embedding of a conditional prior
    embed_dim: int = bounded(32, ge=1)
    #: mode-seeking weight (MSGAN): rewards the generator for outputs that move with z
    diversity: float = bounded(GanSettings.diversity, ge=0)
    #: every this many iterations: sample grids (WAV + PNG), training state, generator checkpoint
    every: int = bounded(250, ge=1)
    #: samples in each sample grid
    n_samples: int = bounded(GanSettings.n_samples, ge=1)
    #: a run folder (or its state.safetensors) to continue from
    resume: str | None = None
    #: float16 generator weights in the checkpoint (float32 in the training state)
    half: bool = True
    #: judge for the quality figures at the end (Frechet distance, cgan accuracy); null: none
    judge: str | None = "judge"
    #: generated and real clips for the Frechet distance at the end
    quality_n: int = bounded(512, ge=2)
    #: CPU threads for torch; 0: the CPUs this process may use
    threads: int = bounded(0, ge=0)
    #: no progress bar
    quiet: bool = False
    #: replace an earlier run in the run folder (hydra.run.dir): the files that run wrote are
    #: removed first; without it such a folder is refused
    overwrite: bool = False

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


def methods_help() -> str:
    """``method=<name>  <summary>`` lines for ``amcli optimize --help`` (the ``${amcli_methods:}``
    resolver), so a new method appears there by itself."""
    import textwrap

    width = max(len(name) for name in METHODS) + len("method=")
    indent = " " * (width + 4)
    return "\n".join(textwrap.fill(method.summary, 96, initial_indent=indent,
                                   subsequent_indent=indent).replace(
                                       indent, f"  {('method=' + name).ljust(width)}  ", 1)
                     for name, method in METHODS.items())


def register_configs() -> None:
    """Register every command's schema and amcli's resolvers (idempotent)."""
    if not OmegaConf.has_resolver("amcli_methods"):
        OmegaConf.register_new_resolver("amcli_methods", methods_help)
    store = ConfigStore.instance()
    store.store(name="synth_schema", node=SynthConfig)
    store.store(name="train_classifier_schema", node=TrainClassifierConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="list_schema", node=ListConfig)
    store.store(name="optimize_schema", node=OptimizeConfig)
    store.store(name="report_schema", node=ReportConfig)
    store.store(name="train_prior_schema", node=TrainPriorConfig)


register_configs()
