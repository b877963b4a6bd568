"""The torch front ends of transformers' audio feature extractors compute what the extractors
compute (AST's Kaldi filterbank, Whisper's log-mel), and gradients pass them to the waveform of
AST and Whisper classifiers. Tiny random models, built here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from amcli.errors import UserError
from amcli.models.hf import load_hf_classifier
from amcli.models.hf_features import KaldiFbank, WhisperLogMel, front_end

transformers = pytest.importorskip("transformers", reason="the dev extra installs transformers")

def speech_like(seconds: float, seed: int) -> np.ndarray:
    """A voiced-ish test signal: harmonics of a gliding F0 under an envelope, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(
        2 * np.pi * 2 * t)) ** 2
    return (0.2 * wave + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.6, 1.6])  # padded to 100 frames, and cut to them
def test_the_kaldi_front_end_equals_the_ast_feature_extractor(seconds):
    extractor = transformers.ASTFeatureExtractor(num_mel_bins=64, max_length=100)
    clips = [speech_like(seconds, 0), speech_like(seconds, 1)]
    theirs = extractor(clips, sampling_rate=16000, return_tensors="pt")["input_values"]
    module, name = front_end(extractor, "hf.path=x")
    assert isinstance(module, KaldiFbank) and name == "input_values"
    ours = module(torch.from_numpy(np.stack(clips)))
    assert ours.shape == theirs.shape == (2, 100, 64)
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("seconds", [0.7, 2.5])  # padded to 2 s, and cut to them
def test_the_log_mel_front_end_equals_the_whisper_feature_extractor(seconds):
    extractor = transformers.WhisperFeatureExtractor(feature_size=40, chunk_length=2)
    clips = [speech_like(seconds, 2), 0.05 * speech_like(seconds, 3)]
    theirs = torch.as_tensor(extractor(clips, sampling_rate=16000,
                                       return_tensors="np")["input_features"])
    module, name = front_end(extractor, "hf.path=x")
    assert isinstance(module, WhisperLogMel) and name == "input_features"
    ours = module(torch.from_numpy(np.stack(clips)))
    assert ours.shape == theirs.shape == (2, 40, 200)
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)


def test_a_whisper_extractor_with_dither_is_refused():
    extractor = transformers.WhisperFeatureExtractor(feature_size=40, chunk_length=2,
                                                     dither=1e-5)
    with pytest.raises(UserError, match="dither"):
        front_end(extractor, "hf.path=x")


def test_an_extractor_amcli_cannot_follow_is_refused_by_name():
    extractor = transformers.SeamlessM4TFeatureExtractor()
    with pytest.raises(UserError, match="SeamlessM4TFeatureExtractor computes input_features"):
        front_end(extractor, "hf.path=x")


@pytest.mark.slow  # builds and saves tiny transformers models
@pytest.mark.parametrize("kind", ["audio-spectrogram-transformer", "whisper"])
def test_ast_and_whisper_classifiers_load_and_pass_gradients_to_the_waveform(
        spectrogram_transformers, kind):
    folder = spectrogram_transformers[kind]
    model = load_hf_classifier(folder)
    assert model.classes == ["neutral", "happy", "sad"] and model.sample_rate == 16000
    wave = torch.from_numpy(np.stack([speech_like(1.0, 4), speech_like(1.0, 5)]))
    wave.requires_grad_(True)
    logits = model(wave)
    assert logits.shape == (2, 3)
    logits[:, 1].sum().backward()
    assert wave.grad is not None and wave.grad.abs().sum() > 0
    # what the plain transformers model gives from the extractor's own features
    plain = transformers.AutoModelForAudioClassification.from_pretrained(str(folder)).eval()
    extractor = transformers.AutoFeatureExtractor.from_pretrained(str(folder))
    name = model.body.input_name
    inputs = extractor([w.detach().numpy() for w in wave], sampling_rate=16000,
                       return_tensors="pt")[name]
    with torch.no_grad():
        torch.testing.assert_close(model(wave), plain(**{name: inputs}).logits, atol=1e-4,
                                   rtol=1e-4)
    assert model.embed(wave).shape[0] == 2


@pytest.mark.slow  # builds and saves tiny transformers models
def test_a_transformers_tagger_is_read_as_multi_label(tmp_path, spectrogram_transformers):
    """problem_type=multi_label_classification (how transformers declares a sigmoid head)."""
    import json
    import shutil

    folder = shutil.copytree(spectrogram_transformers["audio-spectrogram-transformer"],
                             tmp_path / "tagger")
    assert not load_hf_classifier(folder).multi_label
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(
        {**config, "problem_type": "multi_label_classification"}))
    tagger = load_hf_classifier(folder)
    assert tagger.multi_label
    wave = torch.from_numpy(speech_like(1.0, 6)).unsqueeze(0)
    with torch.no_grad():
        logits = tagger(wave)
    from amcli.models.base import class_probabilities

    torch.testing.assert_close(class_probabilities(logits, tagger.multi_label),
                               torch.sigmoid(logits))
