"""`method=latent` and `amcli train-prior` end to end on tiny checkpoints and a tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
import torch

from amcli.data.synth import write_corpus


def latent_args(tiny: Path, prior: str, *extra: str, classifier: str = "crnn_mel") -> list[str]:
    kind = "cgan" if prior.startswith("cgan") else "gan"
    return ["optimize", f"classifier={tiny / (classifier + '.json')}", "method=latent",
            f"prior={kind}", f"prior.checkpoint={tiny / (prior + '.json')}", "steps=12",
            "min_steps=4", "record_every=4", "quiet=true", *extra]


def test_latent_with_a_conditional_mel_prior_writes_outputs_and_conditions(cli, tmp_path, tiny):
    result = cli(*latent_args(tiny, "cgan_mel", "target=[angry,sad]", "restarts=2"))
    assert result.code == 0, result.err
    run = tmp_path / "run"
    assert {p.name for p in (run / "wav").iterdir()} == {
        "angry_r0.wav", "angry_r1.wav", "sad_r0.wav", "sad_r1.wav"}  # no input clip
    audio, rate = sf.read(run / "wav" / "angry_r0.wav")
    assert rate == 16000 and len(audio) == 127 * 256  # 128 frames, Griffin-Lim
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["run"]["prior"]["kind"] == "cgan"
    assert metrics["run"]["prior"]["name"] == "cgan_mel"
    assert metrics["run"]["prior"]["condition"] == "target"
    assert [i["condition"] for i in metrics["items"]] == ["angry", "angry", "sad", "sad"]
    assert all("mask" not in i and i["input"] is None for i in metrics["items"])
    assert all(i["cues"]["reference_is"] ==
               "neutral example, through the same vocoder (griffin-lim)"
               for i in metrics["items"])
    # restarts start from different z: different outputs
    a, _ = sf.read(run / "wav" / "angry_r0.wav")
    b, _ = sf.read(run / "wav" / "angry_r1.wav")
    assert abs(a - b).max() > 1e-3


def test_a_fixed_condition_separates_what_the_generator_was_told(cli, tmp_path, tiny):
    result = cli(*latent_args(tiny, "cgan_mel", "target=angry", "condition=neutral"))
    assert result.code == 0, result.err
    assert "condition= is now latent.condition=" in result.err  # the old spelling still works
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["items"][0]["condition"] == "neutral"
    assert metrics["items"][0]["target"] == "angry"


def test_latent_with_a_raw_prior_on_a_raw_classifier(cli, tmp_path, tiny):
    result = cli(*latent_args(tiny, "gan_raw", "target=happy", classifier="cnn_raw"))
    assert result.code == 0, result.err
    audio, _ = sf.read(tmp_path / "run" / "wav" / "happy_r0.wav")
    assert len(audio) == 16384
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "condition" not in metrics["items"][0]


@pytest.mark.parametrize(
    ("prior", "classifier", "extra", "message"),
    [
        ("gan_mel", "cnn_raw", [], "prior gan_mel makes mel but classifier"),
        ("gan_raw", "crnn_mel", [], "prior gan_raw makes raw but classifier"),
        ("cgan_mel", "crnn_mel", ["prior=gan"], "prior=gan but cgan_mel is a conditional"),
        ("cgan_mel", "crnn_mel", ["latent.condition=furious"],
         "condition furious is not a class"),
        ("cgan_mel", "crnn_mel", ["vocoder.path=/no/voc.pt"], "vocoder.path=/no/voc.pt not found"),
    ],
)
def test_prior_mismatches_are_refused_in_one_line(cli, tmp_path, tiny, prior, classifier,
                                                  extra, message):
    result = cli(*latent_args(tiny, prior, "target=angry", *extra, classifier=classifier))
    assert result.code == 2, result.err
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert (tmp_path / "run" / "FAILED").exists() and not (tmp_path / "run" / "DONE").exists()


class Upsampler(torch.nn.Module):
    """A stand-in neural vocoder: log-mel -> a waveform with hop 256."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        level = torch.sigmoid(mel.mean(1))
        return 0.1 * torch.tanh(level.repeat_interleave(256, dim=-1))


def test_a_torchscript_vocoder_replaces_griffin_lim(cli, tmp_path, tiny):
    path = tmp_path / "voc.pt"
    torch.jit.save(torch.jit.script(Upsampler()), str(path))
    result = cli(*latent_args(tiny, "gan_mel", "target=sad", f"vocoder.path={path}"))
    assert result.code == 0, result.err
    audio, _ = sf.read(tmp_path / "run" / "wav" / "sad_r0.wav")
    assert len(audio) == 128 * 256  # the vocoder's own length, not Griffin-Lim's
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not torchscript")
    result = cli(*latent_args(tiny, "gan_mel", "target=sad", f"vocoder.path={bad}"))
    assert result.code == 2 and "is not a usable TorchScript vocoder" in result.err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, engine="numpy", n_per_class=12, workers=1, seed=5)
    return root


