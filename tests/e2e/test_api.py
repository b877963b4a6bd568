"""amcli.explain: one call from Python runs the CLI's pipeline and gives back what it found."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from amcli import Explanation, Explanations, explain
from amcli.cli import main
from amcli.errors import UserError

FAST = {"steps": 4, "min_steps": 1}


class FirstHalf(nn.Module):
    """A classifier that hears only the first half of a clip: "early" rises with its level."""

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        half = wave.shape[-1] // 2
        level = wave[:, :half].pow(2).mean(-1).add(1e-8).log()
        return torch.stack([torch.zeros_like(level), level + 6.0], -1)


def noise_clip(seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    return 0.1 * np.random.default_rng(0).standard_normal(int(seconds * rate)).astype(np.float32)


def test_explain_gives_what_the_cli_gives_for_the_same_options_and_seed(tmp_path):
    options = ["method=mask", "target=angry", "steps=6", "min_steps=1", "seed=5"]
    assert main(["optimize", *options, f"hydra.run.dir={tmp_path / 'cli'}", "quiet=true"]) == 0
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())["items"][0]
    found = explain("crnn_mel", None, "angry", method="mask", steps=6, min_steps=1, seed=5)
    assert isinstance(found, Explanation)
    assert found.p_after == cli["target_prob"] and found.verdict == cli["verdict"]
    assert found.controls == cli["mask"] == found.details
    assert found.edits is None  # another method's numbers
    with pytest.raises(AttributeError, match="no attribute 'controlz'"):
        found.controlz  # noqa: B018
    cli_wave, _ = sf.read(tmp_path / "cli" / cli["output"], dtype="float32")
    assert torch.equal(found.audio[0], torch.from_numpy(cli_wave))


@pytest.mark.parametrize("method, extra", [("mask", {}), ("input", {}),
                                           ("latent", {"prior": "gan"}), ("prosody", {})])
def test_explain_runs_every_method_on_a_shipped_model(method, extra):
    found = explain("crnn_mel", None, "sad", method=method, **extra, **FAST)
    assert found.method == method and found.target == "sad"
    assert found.verdict in ("reached", "not reached", "not an explanation")
    assert found.audio.shape[-1] > 0 and found.sample_rate == 16000
    page = found._repr_html_()
    assert page.count("<audio") == (2 if found.input_audio is not None else 1)
    assert "<table>" in page and "sad" in page
    assert found.plot().axes  # a matplotlib figure of the run's own plots
    if method == "prosody":
        assert found.p_before is not None and found.edits is not None
        assert found.in_words == found.in_words.strip() and found.arrays["f0_before"].ndim == 1


def test_explain_lends_a_module_and_hands_it_back_as_it_came():
    net = FirstHalf().train()
    found = explain(net, noise_clip(), 1, method="mask", sample_rate=16000,
                    classes=["late", "early"], clip_seconds=0, seed=0)
    assert found.target == "early"  # an index names the class in the module's output order
    assert net.training  # handed back in training mode, as it was lent
    mask = found.arrays["mask"]
    half = len(mask) // 2
    assert mask[:half].mean() > 0.9 > 0.1 > mask[half:].mean()  # it keeps what the model hears
    assert found.input_audio.shape == (1, 16000)
    # the clip as the model heard it, as the run writes it (16-bit WAV)
    np.testing.assert_allclose(found.input_audio[0].numpy(), noise_clip(), atol=2**-15)


def test_captums_infidelity_scores_an_amcli_mask_and_prefers_it_to_its_mirror_image():
    """Interop: the mask as an attribution aligned with the input (Captum's convention) is
    scored by Captum's infidelity; on a model that hears only the first half it explains the
    model far better than the same mask reversed in time."""
    metrics = pytest.importorskip("captum.metrics")
    net = FirstHalf().eval()
    found = explain(net, noise_clip(), "early", method="mask", sample_rate=16000,
                    classes=["late", "early"], clip_seconds=0, seed=0)
    wave, attribution = found.input_audio, found.attribution_map()
    assert attribution.shape == wave.shape
    hop = int(found.arrays["hop"])
    frames = wave.shape[-1] // hop

    def remove_frames(inputs: torch.Tensor):
        keep = (torch.rand(inputs.shape[0], frames) > 0.3).float()
        gate = torch.repeat_interleave(keep, hop, dim=1)
        gate = nn.functional.pad(gate, (0, inputs.shape[-1] - gate.shape[-1]), value=1.0)
        return 1.0 - gate, inputs * gate

    def scored(candidate: torch.Tensor) -> float:
        torch.manual_seed(0)
        with torch.no_grad():
            return float(metrics.infidelity(lambda w: torch.softmax(net(w), -1), remove_frames,
                                            wave, candidate, target=1, n_perturb_samples=64,
                                            normalize=True))

    assert scored(attribution) * 5 < scored(attribution.flip(-1))


def test_explain_takes_a_transformers_folder_and_several_targets(tmp_path):
    pytest.importorskip("transformers")
    from amcli.models.hf_training import init_hf_folder

    folder = init_hf_folder(tmp_path / "w2v2", "wav2vec2", ["calm", "joy", "fear"],
                            hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(16, 16, 16), conv_stride=(5, 4, 4),
                            conv_kernel=(10, 4, 4), num_conv_pos_embeddings=8,
                            num_conv_pos_embedding_groups=2, classifier_proj_size=16)
    found = explain(folder, torch.from_numpy(noise_clip()), ["joy", "fear"], method="mask",
                    sample_rate=16000, **FAST)
    assert isinstance(found, Explanations) and [e.target for e in found] == ["joy", "fear"]
    page = found._repr_html_()
    assert page.count("<audio") == 2 and page.count("<tr>") == 3  # one table: header + 2 rows
    kept = found.save(tmp_path / "kept")
    assert (kept / "metrics.json").is_file() and (kept / "report.html").is_file()
    assert (kept / "arrays" / f"{found[0].stem}.npz").is_file()
    with pytest.raises(UserError, match="exists and is not empty"):
        found.save(tmp_path / "kept")


def test_explain_refuses_bad_input_in_one_line():
    with pytest.raises(UserError, match="give sample_rate= with audio as an array"):
        explain("crnn_mel", noise_clip(), "sad", method="mask")
    with pytest.raises(UserError, match="needs classes="):
        explain(FirstHalf(), noise_clip(), 0, sample_rate=16000)
    with pytest.raises(UserError, match="target index 7 is out of range"):
        explain(FirstHalf(), noise_clip(), 7, sample_rate=16000, classes=["late", "early"])
    with pytest.raises(UserError, match="unknown target"):
        explain("crnn_mel", None, "bored", method="mask", **FAST)
    with pytest.raises(UserError, match="config error"):
        explain("crnn_mel", None, "sad", method="mask", mask={"are": 0.3}, **FAST)


def test_explain_cleans_up_its_temporary_folders_and_never_the_users(tmp_path, monkeypatch):
    import gc
    import tempfile

    made = []

    def mkdtemp(**kw):
        made.append(Path(tempfile_mkdtemp(**kw)))
        return str(made[-1])

    tempfile_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr("amcli.scratch.tempfile.mkdtemp", mkdtemp)
    found = explain("crnn_mel", None, "angry", method="mask", **FAST)
    assert found.folder.parent == made[-1] and found.audio.numel() > 0
    del found
    gc.collect()
    assert not made[-1].exists()  # gone with the last explanation of the run
    kept = explain("crnn_mel", noise_clip(), "angry", method="mask", sample_rate=16000,
                   folder=tmp_path / "mine", **FAST)
    assert not made[-1].exists()  # the input's scratch copy: the run holds its own
    assert (tmp_path / "mine" / "metrics.json").is_file() and kept.audio.numel() > 0
    del kept
    gc.collect()
    assert (tmp_path / "mine" / "metrics.json").is_file()  # the user's folder stays
    with pytest.raises(UserError):
        explain("crnn_mel", None, "no-such-class", method="mask", **FAST)
    assert not made[-1].exists()  # a failed run leaves nothing behind
