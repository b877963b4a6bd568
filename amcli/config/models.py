"""The model and classifier nodes that several commands' schemas share (``model``, ``hf``,
``custom``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from amcli.bounds import bounded


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

