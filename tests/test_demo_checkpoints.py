"""The shipped demo checkpoints: loadable, small, as accurate as documented, and sensible on
the shipped example clips (a held-out speaker)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import torch

from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.models import load_classifier
from amcli.resources import checkpoints_dir, example_clip

DEMOS = ["cnn_mel", "crnn_mel", "cnn_raw", "crnn_raw", "w2v2_tiny", "judge"]
ROOT = Path(__file__).resolve().parents[1]
#: the page whose tables state the demo checkpoints' figures
TABLES = ROOT / "docs" / "benchmarks.md"


@cache
def page_as_built() -> str:
    """The benchmarks page as the docs build renders it (its tables filled from bench/results by
    the MkDocs hook, as a reader sees them). Rendered once: every view checks its result's age
    through git, seconds per page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("amcli_mkdocs_hooks",
                                                  ROOT / "scripts" / "mkdocs_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return hooks.on_page_markdown(TABLES.read_text())


def table_row(name: str) -> list[str]:
    for line in page_as_built().splitlines():
        if line.startswith(f"| `{name}` |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row for {name} in {TABLES.name}")


def weights_file(name: str) -> Path:
    folder = checkpoints_dir() / name  # a transformers folder (w2v2_tiny)
    return folder / "model.safetensors" if folder.is_dir() else \
        checkpoints_dir() / f"{name}.safetensors"


@pytest.mark.parametrize("name", DEMOS)
def test_demo_checkpoint_loads_is_small_and_matches_the_readme(name):
    model = load_classifier(name)  # checks sha256, fields, architecture, tensor shapes
    transformer = name == "w2v2_tiny"
    assert weights_file(name).stat().st_size < (4e6 if transformer else 2e6)
    metrics = model.checkpoint["meta"]["metrics"]
    assert metrics["test_accuracy"] >= (0.80 if transformer else 0.85)
    row = table_row(name)
    assert row[5] == f"{metrics['test_accuracy']:.3f}" and row[6] == f"{metrics['macro_f1']:.3f}"


def test_judge_never_heard_the_classifiers_training_speakers():
    judge = load_classifier("judge").checkpoint["meta"]["training"]["split"]["train"]
    for name in [d for d in DEMOS if d != "judge"]:
        train = load_classifier(name).checkpoint["meta"]["training"]["split"]["train"]
        assert not set(judge["speakers"]) & set(train["speakers"])


def test_checkpoints_folder_stays_small():
    total = sum(p.stat().st_size for p in checkpoints_dir().rglob("*") if p.is_file())
    assert total < 40e6


@pytest.mark.parametrize("name", DEMOS)
def test_demo_classifiers_recognize_most_example_clips(name):
    model = load_classifier(name)
    length = int(model.checkpoint["meta"]["clip_seconds"] * model.sample_rate)
    correct = 0
    for label in model.classes:
        wave, _ = read_audio(example_clip(label), model.sample_rate)
        with torch.no_grad():
            correct += int(model(crop_or_pad(wave, length)[None]).argmax()) == \
                model.classes.index(label)
    assert correct >= 3


def test_readme_table_lists_every_demo():
    names = re.findall(r"^\| `(\w+)` \| (?:cnn_|crnn_|wav2vec2)", page_as_built(), flags=re.M)
    assert names == DEMOS


PRIORS = ["gan_mel", "cgan_mel", "gan_raw", "cgan_raw"]


@pytest.mark.parametrize("name", PRIORS)
def test_demo_prior_loads_is_small_matches_the_readme_and_fits_its_classifiers(name):
    from amcli.models.checkpoint import load_generator

    gen = load_generator(name)
    assert (checkpoints_dir() / f"{name}.safetensors").stat().st_size < 8e6
    meta = gen.checkpoint["meta"]
    assert gen.conditional == name.startswith("cgan")
    rep = name.split("_")[1]
    assert gen.representation == rep
    # the priors share the held-out voices of the classifiers and never trained on them
    held_out = set(meta["training"]["split"]["heldout"]["groups"])
    assert held_out == {"m4", "f2"}
    assert not held_out & set(meta["training"]["split"]["train"]["groups"])
    metrics = meta["metrics"]
    assert metrics["fd_heldout_real"] < metrics["fd_generated"] < metrics["fd_noise"]
    if rep == "mel":  # the output range covers angry speech's loudest bins (99.9th pct 3.8)
        assert meta["hparams"]["mel_high"] >= 3.5
    row = table_row(name)
    assert row[4] == f"{metrics['fd_generated']:.1f}" and row[5] == f"{metrics['fd_noise']:.1f}"
    assert row[6] == f"{metrics['fd_heldout_real']:.1f}"
    if gen.conditional:
        assert row[7].startswith(f"{metrics['judge_accuracy']:.2f}")
    # the classifiers of the same representation accept its output
    classifier = load_classifier("crnn_mel" if rep == "mel" else "cnn_raw")
    with torch.no_grad():
        z = gen.sample_z(2, torch.Generator().manual_seed(0))
        out = gen(z, torch.tensor([0, 3]) if gen.conditional else None)
        logits = classifier.body(out) if rep == "mel" else classifier(out)
    assert logits.shape == (2, 4) and torch.isfinite(logits).all()


#: the ground-truth models (bench/train_gt.sh, and the transformers of bench/train_gt_w2v2.sh):
#: each trained on a corpus where only its family of cues differs between classes
GROUND_TRUTH = {"gt_pitch": "pitch", "gt_loudness": "loudness", "gt_tempo": "tempo",
                "gt_voice": "voice", "gt_pitch_w2v2": "pitch", "gt_tempo_w2v2": "tempo",
                "gt_voice_w2v2": "voice"}


@pytest.mark.parametrize("name", GROUND_TRUTH)
def test_ground_truth_models_are_small_isolated_and_match_their_table(name):
    from amcli.data.synth.cues import isolated_classes

    family = GROUND_TRUTH[name]
    model = load_classifier(name)
    assert weights_file(name).stat().st_size < (3e6 if name.endswith("_w2v2") else 1e6)
    assert model.classes == isolated_classes([family])
    meta = model.checkpoint["meta"]
    assert not set(meta["training"]["split"]["test"]["groups"]) & set(
        meta["training"]["split"]["train"]["groups"])
    metrics = meta["metrics"]
    row = table_row(name)
    assert row[1] == family
    assert row[2].startswith("wav2vec2" if name.endswith("_w2v2") else "cnn_mel")
    assert row[5] == f"{metrics['test_accuracy']:.3f}" and row[6] == f"{metrics['macro_f1']:.3f}"
