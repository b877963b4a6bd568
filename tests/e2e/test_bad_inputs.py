"""Bad inputs end in one line, exit 2, no traceback and no DONE (the run folder says FAILED)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CLASSES = "[neutral,happy,sad,angry]"

NAN_MODEL = '''
import torch
from torch import nn


class NanNet(nn.Module):
    """Finite on silence (amcli's load-time probe), NaN on any sound."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 4)

    def forward(self, wave):
        out = self.lin(wave.pow(2).mean(-1, keepdim=True))
        return out * float("nan") if bool(wave.abs().max() > 0) else out
'''


@pytest.fixture
def modules(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "nan_net.py").write_text(NAN_MODEL)
    (folder / "broken_net.py").write_text("import torch\nclass Net(torch.nn.Module:\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def one_line(result) -> None:
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "Traceback" not in result.err


def test_a_model_that_returns_nan_is_named_with_its_item(cli, tmp_path, modules):
    result = cli("optimize", "classifier=custom", "custom.target=nan_net.NanNet",
                 f"custom.classes={CLASSES}", "target=angry", "steps=5", "min_steps=1",
                 "judge=null", "quiet=true")
    one_line(result)
    assert "non-finite logits" in result.err and "angry_r0" in result.err
    run = tmp_path / "run"
    assert (run / "FAILED").exists() and not (run / "DONE").exists()
    assert json.loads((run / "metrics.json").read_text())["status"] == "failed"


@pytest.mark.parametrize(("extra", "message"), [
    (["custom.target=broken_net.Net", f"custom.classes={CLASSES}"], "SyntaxError"),
    (["custom.target=nan_net.NanNet", "custom.classes=[neutral,angry,sad,angry]"],
     "names angry more than once"),
])
def test_custom_model_mistakes(cli, tmp_path, modules, extra, message):
    result = cli("optimize", "classifier=custom", *extra, "target=angry", "steps=2",
                 "judge=null", "quiet=true")
    one_line(result)
    assert message in result.err
    assert not (tmp_path / "run" / "DONE").exists()


def test_report_on_a_run_whose_metrics_were_cut_short(cli, tmp_path, tiny):
    args = ["optimize", f"classifier={tiny / 'crnn_mel.json'}", "target=angry", "steps=3",
            "min_steps=1", "judge=null", "cues=false", "quiet=true"]
    assert cli(*args).code == 0
    metrics = tmp_path / "run" / "metrics.json"
    metrics.write_text(metrics.read_text()[:200])
    os.utime(metrics, (0, 0))  # older than the report call: the fixture only checks new files
    result = cli("report", str(tmp_path / "run"))
    one_line(result)
    assert "metrics.json is damaged" in result.err
    assert "WAV(s) in wav/" in result.err and "angry_r0.wav" in result.err


def test_prosody_refuses_a_clip_longer_than_it_can_analyse(cli, tmp_path, tiny):
    import numpy as np
    import soundfile as sf

    clip = tmp_path / "long.wav"
    sf.write(clip, 0.01 * np.random.default_rng(0).standard_normal(16000 * 31), 16000)
    result = cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", "method=prosody",
                 f"input={clip}", "target=angry", "steps=2", "judge=null", "quiet=true")
    one_line(result)
    assert "up to 30 s" in result.err and "clip_seconds=30" in result.err
    assert not (tmp_path / "run" / "DONE").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["compile=true", "objective.layer=body"], "compile=true with objective.layer=body"),
    (["frechet_reference=.", "judge=null"], "frechet_reference needs the judge"),
])
def test_options_that_would_be_ignored_are_refused(cli, tmp_path, tiny, extra, message):
    result = cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", "target=angry", "steps=2",
                 "quiet=true", *extra)
    one_line(result)
    assert message in result.err


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize("loader", ["classifier", "prior", "custom"])
def test_damaged_weights_of_any_loader_are_one_line(cli, tmp_path, tiny, modules, loader):
    import shutil

    from safetensors.torch import save_file

    copy = tmp_path / "weights"
    copy.mkdir()
    for name in ("crnn_mel", "gan_mel"):
        for suffix in (".json", ".safetensors"):
            shutil.copy(tiny / f"{name}{suffix}", copy / f"{name}{suffix}")
    if loader == "classifier":
        cut_in_half(copy / "crnn_mel.safetensors")
        args = [f"classifier={copy / 'crnn_mel.json'}"]
    elif loader == "prior":
        cut_in_half(copy / "gan_mel.safetensors")
        args = [f"classifier={tiny / 'crnn_mel.json'}", "method=latent", "prior=gan",
                f"prior.checkpoint={copy / 'gan_mel.json'}"]
    else:
        import torch

        save_file({"lin.weight": torch.zeros(4, 1), "lin.bias": torch.zeros(4)},
                  str(copy / "net.safetensors"))
        cut_in_half(copy / "net.safetensors")
        args = ["classifier=custom", "custom.target=nan_net.NanNet",
                f"custom.weights={copy / 'net.safetensors'}", f"custom.classes={CLASSES}"]
    result = cli("optimize", *args, "target=angry", "steps=2", "judge=null", "quiet=true")
    one_line(result)
    assert "weights" in result.err
    assert not (tmp_path / "run" / "DONE").exists()
