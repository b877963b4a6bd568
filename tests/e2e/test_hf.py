"""transformers audio classifiers (wav2vec2, HuBERT, WavLM) through amcli: loading, the torch
normalization, what a per-utterance normalization cannot see, evaluate / optimize / fine-tune
through the CLI, and the one-line refusals of bad folders. Tiny random models, built here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from amcli.data.synth import write_corpus
from amcli.errors import UserError
from amcli.models import load_classifier
from amcli.models.hf import load_hf_classifier
from amcli.models.hf_training import init_hf_folder

transformers = pytest.importorskip("transformers", reason="the dev extra installs transformers")

CLASSES = ["neutral", "happy", "sad", "angry"]
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            conv_dim=(16, 16, 16), conv_stride=(5, 4, 4), conv_kernel=(10, 4, 4),
            num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, classifier_proj_size=16)
MODEL_TYPES = ("wav2vec2", "hubert", "wavlm")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {kind: init_hf_folder(root / kind, kind, CLASSES, seed=i, **TINY)
            for i, kind in enumerate(MODEL_TYPES)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, engine="numpy", n_per_class=12, workers=1, seed=5)
    return root


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """One short input clip (the shipped examples are 3 s; 1 s keeps the runs fast)."""
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    t = np.arange(16000) / 16000
    wave = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    sf.write(path, wave.astype(np.float32), 16000)
    return path


def test_classes_come_from_id2label_and_the_rate_from_the_feature_extractor(tmp_path):
    folder = init_hf_folder(tmp_path / "m", "wav2vec2", ["calm", "joy", "fear"],
                            sample_rate=8000, **TINY)
    model = load_hf_classifier(folder)
    assert model.classes == ["calm", "joy", "fear"]
    assert model.sample_rate == 8000 and model.representation == "raw"
    assert not model.training and not model.body.model.training
    assert model.checkpoint["name"] == "m" and len(model.checkpoint["sha256"]) == 64


@pytest.mark.parametrize("kind", MODEL_TYPES)
def test_gradients_reach_the_input_and_embed_is_the_heads_input(folders, kind):
    model = load_classifier(folders[kind])  # a folder path loads through amcli.models.hf
    wave = (0.1 * torch.randn(2, 8000)).requires_grad_(True)
    logits = model(wave)
    assert logits.shape == (2, 4)
    logits[:, 3].sum().backward()
    assert torch.isfinite(wave.grad).all() and wave.grad.abs().sum() > 0
    with torch.no_grad():
        pooled = model.embed(wave)
        assert pooled.shape == (2, TINY["classifier_proj_size"])
        assert torch.allclose(model.body.model.classifier(pooled), model(wave), atol=1e-6)


def test_torch_normalization_equals_the_feature_extractors_numpy(folders):
    model = load_hf_classifier(folders["wav2vec2"])
    rng = np.random.default_rng(0)
    clips = [(scale * rng.standard_normal(16000) + offset).astype(np.float32)
             for scale, offset in ((1e-3, 0.0), (0.3, 0.05), (2.0, -0.4))]
    expected = model.feature_extractor(clips, sampling_rate=16000,
                                       return_tensors="np")["input_values"]
    ours = model.body.front(torch.from_numpy(np.stack(clips))).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5, rtol=0)


def test_a_constant_gain_changes_no_logit_but_a_gain_contour_does(folders):
    """What the README says these models cannot see: the level of a clip, only its contour."""
    model = load_hf_classifier(folders["wavlm"])
    torch.manual_seed(0)
    wave = 0.1 * torch.randn(2, 16000)
    ramp = torch.linspace(0.25, 4.0, 16000)
    with torch.no_grad():
        base = model(wave)
        constant = max(float((model(gain * wave) - base).abs().max())
                       for gain in (0.1, 3.0, 10.0))
        contour = float((model(wave * ramp) - base).abs().max())
    assert constant < 1e-6  # float rounding only
    assert contour > 100 * constant and contour > 1e-4  # the tiny random logits are ~0.005


@pytest.mark.parametrize("kind", MODEL_TYPES)
def test_evaluate_and_optimize_mask_and_input_run_on_each_architecture(cli, folders, corpus,
                                                                      clip, tmp_path, kind):
    result = cli("evaluate", "classifier=hf", f"hf.path={folders[kind]}", f"data.root={corpus}",
                 "split=all", "data.clip_seconds=1.0", "quiet=true")
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())["report"]
    assert report["n"] == 48 and len(report["confusion"]) == 4
    for method in ("mask", "input"):
        run = tmp_path / f"opt_{method}"
        result = cli("optimize", f"method={method}", "classifier=hf",
                     f"hf.path={folders[kind]}", "target=angry", f"input={clip}", "steps=3",
                     "min_steps=0", "quiet=true", "cues=false", "judge=null",
                     f"hydra.run.dir={run}")
        assert result.code == 0, result.err
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["run"]["classifier"]["name"] == kind
        assert (run / "wav" / "angry_r0.wav").is_file() and (run / "DONE").is_file()


@pytest.mark.parametrize("kind", ["audio-spectrogram-transformer", "whisper"])
def test_every_method_runs_on_spectrogram_transformers(cli, clip, tmp_path, kind,
                                                      spectrogram_transformers):
    """AST and Whisper classifiers: their features are computed in torch inside the model."""
    folder = spectrogram_transformers[kind]
    for method in ("mask", "input", "prosody"):
        run = tmp_path / f"opt_{method}"
        result = cli("optimize", f"method={method}", "classifier=hf", f"hf.path={folder}",
                     "target=sad", f"input={clip}", "steps=2", "min_steps=0", "quiet=true",
                     "cues=false", "judge=null", f"hydra.run.dir={run}")
        assert result.code == 0, result.err
        (item,) = json.loads((run / "metrics.json").read_text())["items"]
        assert 0.0 < item["target_prob"] < 1.0 and item["verdict"] in ("reached", "not reached")
        assert (run / "wav" / "sad_r0.wav").is_file() and (run / "DONE").is_file()


def test_fine_tuning_writes_a_folder_that_loads_in_amcli_and_in_transformers(cli, folders,
                                                                            corpus, tmp_path):
    result = cli("train-classifier", "model=hf", f"hf.path={folders['hubert']}",
                 f"data.root={corpus}", "epochs=1", "batch_size=8", "data.clip_seconds=1.0",
                 "quiet=true", "name=tuned")
    assert result.code == 0, result.err
    run = tmp_path / "run"
    folder = run / "tuned"
    assert {p.name for p in folder.iterdir()} == {
        "amcli.json", "config.json", "model.safetensors", "preprocessor_config.json"}
    umask = os.umask(0)
    os.umask(umask)  # the folder is as readable as any the user makes (not mkdtemp's 0700)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert (folder / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask
    record = json.loads((run / "metrics.json").read_text())
    sidecar = json.loads((folder / "amcli.json").read_text())
    assert sidecar["classes"] == CLASSES and sidecar["arch"] == "hf"
    assert sidecar["training"]["split"]["test"]["groups"]
    plain = transformers.AutoModelForAudioClassification.from_pretrained(
        str(folder), local_files_only=True)
    assert [plain.config.id2label[i] for i in range(4)] == CLASSES
    ours = load_classifier(folder)
    wave = 0.1 * torch.randn(1, 16000)
    with torch.no_grad():
        normalized = ours.body.front(wave)
        torch.testing.assert_close(ours(wave), plain.eval()(input_values=normalized).logits)
    # the feature encoder was frozen: its weights are the pretrained ones
    before = load_hf_classifier(folders["hubert"]).body.model.hubert.feature_extractor
    after = ours.body.model.hubert.feature_extractor
    assert all(torch.equal(a, b) for a, b in zip(before.state_dict().values(),
                                                  after.state_dict().values(), strict=True))
    # evaluate reproduces the held-out figure from the recorded test groups
    result = cli("evaluate", f"classifier={folder}", f"data.root={corpus}",
                 "data.clip_seconds=1.0", "quiet=true", f"hydra.run.dir={tmp_path / 'ev'}")
    assert result.code == 0, result.err
    evaluated = json.loads((tmp_path / "ev" / "metrics.json").read_text())["report"]
    assert evaluated["accuracy"] == pytest.approx(record["test"]["accuracy"])
    assert evaluated["n"] == record["test"]["n"]


def _bad(tmp_path: Path, folders: dict[str, Path], problem: str) -> tuple[Path, list[str]]:
    """A folder with one problem, and extra options that expose it."""
    folder = tmp_path / problem
    if problem == "missing config":
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"")
        return folder, []
    if problem == "text classification":
        config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1,
                                         num_attention_heads=1, intermediate_size=16,
                                         architectures=["BertForSequenceClassification"])
        config.save_pretrained(str(folder))
        return folder, []
    import shutil

    shutil.copytree(folders["wav2vec2"], folder)
    if problem == "wrong sample rate":
        return folder, ["hf.sample_rate=8000"]
    if problem == "truncated weights":
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:-4000])
        return folder, []
    if problem == "pickle weights":
        (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
        return folder, []
    if problem == "no feature extractor":
        (folder / "preprocessor_config.json").unlink()
        return folder, []
    if problem == "no classification head":
        config = json.loads((folder / "config.json").read_text())
        config["architectures"] = ["Wav2Vec2ForCTC"]
        (folder / "config.json").write_text(json.dumps(config))
        return folder, []
    raise AssertionError(problem)


@pytest.mark.parametrize("problem, words", [
    ("missing config", "no config.json"),
    ("text classification", "'bert' model"),
    ("wrong sample rate", "hf.sample_rate=8000"),
    ("pickle weights", "pickle-format"),
    ("truncated weights", "transformers cannot load the model"),
    ("no feature extractor", "no preprocessor_config.json"),
    ("no classification head", "Wav2Vec2ForCTC"),
])
@pytest.mark.parametrize("command", ["evaluate", "optimize"])
def test_bad_folders_end_in_one_line_and_exit_2(cli, folders, tmp_path, problem, words,
                                                command):
    folder, extra = _bad(tmp_path, folders, problem)
    args = ["classifier=hf", f"hf.path={folder}", *extra, "quiet=true"]
    if command == "evaluate":
        args.append(f"data.root={tmp_path}")
    result = cli(command, *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.err
    assert "Traceback" not in result.err


def test_without_transformers_the_error_names_the_extra(cli, folders, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import raises ImportError
    result = cli("optimize", "classifier=hf", f"hf.path={folders['wav2vec2']}", "quiet=true")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "amcli optimize: error: classifier=hf needs the transformers package: "
        "pip install 'amcli[hf]' (from a clone: pip install -e '.[hf]')"]
    with pytest.raises(UserError, match="model=hf needs the transformers package"):
        from amcli.models.hf_training import build_hf_for_training

        build_hf_for_training(folders["wav2vec2"], CLASSES)
