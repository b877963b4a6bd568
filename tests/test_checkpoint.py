"""Checkpoint I/O: bit-equal round trips, refusals, user models."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from safetensors.torch import save_file

from amcli.errors import UserError
from amcli.models import (
    ARCHITECTURES,
    build_classifier,
    load_classifier,
    load_custom_classifier,
    save_classifier,
)

CLASSES = ["neutral", "happy", "sad", "angry"]


def saved(tmp_path, arch="cnn_mel", **hparams):
    torch.manual_seed(1)
    model = build_classifier(arch, CLASSES, 16000, **hparams)
    # train-mode batches move the BatchNorm statistics away from their defaults
    model.train()
    model(0.1 * torch.randn(4, 16000))
    model.eval()
    return model, save_classifier(model, tmp_path / arch, clip_seconds=3.0,
                                  metrics={"test_accuracy": 0.5})


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_round_trip_gives_bit_equal_outputs(tmp_path, arch):
    model, sidecar = saved(tmp_path, arch)
    loaded = load_classifier(sidecar)
    wave = 0.1 * torch.randn(3, 24000)
    with torch.no_grad():
        assert torch.equal(model(wave), loaded(wave))
        assert torch.equal(model.embed(wave), loaded.embed(wave))
    meta = json.loads(sidecar.read_text())
    assert meta["format_version"] == 1 and meta["kind"] == "classifier"
    assert meta["arch"] == arch and meta["classes"] == CLASSES
    assert (meta["features"] is None) == (arch.endswith("raw"))
    assert loaded.checkpoint["sha256"] == meta["sha256"]
    # by stem, by .safetensors path, by name in a search folder
    assert load_classifier(tmp_path / f"{arch}.safetensors").classes == CLASSES
    assert load_classifier(arch, search=[tmp_path]).arch == arch


def test_pickle_files_are_refused_without_being_opened(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(UserError, match="pickle-format file, which amcli never loads"):
        load_classifier(path)


def test_wrong_sha256_is_refused(tmp_path):
    _, sidecar = saved(tmp_path)
    weights = sidecar.with_suffix(".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(UserError, match="do not match their sidecar"):
        load_classifier(sidecar)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["hparams"].update(width=24), "does not match its arch"),
        (lambda m: m.update(classes=["a", "b", "c"]), "does not match its arch"),
        (lambda m: m.update(arch="transformer"), "unknown arch 'transformer'"),
        (lambda m: m.update(format_version=2), "format_version 2"),
        (lambda m: m.pop("sha256"), "lacks sha256"),
        (lambda m: m.update(kind="generator"), "is a generator, not a classifier"),
    ],
)
def test_a_sidecar_that_does_not_match_is_refused(tmp_path, edit, message):
    _, sidecar = saved(tmp_path)
    meta = json.loads(sidecar.read_text())
    edit(meta)
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(UserError, match=message):
        load_classifier(sidecar)


def test_missing_files_name_the_fix(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_classifier("no_such_model")
    _, sidecar = saved(tmp_path)
    sidecar.with_suffix(".safetensors").unlink()
    with pytest.raises(UserError, match="weights .* are missing"):
        load_classifier(sidecar)


USER_MODEL = """
import torch
from torch import nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 9, stride=4)
        self.head = nn.Linear(8, {n})

    def embed(self, wave):
        return torch.relu(self.conv(wave.unsqueeze(1))).mean(dim=-1)

    def forward(self, wave):
        return self.head(self.embed(wave))
"""


@pytest.fixture
def user_model(tmp_path, monkeypatch):
    package = tmp_path / "usermodels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(textwrap.dedent(USER_MODEL.format(n=4)))
    (package / "bad.py").write_text(textwrap.dedent(USER_MODEL.format(n=3)))
    monkeypatch.syspath_prepend(str(tmp_path))
    from usermodels.nets import TinyNet

    torch.manual_seed(2)
    net = TinyNet()
    weights = tmp_path / "tiny.safetensors"
    save_file(net.state_dict(), weights)
    return net, weights


def test_user_model_plugs_in_and_keeps_its_outputs(user_model):
    net, weights = user_model
    model = load_custom_classifier("usermodels.nets.TinyNet", weights, CLASSES, "raw", 16000)
    wave = 0.1 * torch.randn(2, 16000)
    with torch.no_grad():
        assert torch.equal(model(wave), net(wave))
        assert model.embed(wave).shape == (2, 8)
    assert model.classes == CLASSES and model.representation == "raw"


@pytest.mark.parametrize(
    ("target", "classes", "weights", "message"),
    [
        ("usermodels.nets.NoSuchNet", CLASSES, None, "has no 'NoSuchNet'"),
        ("usermodels.bad.TinyNet", CLASSES, None, r"returns shape \(1, 3\)"),
        ("usermodels.nets.TinyNet", CLASSES[:3], None, "expected \\(1, 3\\)"),
        ("usermodels.nets.TinyNet", CLASSES, "model.pth", "pickle-format"),
    ],
)
def test_user_model_mistakes_fail_at_load_time(user_model, target, classes, weights, message):
    with pytest.raises(UserError, match=message):
        load_custom_classifier(target, weights, classes, "raw", 16000)


def test_user_weights_that_do_not_fit_are_refused(user_model, tmp_path):
    save_file({"other": torch.zeros(3)}, tmp_path / "other.safetensors")
    with pytest.raises(UserError, match="do not fit"):
        load_custom_classifier("usermodels.nets.TinyNet", tmp_path / "other.safetensors",
                               CLASSES, "raw", 16000)
