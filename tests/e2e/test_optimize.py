"""`amcli optimize` end to end on a tiny untrained model: files, metrics.json, markers,
repeatability, interruption, refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

CLASSES = ["neutral", "happy", "sad", "angry"]


def run_args(tiny: Path, *extra: str) -> list[str]:
    return ["optimize", f"classifier={tiny / 'crnn_mel.json'}", "steps=20", "min_steps=5",
            "record_every=5", "quiet=true", *extra]


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "wav").glob("*.wav"))}


def test_mask_run_writes_every_file_and_metrics_follow_the_design(cli, tmp_path, tiny):
    result = cli(*run_args(tiny, "target=[angry,sad]", "restarts=2"))
    assert result.code == 0, result.err
    run = tmp_path / "run"
    wavs = {p.name for p in (run / "wav").iterdir()}
    assert wavs == {"input_angry.wav", "input_sad.wav", "angry_r0.wav", "angry_r1.wav",
                    "sad_r0.wav", "sad_r1.wav"}
    plots = {p.name for p in (run / "plots").iterdir()}
    assert plots == {f"{t}_r{k}_{kind}.png" for t in ("angry", "sad") for k in (0, 1)
                     for kind in ("mask", "spec")}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["kind"] == "optimize" and metrics["status"] == "done"
    info = metrics["run"]
    for key in ("amcli_version", "torch_version", "device", "seed", "command_line",
                "overrides", "classifier", "prior", "started", "finished"):
        assert key in info
    assert info["classifier"]["sha256"] and info["prior"] is None
    assert info["command_line"].startswith("amcli optimize classifier=")
    assert len(metrics["items"]) == 4
    for item in metrics["items"]:
        assert set(item) >= {"target", "restart", "input", "probs", "target_prob", "steps",
                             "stop_reason", "mask", "history"}
        assert item["stop_reason"] in ("threshold", "max_steps")
        assert set(item["probs"]) == set(CLASSES)
        assert item["target_prob"] == pytest.approx(item["probs"][item["target"]])
        assert set(item["mask"]) >= {"mean", "area", "tv", "binarized_prob",
                                     "uniform_gain_prob", "shifted_prob", "original_prob",
                                     "masked_out_prob"}
        assert item["judge_top1"] in CLASSES
        assert item["cues"]["reference_is"] == "input"
        assert set(item["cues"]["shift"]) == {"rms_db", "f0_mean_st", "f0_spread_st",
                                              "voiced_fraction", "centroid_hz", "onset_rate"}
        assert item["judge_prob"] == pytest.approx(item["judge_probs"][item["target"]])
        assert item["history"]["step"][0] == 0 and len(item["history"]["target_prob"]) == \
            len(item["history"]["step"])
    assert [i["restart"] for i in metrics["items"]] == [0, 1, 0, 1]
    assert info["judge"]["name"] == "judge" and info["judge"]["sha256"]
    overall = metrics["summary"]
    assert set(overall["targets"]) == {"angry", "sad"}
    assert 0 <= overall["transfer_rate"] <= 1
    assert set(overall["faithfulness"]) == {"AI", "AD", "AG", "FF", "Fid_In", "n"}
    # exactly one marker, written last
    markers = [p for p in run.iterdir() if p.name in ("DONE", "FAILED", "INTERRUPTED")]
    assert [m.name for m in markers] == ["DONE"]
    newest = max(p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()
                 and ".hydra" not in p.parts and p.suffix != ".log")
    assert (run / "DONE").stat().st_mtime_ns == newest


def test_same_seed_gives_identical_wavs_and_metrics(cli, tmp_path, tiny):
    first = cli(*run_args(tiny, "target=happy", "restarts=2", f"hydra.run.dir={tmp_path / 'a'}"))
    second = cli(*run_args(tiny, "target=happy", "restarts=2",
                           f"hydra.run.dir={tmp_path / 'b'}"))
    assert first.code == second.code == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    items = [json.loads((tmp_path / d / "metrics.json").read_text())["items"] for d in "ab"]
    assert items[0] == items[1]


def test_input_method_on_a_raw_model_is_reported_as_adversarial(cli, tmp_path, tiny):
    result = cli("optimize", f"classifier={tiny / 'cnn_raw.json'}", "method=input",
                 "target=sad", "steps=10", "signal.seconds=1.0", "quiet=true", "judge=null")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "adversarial" in metrics["note"]
    assert metrics["items"][0]["mask"] is None and metrics["items"][0]["input"] is None
    assert metrics["run"]["judge"] is None and "judge_prob" not in metrics["items"][0]
    assert metrics["items"][0]["cues"]["reference_is"] == "neutral example"
    assert (tmp_path / "run" / "wav" / "sad_r0.wav").is_file()


def test_input_method_in_the_mel_domain_vocodes_its_output(cli, tmp_path, tiny):
    result = cli(*run_args(tiny, "method=input", "signal.domain=mel", "signal.start=clip",
                           "target=angry"))
    assert result.code == 0, result.err
    assert (tmp_path / "run" / "wav" / "angry_r0.wav").stat().st_size > 1000


def test_a_folder_of_clips_gives_clips_x_targets_items(cli, tmp_path, tiny):
    import shutil

    from amcli.resources import example_clip

    folder = tmp_path / "clips"
    folder.mkdir()
    for label in ("sad", "happy"):
        shutil.copy(example_clip(label), folder / f"my_{label}.wav")
    result = cli(*run_args(tiny, f"input={folder}", "target=[angry,neutral]"))
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(metrics["items"]) == 4
    assert {p.name for p in (tmp_path / "run" / "wav").iterdir()} >= {
        "input_my_sad.wav", "my_sad_angry_r0.wav", "my_happy_neutral_r0.wav"}
    assert set(metrics["summary"]["targets"]) == {"angry", "neutral"}


def test_ctrl_c_leaves_interrupted_not_done(cli, tmp_path, tiny, monkeypatch):
    import importlib

    loop = importlib.import_module("amcli.am.optimize")  # the module, not the function

    real = loop.classify
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "classify", interrupting)
    result = cli(*run_args(tiny, "target=angry"))
    assert result.code == 130
    run = tmp_path / "run"
    assert (run / "INTERRUPTED").exists() and not (run / "DONE").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert metrics["items"][0]["stop_reason"] == "interrupted"
    assert (run / "wav" / "angry_r0.wav").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["target=furious"], "unknown target ['furious']; the classifier's classes are "
                             "neutral, happy, sad, angry"),
        (["method=latent"], "method=latent optimizes a generator's z: give prior=gan or "
                            "prior=cgan"),
        (["prior=gan"], "prior=gan works only with method=latent"),
        (["method=latent", "prior=gan", "condition=sad"], "condition=sad needs a conditional "
                                                          "prior"),
        (["input=/no/such.wav"], "input=/no/such.wav not found"),
        (["mask.area=1.5"], "mask.area=1.5"),
        (["classifier=nope"], "checkpoint 'nope' not found"),
    ],
)
def test_mistakes_are_one_line_exit_2(cli, tiny, args, message):
    argv = run_args(tiny, *args)
    if any(a.startswith("classifier=") for a in args):
        argv = [a for a in argv if not a.startswith(f"classifier={tiny}")]
    result = cli(*argv)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "error" not in result.out.lower()  # said once, not also by a log line


def test_mel_signal_on_a_raw_model_is_refused(cli, tiny):
    result = cli("optimize", f"classifier={tiny / 'cnn_raw.json'}", "method=input",
                 "signal.domain=mel", "quiet=true")
    assert result.code == 2 and "needs a mel classifier" in result.err


def test_sweep_gives_one_folder_per_job(cli, tmp_path, tiny):
    result = cli("optimize", "-m", *run_args(tiny, "target=angry,sad")[1:])
    assert result.code == 0, result.err
    done = sorted((tmp_path / "sweep").glob("*/DONE"))
    assert len(done) == 2


def test_a_user_model_plugs_in_as_classifier_custom(cli, tmp_path, monkeypatch):
    from safetensors.torch import save_file

    package = tmp_path / "mynets"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv1d(1, 4, 64, stride=16)\n"
        "        self.head = nn.Linear(4, 4)\n\n"
        "    def forward(self, wave):\n"
        "        return self.head(torch.relu(self.conv(wave.unsqueeze(1))).mean(-1))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from mynets import Net

    torch.manual_seed(0)
    save_file(Net().state_dict(), tmp_path / "net.safetensors")
    result = cli("optimize", "classifier=custom", "custom.target=mynets.Net",
                 f"custom.weights={tmp_path / 'net.safetensors'}",
                 "custom.classes=[neutral,happy,sad,angry]", "target=sad", "steps=10",
                 "min_steps=5", "quiet=true")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["run"]["classifier"]["name"] == "custom"
    assert metrics["items"][0]["target"] == "sad"
    missing = cli("optimize", "classifier=custom", "quiet=true")
    assert missing.code == 2 and "custom.target" in missing.err


def test_max_batch_splits_a_run_into_chunks(cli, tmp_path, tiny):
    result = cli(*run_args(tiny, "target=[angry,sad]", "restarts=2", "max_batch=3"))
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [(i["target"], i["restart"]) for i in metrics["items"]] == [
        ("angry", 0), ("angry", 1), ("sad", 0), ("sad", 1)]
    assert len(list((tmp_path / "run" / "wav").glob("*_r?.wav"))) == 4


def test_sanity_check_reruns_on_randomized_models(cli, tmp_path, tiny):
    result = cli(*run_args(tiny, "target=angry", "restarts=2", "sanity=true", "cues=false"))
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["sanity"]) == {"top", "all"}
    for level in metrics["sanity"].values():
        assert len(level["items"]) == 2
        assert all(-1 <= r["mask_spearman"] <= 1 for r in level["items"]
                   if r["mask_spearman"] is not None)
    assert "_profile" not in metrics["items"][0]
