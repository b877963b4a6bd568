"""The classifier contract (see docs/design.md) and the pieces every architecture shares.

A classifier is an ``nn.Module`` with ``classes``, ``representation`` ("raw" | "mel"),
``sample_rate``, ``front_end`` (waveform [B, T] -> features; identity for raw), ``body``
(features -> logits [B, C]), ``forward(wave) = body(front_end(wave))`` and
``embed(wave) -> [B, D]`` (penultimate features, used by the judge). Methods that work in the mel
domain call ``body`` directly.

Loudness is a class cue, so nothing here normalizes a clip by its own level: the first layer of
every body is a BatchNorm whose statistics are fixed after training, the same for every clip.
"""

from __future__ import annotations

import torch
from torch import nn

from amcli.features import FeatureParams, LogMel

#: the version of the checkpoint sidecar format this amcli reads and writes
FORMAT_VERSION = 1

REPRESENTATIONS = ("raw", "mel")


class Body(nn.Module):
    """features -> logits, with the penultimate features exposed for ``embed``."""

    def features(self, x: torch.Tensor) -> torch.Tensor:  # [B, D]
        raise NotImplementedError

    def __init__(self, embed_dim: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embed_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


def class_probabilities(logits: torch.Tensor, multi_label: bool = False) -> torch.Tensor:
    """What a classifier's logits say about each class: a softmax over the classes, or for a
    multi-label model (a sigmoid per class, as AudioSet taggers) each label's own sigmoid."""
    return torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)


def class_log_probabilities(logits: torch.Tensor, multi_label: bool = False) -> torch.Tensor:
    """log of :func:`class_probabilities`, computed stably."""
    return nn.functional.logsigmoid(logits) if multi_label else torch.log_softmax(logits, -1)


def is_multi_label(model: nn.Module) -> bool:
    """True for a classifier whose labels are independent sigmoids (``multi_label``)."""
    return bool(getattr(model, "multi_label", False))


class Classifier(nn.Module):
    """A front end and a body, with the metadata the rest of amcli relies on.

    ``multi_label`` (False unless the loader says otherwise): the model's outputs are
    independent labels, each read through a sigmoid, not classes that share one softmax."""

    #: Shortest clip, in seconds, that the classifiers accept (pooling is length-agnostic;
    #: below this there is too little speech for an emotion decision).
    min_seconds: float = 0.5

    def __init__(
        self,
        body: Body,
        classes: list[str],
        representation: str,
        sample_rate: int,
        features: FeatureParams | None = None,
        front_end: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}")
        if representation == "mel" and front_end is None:
            features = features or FeatureParams(sample_rate=sample_rate)
            front_end = LogMel(features)
        self.front_end = front_end if front_end is not None else nn.Identity()
        self.body = body
        self.classes = list(classes)
        self.representation = representation
        self.sample_rate = int(sample_rate)
        self.feature_params = features if representation == "mel" else None
        self.multi_label = False

    @property
    def min_samples(self) -> int:
        return int(self.min_seconds * self.sample_rate)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.body(self.front_end(wave))

    def embed(self, wave: torch.Tensor) -> torch.Tensor:
        return self.body.features(self.front_end(wave))


class EvalSafeGRU(nn.GRU):
    """A GRU that stays in training mode, so gradients flow through it on CUDA in eval mode.

    cuDNN refuses RNN backward in eval mode ("cudnn RNN backward can only be called in training
    mode"), and activation maximization needs exactly that: gradients through a frozen, eval-mode
    model. A GRU without dropout computes the same function in both modes, so this one refuses
    dropout and ignores ``eval()``; tests check that outputs are unchanged.
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get("dropout", 0.0):
            raise ValueError("EvalSafeGRU must have dropout 0: its training mode is permanent")
        super().__init__(*args, **kwargs)

    def train(self, mode: bool = True) -> EvalSafeGRU:
        return super().train(True)


def conv_block_2d(c_in: int, c_out: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, ceil_mode=True),
    )


def conv_block_1d(c_in: int, c_out: int, pool: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool1d(pool, ceil_mode=True),
    )


def stats_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean and max over the last (time) axis: [B, C, T] -> [B, 2C]. Any length works."""
    return torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)
