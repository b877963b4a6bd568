"""Fixtures of the end-to-end tests: tiny untrained classifier and prior checkpoints (fast to
optimize)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from amcli.models import build_classifier, save_classifier
from amcli.models.checkpoint import save_generator
from amcli.models.gan import build_gan

CLASSES = ["neutral", "happy", "sad", "angry"]


def pytest_collection_modifyitems(config, items) -> None:
    """Every end-to-end test is slow: ``pytest -m "not slow"`` is the fast unit tier."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny")
    for arch in ("crnn_mel", "cnn_raw"):
        model = build_classifier(arch, CLASSES, 16000, width=4, depth=2, rnn_hidden=8,
                                 embed_dim=8)
        save_classifier(model, folder / arch, clip_seconds=1.0)
    for rep, width in (("mel", 4), ("raw", 4)):
        for conditional in (False, True):
            gen, _ = build_gan(rep, CLASSES, conditional, width=width, latent_dim=8)
            gen.standing_stats(batches=2, batch_size=8)
            save_generator(gen.eval(), folder / f"{'c' if conditional else ''}gan_{rep}")
    return folder


