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
                "overrides", "classifier", "started", "finished"):
        assert key in info
    assert info["classifier"]["sha256"] and "prior" not in info  # latent's only
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
    assert overall["transfer_rate"] == pytest.approx(  # the share the judge hears as targeted
        sum(i["judge_top1"] == i["target"] for i in metrics["items"]) / len(metrics["items"]))
    # an untrained model reaches nothing: every item says so, and faithfulness is left out
    for item in metrics["items"]:
        assert item["verdict"] == "not reached" and item["verdict_reasons"][0].startswith(
            f"p({item['target']}) = {item['target_prob']:.3f} < 0.9")
        assert 0 <= item["best_step"] <= item["steps"]
        assert item["target_prob"] == pytest.approx(
            item["history"]["target_prob"][item["history"]["step"].index(item["best_step"])],
            abs=1e-4)
    assert overall["verdicts"] == {"reached": 0, "not reached": 4, "not an explanation": 0}
    assert overall["faithfulness"] is None and "no mask reached" in overall["faithfulness_note"]
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
    assert "mask" not in metrics["items"][0] and metrics["items"][0]["input"] is None
    assert metrics["run"]["judge"] is None and "judge_prob" not in metrics["items"][0]
    assert metrics["items"][0]["cues"]["reference_is"] == "neutral example"
    assert (tmp_path / "run" / "wav" / "sad_r0.wav").is_file()


def test_input_method_in_the_mel_domain_vocodes_its_output(cli, tmp_path, tiny):
    result = cli(*run_args(tiny, "method=input", "signal.domain=mel", "signal.start=clip",
                           "target=angry"))
    assert result.code == 0, result.err
    assert (tmp_path / "run" / "wav" / "angry_r0.wav").stat().st_size > 1000
    cues = json.loads((tmp_path / "run" / "metrics.json").read_text())["items"][0]["cues"]
    # the reference went through the same vocoder as the output, so its bias cancels
    assert cues["reference_is"] == "input, through the same vocoder (griffin-lim)"
    from amcli.audio import read_audio
    from amcli.metrics.cues import measure_cues

    raw_input = measure_cues(read_audio(tmp_path / "run" / "wav" / "input.wav", 16000)[0]
                             .numpy(), 16000)
    assert cues["reference"]["centroid_hz"] != pytest.approx(raw_input["centroid_hz"], abs=1)


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
        (["method=latent", "prior=none"], "method=latent needs prior=: give prior=cgan or "
                                          "prior=gan"),
        (["prior=gan"], "prior= is an option of method=latent, not of method=mask"),
        (["method=input", "mask.area=0.3"], "mask.area= is an option of method=mask"),
        (["-m", "method=mask,input", "mask.area=0.3"], "applies to method=mask only"),
        (["method=latent", "prior=gan", "latent.condition=sad"],
         "latent.condition=sad needs a conditional prior"),
        (["lr=nan"], "lr=nan; give a finite number"),
        (["mask.init=0.9", "mask.max_gain=0.5"], "need 0 < init <= max_gain"),
        (["threshold=1.5"], "threshold=1.5; a probability (or null), in (0, 1]"),
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
    # messages name the keys the user types (custom.*)
    wrong = cli("optimize", "classifier=custom", "custom.target=mynets.Net",
                "custom.weights=/no/w.safetensors", "custom.classes=[a,b,c,d]", "quiet=true")
    assert wrong.code == 2 and "custom.weights=/no/w.safetensors not found" in wrong.err
    nowhere = cli("optimize", "classifier=custom", "custom.target=nowhere.Net",
                  "custom.classes=[a,b]", "quiet=true")
    assert nowhere.code == 2 and "cannot import custom.target='nowhere.Net'" in nowhere.err


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
    top, everything = metrics["sanity"]["top"], metrics["sanity"]["all"]
    assert top["layers"] == ["body.head", "body.embedding.0"]
    assert len(everything["layers"]) > len(top["layers"])
    for level in (top, everything):
        assert len(level["items"]) == 2
        changed, total = (int(n) for n in level["parameters_changed"].split("/"))
        assert 0 < changed <= total
        correlations = [r["profile_spearman"] for r in level["items"]]
        # every item is compared with its randomized rerun (the values of spearman() itself
        # are checked in tests/test_metrics.py); a mask over a 1 s clip is never constant
        assert all(isinstance(c, float) for c in correlations), correlations
        assert [r["target_prob"] for r in level["items"]] != \
            [i["target_prob"] for i in metrics["items"]]


def test_max_batch_never_changes_a_result(cli, tmp_path, tiny):
    args = run_args(tiny, "target=angry", "restarts=4", "cues=false", "judge=null")
    chunked = cli(*args, "max_batch=2", f"hydra.run.dir={tmp_path / 'chunked'}")
    whole = cli(*args, "max_batch=0", f"hydra.run.dir={tmp_path / 'whole'}")
    assert chunked.code == whole.code == 0, chunked.err + whole.err
    assert digest(tmp_path / "chunked") == digest(tmp_path / "whole")
    items = [json.loads((tmp_path / d / "metrics.json").read_text())["items"]
             for d in ("chunked", "whole")]
    for a, b in zip(*items, strict=True):
        assert a["seed"] == b["seed"] and a["steps"] == b["steps"]
        assert a["target_prob"] == pytest.approx(b["target_prob"], abs=1e-5)
    wavs = sorted((tmp_path / "whole" / "wav").glob("angry_r*.wav"))
    assert len({hashlib.sha256(w.read_bytes()).hexdigest() for w in wavs}) == 4  # restarts differ


