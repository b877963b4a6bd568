"""CLAP as a zero-shot classifier: the prompts are the classes, the logits are what ClapModel
gives as logits_per_audio, the feature extraction runs in torch (equal to the extractor's), and
gradients reach the waveform. A tiny random CLAP, built here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from amcli.errors import UserError
from amcli.models.hf import load_hf_classifier
from amcli.models.hf_features import ClapLogMel, front_end

transformers = pytest.importorskip("transformers", reason="the dev extra installs transformers")

PROMPTS = ["an angry voice", "a calm voice", "a dog barking"]


def clip(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
            + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("truncation", ["rand_trunc", "fusion"])
def test_the_clap_front_end_equals_the_feature_extractor(truncation):
    extractor = transformers.ClapFeatureExtractor(
        feature_size=16, sampling_rate=16000, hop_length=160, max_length_s=2,
        fft_window_size=400, frequency_max=8000, truncation=truncation)
    wave = clip(0.7, 0)  # repeated twice, then padded to 2 s
    theirs = extractor([wave], sampling_rate=16000, return_tensors="pt")
    module, name = front_end(extractor, "hf.path=x")
    assert isinstance(module, ClapLogMel) and name == "input_features"
    features, longer = module(torch.from_numpy(wave).unsqueeze(0))
    assert features.shape == theirs["input_features"].shape
    torch.testing.assert_close(features, theirs["input_features"].float(), atol=2e-3,
                               rtol=1e-4)
    assert longer.tolist() == theirs["is_longer"].tolist()  # one clip: fusion says "longer"


@pytest.mark.slow  # builds and saves tiny transformers models
def test_a_clap_folder_with_prompts_is_a_classifier_whose_logits_are_clap_s(clap_folder):
    model = load_hf_classifier(clap_folder, labels=PROMPTS)
    assert model.classes == PROMPTS and model.sample_rate == 16000
    waves = np.stack([clip(1.0, 1), clip(1.0, 2)])
    plain = transformers.ClapModel.from_pretrained(str(clap_folder)).eval()
    extractor = transformers.AutoFeatureExtractor.from_pretrained(str(clap_folder))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(clap_folder))
    audio = extractor(list(waves), sampling_rate=16000, return_tensors="pt")
    text = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        theirs = plain(input_features=audio["input_features"].float(),
                       is_longer=audio["is_longer"], **text).logits_per_audio
        torch.testing.assert_close(model(torch.from_numpy(waves)), theirs, atol=1e-3,
                                   rtol=1e-3)
    wave = torch.from_numpy(waves).requires_grad_()
    model(wave)[:, 0].sum().backward()
    assert wave.grad.abs().sum() > 0
    assert model.embed(wave.detach()).shape == (2, 16)


@pytest.mark.slow  # builds and saves tiny transformers models
def test_clap_needs_prompts_and_other_folders_refuse_them(clap_folder, spectrogram_transformers):
    with pytest.raises(UserError, match="zero-shot classifier: give its classes as text prompts"):
        load_hf_classifier(clap_folder)
    with pytest.raises(UserError, match="more than once"):
        load_hf_classifier(clap_folder, labels=["a dog", "a dog"])
    with pytest.raises(UserError, match="only a CLAP folder takes"):
        load_hf_classifier(spectrogram_transformers["whisper"], labels=["a dog"])


@pytest.mark.slow  # builds and saves tiny transformers models
def test_a_fusion_extractor_for_an_unfused_model_is_refused(clap_folder, tmp_path):
    import shutil

    folder = shutil.copytree(clap_folder, tmp_path / "clap")
    config = json.loads((folder / "preprocessor_config.json").read_text())
    (folder / "preprocessor_config.json").write_text(json.dumps({**config,
                                                                 "truncation": "fusion"}))
    with pytest.raises(UserError, match='set "truncation": "rand_trunc"'):
        load_hf_classifier(folder, labels=PROMPTS)


@pytest.mark.slow
def test_every_method_explains_a_prompt(cli, clap_folder, tmp_path: Path):
    import soundfile as sf

    sf.write(tmp_path / "in.wav", clip(1.0, 3), 16000)
    prompts = ",".join(f'"{p}"' for p in PROMPTS)
    for method in ("mask", "input", "prosody"):
        run = tmp_path / method
        result = cli("optimize", "classifier=hf", f"hf.path={clap_folder}",
                     f"hf.labels=[{prompts}]", f"method={method}", "target='an angry voice'",
                     f"input={tmp_path / 'in.wav'}", "steps=3", "min_steps=0", "quiet=true",
                     "cues=false", "judge=null", f"hydra.run.dir={run}")
        assert result.code == 0, result.err
        metrics = json.loads((run / "metrics.json").read_text())
        (item,) = metrics["items"]
        assert item["target"] == "an angry voice" and set(item["probs"]) == set(PROMPTS)
        assert metrics["run"]["classifier"]["multi_label"] is False
