"""Schema of ``amcli optimize``: the shared settings, plus one optional node per AM method and per
config group a method owns (see the package's docstring)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from amcli.am.methods import DEFAULT_METHOD, METHODS
from amcli.bounds import bounded
from amcli.config.models import CustomClassifierConfig, HFClassifierConfig


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
    method: str = DEFAULT_METHOD
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

