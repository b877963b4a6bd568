"""Inputs a user will type, data at any sample rate, shared-machine manners: one line and exit 2
for every mistake, never a traceback, never a DONE marker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from amcli.resources import example_clip


def one_line(result) -> bool:
    lines = [line for line in result.err.splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in result.err


def tone(path: Path, rate: int = 16000, seconds: float = 1.0, freq: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


# ---- resampling: as fast for awkward ratios as for round ones ----------------------------------

def test_resampling_keeps_the_pitch_at_any_rate():
    from amcli.audio import resample

    for rate in (8000, 11025, 22050, 24414, 44100):
        t = torch.arange(rate) / rate
        wave = resample(torch.sin(2 * np.pi * 440 * t), rate, 16000)
        assert wave.shape[-1] == 16000
        spectrum = np.abs(np.fft.rfft(wave.numpy()))
        assert abs(np.argmax(spectrum) - 440) <= 1, rate


# ---- paths the shell hands over as typed -------------------------------------------------------

def test_paths_with_spaces_accents_quotes_and_brackets_work(cli, tmp_path, tiny):
    odd = tmp_path / "Données d'essai (v2) #1"
    clip = odd / "très <fort> & clair.wav"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(example_clip("angry").read_bytes())
    run = odd / "run [a]"
    result = cli("optimize", f"classifier={tiny / 'crnn_mel.json'}", f"input={clip}",
                 "target=angry", "steps=2", "min_steps=1", "cues=false", "judge=null",
                 "quiet=true", f"hydra.run.dir={run}")
    assert result.code == 0, result.err
    assert (run / "DONE").exists()
    page = (run / "report.html").read_text()
    assert "très &lt;fort&gt; &amp; clair" in page and "<fort>" not in page


def test_a_sweep_page_escapes_what_the_user_typed(cli, tmp_path, tiny):
    clip = tmp_path / "say \"hi\" <b>&amp;.wav"
    clip.write_bytes(example_clip("sad").read_bytes())
    sweep = tmp_path / "sweep"
    result = cli("optimize", "-m", f"classifier={tiny / 'crnn_mel.json'}", f"input={clip}",
                 "target=angry,sad", "steps=2", "min_steps=1", "cues=false", "judge=null",
                 "quiet=true", f"hydra.sweep.dir={sweep}")
    assert result.code == 0, result.err
    page = (sweep / "index.html").read_text()
    assert "<b>" not in page and "&lt;b&gt;&amp;amp;" in page and "&#34;hi&#34;" in page
    assert page.count('class="done"') == 2


def test_a_dataset_root_with_spaces_and_accents(cli, tmp_path, tiny):
    root = tmp_path / "mes clips à moi"
    for label in ("angry", "sad"):
        for k in range(2):
            tone(root / label / f"spk1_{k}.wav", freq=150 + 50 * k)
    result = cli("evaluate", f"classifier={tiny / 'crnn_mel.json'}", "data=folder",
                 f"data.root={root}", "split=all", "quiet=true")
    assert result.code == 0, result.err


# ---- numbers that are not numbers, or out of range ---------------------------------------------

@pytest.mark.parametrize(("command", "args", "message"), [
    ("optimize", ["lr=inf"], "lr=inf; give a finite number"),
    ("optimize", ["steps=0"], "steps=0; it must be at least 1"),
    ("optimize", ["mask.area=0"], "mask.area=0; the share of active frames to keep, in (0, 1]"),
    ("optimize", ["transforms.snr_db=[30,nan]"], "transforms.snr_db=nan; give a finite number"),
    ("optimize", ["method=latent", "latent.l2=-1"], "latent.l2=-1; it must be at least 0"),
    ("synth", ["n_per_class=0", "engine=numpy"], "n_per_class=0; it must be at least 1"),
    ("synth", ["jitter=-0.5", "engine=numpy"], "jitter=-0.5; it must be at least 0"),
    ("synth", ["workers=-1", "engine=numpy"], "workers=-1; a number of processes"),
    ("train-classifier", ["lr=nan"], "lr=nan; give a finite number"),
    ("train-classifier", ["gain_db=6"], "gain_db=6; a gain augmentation of at most 3 dB"),
    ("train-classifier", ["data.clip_seconds=0.2"], "data.clip_seconds=0.2; at least the 0.5 s"),
    ("train-prior", ["lr_g=0"], "lr_g=0; it must be more than 0"),
    ("evaluate", ["batch_size=0"], "batch_size=0; it must be at least 1"),
])
def test_bad_numbers_are_one_line_exit_2(cli, tmp_path, command, args, message):
    result = cli(command, *args, "quiet=true")
    assert result.code == 2, result.err
    assert message in result.err and one_line(result)
    assert not (tmp_path / "run" / "DONE").exists()


# ---- output folders that cannot be written -----------------------------------------------------

def test_an_output_folder_that_cannot_be_made_is_one_line(cli, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for where in (blocker / "run", Path("/proc/amcli-test/run")):
        result = cli("optimize", "target=angry", "steps=2", f"hydra.run.dir={where}")
        assert result.code == 2 and "cannot use" in result.err and one_line(result), result.err


# ---- datasets that hold nothing usable ---------------------------------------------------------

def test_a_dataset_with_no_clip_or_no_known_label_says_what_it_found(cli, tmp_path, tiny):
    empty = tmp_path / "empty"
    (empty / "angry").mkdir(parents=True)
    (empty / "angry" / "notes.txt").write_text("no audio here")
    result = cli("evaluate", f"classifier={tiny / 'crnn_mel.json'}", "data=folder",
                 f"data.root={empty}", "split=all", "quiet=true")
    assert result.code == 2 and one_line(result) and str(empty) in result.err, result.err
    bored = tmp_path / "bored"
    tone(bored / "bored" / "spk1_0.wav")
    tone(bored / "sleepy" / "spk1_0.wav")
    result = cli("evaluate", f"classifier={tiny / 'crnn_mel.json'}", "data=folder",
                 f"data.root={bored}", "split=all", "quiet=true")
    assert result.code == 2 and one_line(result)
    assert "labels found: ['bored', 'sleepy']" in result.err


def test_training_on_a_folder_that_lacks_declared_classes_is_refused(cli, tmp_path):
    root = tmp_path / "two_classes"
    for label in ("angry", "sad"):
        for speaker in ("spk1", "spk2", "spk3"):
            tone(root / label / f"{speaker}_0.wav")
    result = cli("train-classifier", "data=folder", f"data.root={root}", "epochs=1",
                 "quiet=true")
    assert result.code == 2 and one_line(result), result.err
    assert "holds no clip of ['neutral', 'happy']" in result.err
    assert "data.classes=['sad', 'angry']" in result.err
    assert not list((tmp_path / "run").glob("*.safetensors"))
    assert (tmp_path / "run" / "FAILED").exists()


# ---- evaluate never changes silently what the user asked ---------------------------------------

def test_evaluate_says_what_it_changed_or_refuses(cli, tmp_path, tiny):
    root = tmp_path / "clips22k"
    for label in ("angry", "sad"):
        for k in range(2):
            tone(root / label / f"spk1_{k}.wav", rate=22050)
    base = ["evaluate", f"classifier={tiny / 'crnn_mel.json'}", "data=folder",
            f"data.root={root}", "split=all", "quiet=true"]
    result = cli(*base, "data.sample_rate=22050")
    assert result.code == 0, result.err
    assert "note: data.sample_rate: 22050 -> the checkpoint's 16000 Hz" in result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert any("data.sample_rate" in line for line in metrics["changed"])
    # two of the model's four classes: it works, and says the figures are over those two
    assert metrics["absent_classes"] == ["neutral", "happy"]
    assert "(no clip of neutral, happy: the figures are over the other classes)" in result.out
    assert metrics["report"]["per_class"]["angry"]["n"] == 2
    refused = cli(*base, "data.classes=[angry,sad]", f"hydra.run.dir={tmp_path / 'r2'}")
    assert refused.code == 2 and one_line(refused)
    assert "differ from the classes of crnn_mel" in refused.err


# ---- subprocesses and workers on shared machines -----------------------------------------------

def test_workers_zero_means_the_cpus_this_process_may_use():
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from amcli.workers import resolve_workers, process_context; "
            "print(resolve_workers(0), process_context().get_start_method())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["1", "forkserver"]


def test_a_hung_espeak_is_a_clear_error(monkeypatch):
    from amcli.data.synth import espeak
    from amcli.data.synth.cues import sample_cues
    from amcli.data.synth.speakers import espeak_speakers
    from amcli.errors import UserError

    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(espeak.subprocess, "run", hang)
    speaker = espeak_speakers()[0]
    cues = sample_cues("neutral", np.random.default_rng(0))
    with pytest.raises(UserError, match="espeak-ng gave no answer within 30 s"):
        espeak.render("hello", speaker, cues)


def test_synth_workers_do_not_fork_and_match_one_process(tmp_path):
    from amcli.data.synth import write_corpus

    started = time.perf_counter()
    one = write_corpus(tmp_path / "one", engine="numpy", n_per_class=2, workers=1, seed=3)
    two = write_corpus(tmp_path / "two", engine="numpy", n_per_class=2, workers=2, seed=3)
    assert [r["path"] for r in one] == [r["path"] for r in two]
    for row in one:
        a, _ = sf.read(tmp_path / "one" / row["path"])
        b, _ = sf.read(tmp_path / "two" / row["path"])
        assert np.array_equal(a, b)
    assert time.perf_counter() - started < 120


# ---- the log-mel follows the sample rate -------------------------------------------------------

def test_mel_bands_reach_the_nyquist_frequency_at_any_rate():
    from amcli.features import FeatureParams, LogMel

    assert FeatureParams().f_max == 8000.0  # 16 kHz: the shipped checkpoints' value
    for rate in (8000, 11025, 22050):
        params = FeatureParams(sample_rate=rate)
        assert params.f_max == rate / 2
        noise = 0.1 * torch.randn(rate)
        mel = LogMel(params)(noise)
        assert (mel[-1] > np.log(params.log_floor) + 3).all(), rate  # no empty top band
