"""Fixtures of the end-to-end tests: a tiny untrained model checkpoint (fast to optimize)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from amcli.models import build_classifier, save_classifier

CLASSES = ["neutral", "happy", "sad", "angry"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny")
    for arch in ("crnn_mel", "cnn_raw"):
        model = build_classifier(arch, CLASSES, 16000, width=4, depth=2, rnn_hidden=8,
                                 embed_dim=8)
        save_classifier(model, folder / arch, clip_seconds=1.0)
    return folder


