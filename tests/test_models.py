"""Classifier architectures: the contract, any length, sizes, and eval-mode RNN gradients."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from amcli.models import ARCHITECTURES, EvalSafeGRU, build_classifier
from amcli.resources import checkpoints_dir

CLASSES = ["neutral", "happy", "sad", "angry"]
CONF = Path(__file__).resolve().parents[1] / "conf" / "model"


def shipped_hparams(arch: str) -> dict:
    config = yaml.safe_load((CONF / f"{arch}.yaml").read_text())
    config.pop("arch")
    return {k: v for k, v in config.items() if v is not None}


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_contract_and_any_length_above_the_minimum(arch):
    torch.manual_seed(0)
    model = build_classifier(arch, CLASSES, 16000, **shipped_hparams(arch)).eval()
    assert model.classes == CLASSES and model.sample_rate == 16000
    assert model.representation == arch.split("_")[1]
    for seconds in (0.5, 1.0, 3.0, 5.2):
        wave = 0.1 * torch.randn(2, int(seconds * 16000))
        logits = model(wave)
        assert logits.shape == (2, 4) and torch.isfinite(logits).all()
        assert torch.equal(logits, model.body(model.front_end(wave)))
        assert model.embed(wave).shape == (2, 64)
    assert model.min_samples == 8000


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_shipped_configs_stay_under_2_mb(arch):
    model = build_classifier(arch, CLASSES, 16000, **shipped_hparams(arch))
    size = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    assert size < 2e6


def test_mel_models_expose_the_log_mel_body():
    model = build_classifier("crnn_mel", CLASSES, 16000).eval()
    wave = 0.1 * torch.randn(1, 16000)
    mel = model.front_end(wave)
    assert mel.shape == (1, 64, 63)
    assert torch.allclose(model.body(mel), model(wave))


def test_loudness_reaches_the_model():
    """No per-clip normalization: halving the level changes the output."""
    model = build_classifier("cnn_mel", CLASSES, 16000).eval()
    wave = 0.2 * torch.randn(1, 16000)
    assert not torch.allclose(model(wave), model(0.5 * wave))


@pytest.mark.parametrize("arch", ["crnn_mel", "crnn_raw"])
def test_eval_mode_rnn_gradients_with_unchanged_outputs(arch):
    torch.manual_seed(0)
    model = build_classifier(arch, CLASSES, 16000).eval()
    rnn = model.body.rnn
    assert isinstance(rnn, EvalSafeGRU) and rnn.training and rnn.dropout == 0
    assert not model.body.convs.training  # everything else is really in eval mode
    wave = (0.1 * torch.randn(2, 16000)).requires_grad_(True)
    out = model(wave)
    # The same model with its GRU forced into eval mode computes the same function.
    torch.nn.Module.train(rnn, False)
    assert torch.equal(out, model(wave))
    model.eval()
    out[:, 2].sum().backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all() and wave.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (cuDNN RNN backward)")
@pytest.mark.parametrize("arch", ["crnn_mel", "crnn_raw"])
def test_eval_mode_rnn_gradients_on_cuda(arch):
    model = build_classifier(arch, CLASSES, 16000).cuda().eval()
    wave = (0.1 * torch.randn(2, 16000, device="cuda")).requires_grad_(True)
    model(wave)[:, 1].sum().backward()
    assert torch.isfinite(wave.grad).all()


def test_eval_safe_gru_refuses_dropout():
    with pytest.raises(ValueError, match="dropout 0"):
        EvalSafeGRU(8, 8, num_layers=2, dropout=0.1)


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="unknown architecture 'resnet'"):
        build_classifier("resnet", CLASSES, 16000)


def test_shipped_checkpoints_folder_is_found():
    assert (checkpoints_dir() / "examples" / "angry.wav").is_file()
