"""Architecture names -> constructors. The names are those of conf/model/*.yaml and of the
``arch`` field of checkpoint sidecars."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amcli.features import FeatureParams
from amcli.models.base import Classifier
from amcli.models.cnn import MelBody, RawBody


def _mel(rnn: bool) -> Callable[..., Classifier]:
    def build(classes: list[str], sample_rate: int, features: FeatureParams | None = None,
              width: int = 16, depth: int = 4, rnn_hidden: int = 64, embed_dim: int = 64,
              dropout: float = 0.2) -> Classifier:
        features = features or FeatureParams(sample_rate=sample_rate)
        body = MelBody(features.n_mels, len(classes), width=width, depth=depth,
                       rnn_hidden=rnn_hidden if rnn else 0, embed_dim=embed_dim,
                       dropout=dropout)
        model = Classifier(body, classes, "mel", sample_rate, features=features)
        return model

    return build


def _raw(rnn: bool) -> Callable[..., Classifier]:
    def build(classes: list[str], sample_rate: int, features: FeatureParams | None = None,
              width: int = 32, depth: int = 4, rnn_hidden: int = 64, embed_dim: int = 64,
              dropout: float = 0.2, frontend_kernel: int = 64,
              frontend_stride: int = 8) -> Classifier:
        body = RawBody(len(classes), width=width, depth=depth,
                       rnn_hidden=rnn_hidden if rnn else 0, embed_dim=embed_dim,
                       dropout=dropout, frontend_kernel=frontend_kernel,
                       frontend_stride=frontend_stride)
        model = Classifier(body, classes, "raw", sample_rate)
        return model

    return build


ARCHITECTURES: dict[str, Callable[..., Classifier]] = {
    "cnn_mel": _mel(rnn=False),
    "crnn_mel": _mel(rnn=True),
    "cnn_raw": _raw(rnn=False),
    "crnn_raw": _raw(rnn=True),
}


def build_classifier(
    arch: str,
    classes: list[str],
    sample_rate: int,
    features: FeatureParams | None = None,
    **hparams: Any,
) -> Classifier:
    """Build an untrained classifier of a registered architecture."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}'; known: {', '.join(ARCHITECTURES)}")
    model = ARCHITECTURES[arch](classes, sample_rate, features=features, **hparams)
    model.arch = arch
    model.hparams = dict(hparams)
    return model