def test_attribution_chunks_of_whole_restarts_give_what_one_batch_gives(cli, tmp_path, tiny):
    """The workaround docs/reading-results.md gives: with prosody.attribution=true, a max_batch
    that is a multiple of the variants (all + each family) keeps each restart's variants in one
    chunk, so the "all" item still starts from its siblings' best start, as in one batch."""
    from amcli.resources import example_clip

    args = ["optimize", f"classifier={tiny / 'crnn_mel.json'}", "method=prosody",
            f"input={example_clip('neutral')}", "target=angry", "restarts=2", "steps=3",
            "min_steps=1", "record_every=1", "prosody.attribution=true",
            "prosody.families=[loudness,voice]", "prosody.init_candidates=4", "cues=false",
            "judge=null", "quiet=true"]
    chunked = cli(*args, "max_batch=3", f"hydra.run.dir={tmp_path / 'chunked'}")
    whole = cli(*args, "max_batch=0", f"hydra.run.dir={tmp_path / 'whole'}")
    assert chunked.code == whole.code == 0, chunked.err + whole.err
    records = [json.loads((tmp_path / d / "metrics.json").read_text())
               for d in ("chunked", "whole")]
    assert records[0]["run"]["batch"] == 3 and records[1]["run"]["batch"] == 6
    assert [i["variant"] for i in records[1]["items"]] == ["all", "loudness", "voice"] * 2
    for a, b in zip(records[0]["items"], records[1]["items"], strict=True):
        assert a["output"] == b["output"] and a["seed"] == b["seed"]
        assert a["target_prob"] == pytest.approx(b["target_prob"], abs=1e-4)
        assert a["prosody"]["gain_db"]["mean"] == pytest.approx(b["prosody"]["gain_db"]["mean"],
                                                                abs=1e-3)


def write_user_model(tmp_path: Path, classes: list[str]) -> list[str]:
    """A user's package with a GRU model whose head is registered before its body, saved."""
    from safetensors.torch import save_file

    package = tmp_path / "usernets"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"        self.out = nn.Linear(8, {len(classes)})\n"
        "        self.frontend = nn.Conv1d(1, 4, 64, stride=32)\n"
        "        self.rnn = nn.GRU(4, 8, batch_first=True)\n\n"
        "    def forward(self, wave):\n"
        "        h = torch.relu(self.frontend(wave.unsqueeze(1))).transpose(1, 2)\n"
        "        return self.out(self.rnn(h)[0].mean(1))\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    import usernets

    torch.manual_seed(0)
    save_file(usernets.Net().state_dict(), tmp_path / "user.safetensors")
    return ["classifier=custom", "custom.target=usernets.Net",
            f"custom.weights={tmp_path / 'user.safetensors'}",
            f"custom.classes=[{','.join(classes)}]"]


def test_a_judge_that_does_not_know_the_classes_is_off_and_says_why(cli, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    args = write_user_model(tmp_path, ["calm", "excited"])
    from amcli.resources import example_clip

    result = cli("optimize", *args, "target=excited", "steps=6", "min_steps=2", "quiet=true",
                 "cues=false", "sanity=true", f"input={example_clip('angry')}")
    assert result.code == 0, result.err
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    off = metrics["run"]["judge"]["off"]
    assert "calm, excited are not among judge judge's" in off
    assert metrics["summary"]["judge_off"] == off and "transfer_rate" not in metrics["summary"]
    assert "judge_prob" not in metrics["items"][0]
    page = (run / "report.html").read_text()
    assert "judge off" in page and "calm, excited" in page
    # the sanity check found this model's top layer (run last, though registered first) and
    # really changed it
    top = metrics["sanity"]["top"]
    assert top["layers"] == ["body.module.out"]
    assert metrics["sanity"]["all"]["layers"] == ["body.module.out", "body.module.frontend",
                                                  "body.module.rnn"]


def test_randomized_copies_of_a_user_model_really_differ(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write_user_model(tmp_path, ["calm", "excited"])
    from amcli.metrics.sanity import randomized_copy
    from amcli.models import load_custom_classifier

    model = load_custom_classifier("usernets.Net", tmp_path / "user.safetensors",
                                   ["calm", "excited"], "raw", 16000)
    probe = 0.1 * torch.randn(2, 16000)
    for level, expected in (("top", 2), ("all", 8)):
        randomized = randomized_copy(model, level, seed=0, probe=probe)
        changed = [not torch.equal(a, b) for a, b in
                   zip(model.parameters(), randomized.model.parameters(), strict=True)]
        assert sum(changed) == randomized.changed == expected
        assert not torch.allclose(model(probe), randomized.model(probe))