def test_train_prior_writes_a_checkpoint_samples_and_resumes(cli, tmp_path, corpus, tiny):
    args = ["train-prior", "prior=cgan", "representation=mel", f"data.root={corpus}",
            "width=4", "latent_dim=8", "batch_size=4", "every=2", "n_samples=2",
            "quality_n=16", "quiet=true"]
    first = tmp_path / "first"
    result = cli(*args, "iterations=4", f"hydra.run.dir={first}")
    assert result.code == 0, result.err
    names = {p.name for p in first.iterdir()}
    assert {"DONE", "metrics.json", "cgan_mel.json", "cgan_mel.safetensors",
            "state.safetensors", "samples"} <= names
    assert {p.name for p in (first / "samples").iterdir()} == {
        f"iter_{i:06d}.{ext}" for i in (2, 4) for ext in ("png", "wav")}
    sidecar = json.loads((first / "cgan_mel.json").read_text())
    assert sidecar["kind"] == "generator" and sidecar["conditional"] is True
    quality = sidecar["metrics"]
    assert quality["iterations"] == 4 and quality["n"] == 16
    for key in ("fd_generated", "fd_noise", "fd_heldout_real", "judge_accuracy"):
        assert quality[key] >= 0
    assert set(quality["judge_accuracy_per_condition"]) == {"neutral", "happy", "sad", "angry"}

    # continue the run in another folder: iterations 5 and 6 only
    second = tmp_path / "second"
    result = cli(*args, "iterations=6", f"resume={first}", f"hydra.run.dir={second}")
    assert result.code == 0, result.err
    metrics = json.loads((second / "metrics.json").read_text())
    assert metrics["resumed_from"]["iteration"] == 4
    assert [r["iteration"] for r in metrics["train"]["history"]] == [1, 2, 3, 4, 5, 6]
    assert {p.name for p in (second / "samples").iterdir()} == {
        f"iter_{i:06d}.{ext}" for i in (6,) for ext in ("png", "wav")}

    # the trained prior plugs into method=latent
    used = cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", "method=latent",
               "prior=cgan", f"prior.checkpoint={second / 'cgan_mel.json'}", "target=sad",
               "steps=4", "min_steps=2", "record_every=2", "quiet=true",
               f"hydra.run.dir={tmp_path / 'use'}")
    assert used.code == 0, used.err

    wrong = cli(*args, "prior=gan", "iterations=6", f"resume={first}",
                f"hydra.run.dir={tmp_path / 'wrong'}")
    assert wrong.code == 2 and "resume it with the same prior=" in wrong.err


def test_frechet_distance_of_the_outputs_to_real_clips(cli, tmp_path, tiny):
    from amcli.resources import example_clip

    result = cli(*latent_args(tiny, "gan_mel", "target=all",
                              f"frechet_reference={example_clip('sad').parent}"))
    assert result.code == 0, result.err
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())["summary"]
    fd = summary["distance_to_real"]
    assert fd["n_outputs"] == 4 and fd["n_reference"] == 256 and fd["embedding_dim"] > 0
    assert fd["outputs"]["frechet"] > 0 and fd["noise_at_same_n"]["frechet"] > 0
    assert fd["real_at_same_n"]["kid"] < fd["noise_at_same_n"]["kid"]
    assert fd["real_at_same_n"]["frechet_std"] > 0  # a spread over draws at the outputs' N
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = cli(*latent_args(tiny, "gan_mel", "target=[sad,angry]",
                               f"frechet_reference={empty}", f"hydra.run.dir={tmp_path / 'e'}"))
    assert missing.code == 2 and "holds fewer than 2 audio files" in missing.err
    single = cli(*latent_args(tiny, "gan_mel", "target=sad", f"hydra.run.dir={tmp_path / 's'}",
                              f"frechet_reference={example_clip('sad').parent}"))
    assert single.code == 0, single.err
    fd = json.loads((tmp_path / "s" / "metrics.json").read_text())["summary"]["distance_to_real"]
    assert "outputs" not in fd and "at least 2 outputs" in fd["note"]


def test_ctrl_c_in_train_prior_saves_the_state_and_marks_interrupted(cli, tmp_path, corpus,
                                                                     monkeypatch):
    from amcli.train.gan import GanTrainer

    real_step = GanTrainer.step

    def step(self):
        if self.iteration == 2:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(GanTrainer, "step", step)
    run = tmp_path / "stopped"
    result = cli("train-prior", "representation=raw", f"data.root={corpus}", "width=2",
                 "latent_dim=8", "batch_size=2", "iterations=5", "every=5", "judge=null",
                 "quiet=true", f"hydra.run.dir={run}")
    assert result.code == 130
    assert (run / "INTERRUPTED").exists() and not (run / "DONE").exists()
    from safetensors import safe_open

    with safe_open(str(run / "state.safetensors"), "pt") as handle:
        assert handle.metadata()["iteration"] == "2"
    monkeypatch.setattr(GanTrainer, "step", real_step)
    again = cli("train-prior", "representation=raw", f"data.root={corpus}", "width=2",
                "latent_dim=8", "batch_size=2", "iterations=5", "every=5", "judge=null",
                "quiet=true", f"hydra.run.dir={run}")  # the same folder resumes by itself
    assert again.code == 0, again.err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["resumed_from"]["iteration"] == 2 and (run / "DONE").exists()
    assert json.loads((run / "gan_raw.json").read_text())["metrics"] == {"iterations": 5}
