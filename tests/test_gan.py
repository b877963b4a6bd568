"""GAN priors: shapes, conditioning, training, exact resume, checkpoints, latent AM."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from amcli import am
from amcli.errors import UserError
from amcli.features import FeatureParams
from amcli.models import build_classifier
from amcli.models.checkpoint import load_generator, save_generator
from amcli.models.gan import MEL_FRAMES, RAW_SAMPLES, build_gan
from amcli.train.gan import CropSampler, GanSettings, GanTrainer, crop_length

CLASSES = ["neutral", "happy", "sad", "angry"]
TINY = {"mel": {"width": 4, "latent_dim": 8}, "raw": {"width": 4, "latent_dim": 8}}


def tiny_gan(rep: str, conditional: bool):
    torch.manual_seed(0)
    return build_gan(rep, CLASSES, conditional, **TINY[rep])


@pytest.mark.parametrize("rep", ["mel", "raw"])
@pytest.mark.parametrize("conditional", [False, True])
def test_generator_and_discriminator_shapes(rep, conditional):
    gen, disc = tiny_gan(rep, conditional)
    z = gen.sample_z(3)
    y = torch.tensor([0, 1, 3]) if conditional else None
    out = gen(z, y)
    expected = (3, 64, MEL_FRAMES) if rep == "mel" else (3, RAW_SAMPLES)
    assert out.shape == expected and torch.isfinite(out).all()
    assert gen.representation == rep and gen.latent_dim == 8 and gen.conditional == conditional
    assert gen.classes == CLASSES
    assert disc(gen.normalize(out), y).shape == (3,)
    if rep == "mel":  # the tanh output spans the corpus' log-mel range, nothing beyond
        assert out.min() >= gen.mel_low - 1e-4 and out.max() <= gen.mel_high + 1e-4
    else:
        assert out.abs().max() <= 1.0


@pytest.mark.parametrize("rep", ["mel", "raw"])
def test_conditioning_changes_the_output(rep):
    gen, disc = tiny_gan(rep, conditional=True)
    gen.eval()
    z = gen.sample_z(1).repeat(2, 1)
    out = gen(z, torch.tensor([0, 3]))
    assert (out[0] - out[1]).abs().max() > 1e-3
    x = gen.normalize(out[:1]).repeat(2, *[1] * (out.dim() - 1))
    scores = disc(x, torch.tensor([0, 3]))  # the projection discriminator reads the label too
    assert (scores[0] - scores[1]).abs() > 1e-6
    with pytest.raises(ValueError, match="needs class labels"):
        gen(z, None)


def toy_sampler(rep: str, n: int = 16) -> CropSampler:
    """Tones whose pitch depends on the class, at a speech-like level."""
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % 4
    t = torch.arange(24000) / 16000
    waves = torch.stack([0.3 * torch.sin(2 * torch.pi * (150 + 60 * int(y)) * t
                                         + torch.rand(1, generator=gen) * 6) for y in labels])
    return CropSampler(waves.half(), labels, crop_length(rep, FeatureParams()))


def test_crop_sampler_places_crops_over_the_speech():
    waves = torch.zeros(2, 48000)
    waves[:, 20000:30000] = 0.3 * torch.randn(2, 10000)
    sampler = CropSampler(waves, torch.tensor([0, 1]), 16384)
    crops, labels = sampler.sample(32, torch.Generator().manual_seed(0))
    assert crops.shape == (32, 16384) and crops.dtype == torch.float32
    # every crop holds the whole 10000-sample burst
    assert ((crops.abs() > 0).sum(-1) >= 9990).all()
    assert set(labels.tolist()) <= {0, 1}


def test_a_few_discriminator_steps_lower_its_loss_on_a_toy_set():
    gen, disc = tiny_gan("mel", conditional=False)
    trainer = GanTrainer(gen, disc, toy_sampler("mel"), GanSettings(batch_size=8, lr_d=2e-3,
                                                                    lr_g=2e-4, seed=0))
    rows = [trainer.step() for _ in range(30)]
    first = sum(r["loss_d"] for r in rows[:5]) / 5
    last = sum(r["loss_d"] for r in rows[-5:]) / 5
    assert last < first - 0.1, (first, last)
    assert trainer.iteration == 30 and len(trainer.history) == 30


@pytest.mark.parametrize("rep", ["mel", "raw"])
def test_resume_restores_the_exact_training_state(tmp_path, rep):
    settings = GanSettings(batch_size=4, seed=3, diversity=0.5)  # with the mode-seeking term

    def fresh() -> GanTrainer:
        gen, disc = tiny_gan(rep, conditional=True)
        return GanTrainer(gen, disc, toy_sampler(rep), settings)

    straight = fresh()
    straight.run(5)
    interrupted = fresh()
    interrupted.run(3)
    interrupted.save_state(tmp_path / "state.safetensors")
    resumed = fresh()  # a new process: nothing shared but the file
    torch.manual_seed(12345)  # whatever the global RNG did meanwhile
    resumed.load_state(tmp_path / "state.safetensors")
    assert resumed.iteration == 3 and len(resumed.history) == 3
    resumed.run(5)
    a, b = straight.state_tensors(), resumed.state_tensors()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert straight.history == resumed.history


def test_generator_checkpoint_round_trip_in_half_precision(tmp_path):
    gen, _ = tiny_gan("mel", conditional=True)
    gen.eval()
    sidecar = save_generator(gen, tmp_path / "cgan_mel", training={"seed": 0})
    meta = json.loads(sidecar.read_text())
    assert meta["kind"] == "generator" and meta["conditional"] is True
    assert meta["latent_dim"] == 8 and meta["representation"] == "mel"
    assert meta["features"]["n_mels"] == 64 and meta["dtype"] == "float16"
    assert all(v.dtype == torch.float16 for v in
               load_file(str(tmp_path / "cgan_mel.safetensors")).values() if v.is_floating_point())
    loaded = load_generator(sidecar)
    z, y = gen.sample_z(2), torch.tensor([1, 2])
    with torch.no_grad():
        assert torch.allclose(loaded(z, y), gen(z, y), atol=0.05)
    assert loaded.checkpoint["name"] == "cgan_mel" and not loaded.training
    with pytest.raises(UserError, match="is a generator, not a classifier"):
        from amcli.models import load_classifier
        load_classifier(sidecar)


@pytest.mark.parametrize("rep", ["mel", "raw"])
def test_latent_optimization_raises_the_target_probability(rep):
    gen, _ = tiny_gan(rep, conditional=rep == "mel")
    gen.standing_stats(batches=2, batch_size=8)
    arch = "crnn_mel" if rep == "mel" else "cnn_raw"
    torch.manual_seed(0)
    model = build_classifier(arch, CLASSES, 16000, width=4, depth=2, rnn_hidden=8,
                             embed_dim=8).eval()
    with torch.no_grad():  # an untrained head is nearly flat: give its logits some range
        model.body.head.weight.mul_(50.0 if rep == "mel" else 10.0)
    targets = torch.tensor([0, 1, 2, 3])
    labels = targets if gen.conditional else None
    param = am.Latent(gen, 4, labels, seeds=[0, 1, 2, 3])
    assert [n for n, _ in param.named_parameters()] == ["z"]  # only z is optimized
    with torch.no_grad():
        before = torch.softmax(am.classify(model, param.signal(), param.domain), -1)
    before = before.gather(1, targets.view(-1, 1))[:, 0]
    result = am.optimize(model, param, targets, objective=am.ClassLogSoftmax(), steps=60,
                         lr=0.2, threshold=None, regularizers=[am.L2(0.01)])
    assert (result.target_prob > before).all(), (before, result.target_prob)
    if rep == "mel":  # a tiny untrained raw generator has little room; the mel one has more
        assert result.target_prob.mean() > before.mean() + 0.1
    # the norm constraint holds on what the generator receives
    assert (param.latent().norm(dim=1) <= (8 ** 0.5) * (1 + 1e-5)).all()


def test_pick_start_takes_the_best_of_several_draws():
    gen, _ = tiny_gan("mel", conditional=True)
    gen.eval()
    param = am.Latent(gen, 3, torch.tensor([0, 1, 2]), seeds=[0, 1, 2])

    def loudness(signal: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        assert len(item) == len(signal)
        return signal.mean(dim=(1, 2))

    with torch.no_grad():
        plain = loudness(param.signal(), torch.arange(3))
    param.pick_start(loudness, 16)
    with torch.no_grad():
        picked = loudness(param.signal(), torch.arange(3))
    assert (picked >= plain).all() and (picked > plain).any()


def test_mel_range_sees_every_part_of_the_corpus():
    from amcli.commands.train_prior import mel_range

    quiet = 0.01 * torch.randn(600, 16000)
    loud = 0.5 * torch.randn(300, 16000)  # the loud class comes last, as sorted folders do
    low, high = mel_range(torch.cat([quiet, loud]), FeatureParams())
    _, high_loud = mel_range(loud, FeatureParams())
    assert low == pytest.approx(torch.log(torch.tensor(1e-5)).item())
    assert high > high_loud - 0.5  # the loud clips set the top of the range
