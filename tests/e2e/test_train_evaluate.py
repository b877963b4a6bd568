"""train-classifier -> evaluate -> list through the CLI, in-process, on a tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amcli.data.synth import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, engine="numpy", n_per_class=24, workers=1, seed=4)
    return root


def test_one_epoch_training_run_writes_a_complete_run_folder(cli, tmp_path, corpus):
    result = cli("train-classifier", "model=crnn_mel", f"data.root={corpus}", "epochs=1",
                 "batch_size=16", "quiet=true", "model.width=8", "data.clip_seconds=1.5")
    assert result.code == 0, result.err
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir() if not p.name.startswith(".")) == [
        "DONE", "confusion.png", "crnn_mel.json", "crnn_mel.safetensors", "metrics.json",
        "train-classifier.log"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["kind"] == "train-classifier" and metrics["status"] == "done"
    assert metrics["train"]["epochs_run"] == 1
    test = metrics["test"]  # accuracy is the confusion matrix's diagonal share
    confusion = test["confusion"]
    assert sum(map(sum, confusion)) == test["n"] > 0
    assert test["accuracy"] == pytest.approx(
        sum(confusion[i][i] for i in range(len(confusion))) / test["n"])
    sidecar = json.loads((run / "crnn_mel.json").read_text())
    assert sidecar["metrics"]["test_accuracy"] == metrics["test"]["accuracy"]
    split = sidecar["training"]["split"]
    groups = [set(split[s]["groups"]) for s in ("train", "val", "test")]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert "accuracy" in result.out and "confusion" in result.out

    # evaluate reproduces the held-out figure on the checkpoint's own test groups
    evaluated = cli("evaluate", f"classifier={run / 'crnn_mel.json'}", f"data.root={corpus}",
                    "quiet=true", "data.clip_seconds=1.5", f"hydra.run.dir={tmp_path / 'ev'}")
    assert evaluated.code == 0, evaluated.err
    assert "the checkpoint's test groups" in evaluated.out
    assert f"accuracy {metrics['test']['accuracy']:.4f}" in evaluated.out
    ev_metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert ev_metrics["kind"] == "evaluate" and (tmp_path / "ev" / "DONE").exists()

    listed = cli("list", f"dirs=[{run}]")
    assert listed.code == 0
    assert "crnn_mel.json" in listed.out and "classifier" in listed.out
    assert f"{metrics['test']['accuracy']:.3f}" in listed.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model=cnn_mel"], "data.root is not set"),
        (["data.root=/no/such/dir"], "is not a folder"),
        (["data.root=CORPUS", "gain_db=10"], "gain_db=10; a gain augmentation of at most 3 dB"),
        (["data.root=CORPUS", "device=cuda:7"], "device=cuda:7"),
        (["data.root=CORPUS", "data.classes=[calm]"], "no file has one of the classes"),
    ],
)
def test_training_mistakes_exit_2_and_leave_a_failed_marker(cli, tmp_path, corpus, args,
                                                            message):
    args = [a.replace("CORPUS", str(corpus)) for a in args]
    result = cli("train-classifier", *args, "quiet=true", "epochs=1")
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert (tmp_path / "run" / "FAILED").exists() and not (tmp_path / "run" / "DONE").exists()


def test_unknown_model_group_is_a_config_error(cli, corpus):
    result = cli("train-classifier", "model=resnet", f"data.root={corpus}")
    assert result.code == 2 and "resnet" in result.err  # a config error: one line, exit 2
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classifier=nope"], "checkpoint 'nope' not found"),
        (["classifier=weights.pt"], "pickle-format"),
        (["checkpoint=custom"], "custom.target"),
        (["batch_size=0"], "batch_size=0"),
    ],
)
def test_evaluate_mistakes_exit_2(cli, corpus, args, message):
    result = cli("evaluate", *args, f"data.root={corpus}")
    assert result.code == 2 and message in result.err


def test_evaluate_takes_the_old_checkpoint_spelling_and_says_the_new_one(cli, corpus):
    result = cli("evaluate", "checkpoint=custom", f"data.root={corpus}")
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 2
    assert lines[0] == ("amcli evaluate: note: checkpoint= is now classifier= (the old spelling "
                        "still works)")
    assert "custom.target" in lines[1]
