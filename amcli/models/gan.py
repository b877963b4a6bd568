"""GAN and conditional-GAN generators and discriminators over log-mel patches or waveforms.

Generator contract (see docs/design.md): ``forward(z [B, latent_dim], y [B] | None)`` returns a
waveform [B, T] in [-1, 1] (``representation == "raw"``) or a log-mel [B, n_mels, frames] in the
classifier's own log-mel scale (``"mel"``), with ``representation``, ``latent_dim``,
``conditional`` and ``classes``.

- mel: DCGAN-style 2-D (Radford et al. 2016) over a 64-band x 128-frame patch (about 2 s at
  hop 256); the generator upsamples with 4x4 stride-2 transposed convolutions and ends in a
  tanh that is mapped onto the corpus' log-mel range [mel_low, mel_high].
- raw: WaveGAN-style 1-D (Donahue et al. 2019) over 16384 samples (about 1 s at 16 kHz):
  length-25 kernels, x4 transposed-convolution upsampling per stage, a tanh output, phase
  shuffle in the discriminator.

Conditioning: the generator concatenates a learned class embedding to z; the discriminator is a
projection discriminator (Miyato & Koyama 2018): ``psi(h) + <embed(y), h>``. Discriminators use
spectral normalization (Miyato et al. 2018) and are trained with the hinge loss.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from amcli.features import FeatureParams

REPRESENTATIONS = ("mel", "raw")
#: mel patch: bands x frames; raw: samples
MEL_FRAMES = 128
RAW_SAMPLES = 16384
#: the ``arch`` of generator checkpoints, per representation
GENERATOR_ARCHS = {"mel": "dcgan_mel", "raw": "wavegan_raw"}


class Generator(nn.Module):
    """Shared conditioning and metadata; subclasses build ``net`` from the input vector."""

    representation = "mel"

    def __init__(self, latent_dim: int, classes: list[str], conditional: bool,
                 embed_dim: int) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.classes = list(classes)
        self.conditional = bool(conditional)
        self.embedding = nn.Embedding(len(classes), embed_dim) if conditional else None
        self.in_dim = self.latent_dim + (embed_dim if conditional else 0)

    def inputs(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if not self.conditional:
            return z
        if y is None:
            raise ValueError("a conditional generator needs class labels y")
        return torch.cat([z, self.embedding(y.to(z.device))], dim=1)

    def sample_z(self, n: int, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator).to(device)

    @torch.no_grad()
    def standing_stats(self, batches: int = 16, batch_size: int = 64, seed: int = 0) -> None:
        """Re-estimate BatchNorm statistics as averages over many random batches (BigGAN's
        "standing statistics"): eval-mode samples then match the training-mode ones."""
        norms = [m for m in self.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        was_training = self.training
        device = next(self.parameters()).device
        gen = torch.Generator().manual_seed(seed)
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        self.train()
        for _ in range(batches):
            z = self.sample_z(batch_size, gen, device)
            y = torch.randint(len(self.classes), (batch_size,), generator=gen).to(device) \
                if self.conditional else None
            self(z, y)
        for m in norms:
            m.momentum = 0.1
        self.train(was_training)


def _up2d(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class MelGenerator(Generator):
    """z (+ class) -> log-mel [B, n_mels, 128]; n_mels must be 64 (4 x 2^4)."""

    representation = "mel"

    def __init__(self, classes: list[str], features: FeatureParams | None = None,
                 latent_dim: int = 128, width: int = 32, conditional: bool = False,
                 embed_dim: int = 32, mel_low: float = math.log(1e-5),
                 mel_high: float = 2.0) -> None:
        super().__init__(latent_dim, classes, conditional, embed_dim)
        self.feature_params = features or FeatureParams()
        self.sample_rate = self.feature_params.sample_rate
        if self.feature_params.n_mels != 64:
            raise ValueError("the mel generator makes 64-band patches; n_mels must be 64")
        self.mel_low, self.mel_high = float(mel_low), float(mel_high)
        self.width = c = int(width)
        self.fc = nn.Sequential(nn.Linear(self.in_dim, 8 * c * 4 * 8, bias=False),
                                nn.Unflatten(1, (8 * c, 4, 8)), nn.BatchNorm2d(8 * c),
                                nn.ReLU(inplace=True))
        self.net = nn.Sequential(_up2d(8 * c, 4 * c), _up2d(4 * c, 2 * c), _up2d(2 * c, c),
                                 _up2d(c, c), nn.Conv2d(c, 1, 3, padding=1), nn.Tanh())

    @property
    def output_shape(self) -> tuple[int, int]:
        return (self.feature_params.n_mels, MEL_FRAMES)

    def normalize(self, logmel: torch.Tensor) -> torch.Tensor:
        """log-mel -> the generator's [-1, 1] scale (clamped), for the discriminator."""
        mid, half = (self.mel_high + self.mel_low) / 2, (self.mel_high - self.mel_low) / 2
        return ((logmel - mid) / half).clamp(-1.0, 1.0)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        mid, half = (self.mel_high + self.mel_low) / 2, (self.mel_high - self.mel_low) / 2
        return x * half + mid

    def forward_normalized(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.fc(self.inputs(z, y))).squeeze(1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.denormalize(self.forward_normalized(z, y))


def _up1d(c_in: int, c_out: int, last: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ConvTranspose1d(c_in, c_out, 25, stride=4, padding=11,
                                                  output_padding=1, bias=last)]
    layers += [nn.Tanh()] if last else [nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class RawGenerator(Generator):
    """z (+ class) -> waveform [B, 16384] in [-1, 1]."""

    representation = "raw"

    def __init__(self, classes: list[str], sample_rate: int = 16000, latent_dim: int = 100,
                 width: int = 16, conditional: bool = False, embed_dim: int = 32) -> None:
        super().__init__(latent_dim, classes, conditional, embed_dim)
        self.sample_rate = int(sample_rate)
        self.feature_params = None
        self.width = c = int(width)
        self.fc = nn.Sequential(nn.Linear(self.in_dim, 16 * c * 16, bias=False),
                                nn.Unflatten(1, (16 * c, 16)), nn.BatchNorm1d(16 * c),
                                nn.ReLU(inplace=True))
        self.net = nn.Sequential(_up1d(16 * c, 8 * c), _up1d(8 * c, 4 * c), _up1d(4 * c, 2 * c),
                                 _up1d(2 * c, c), _up1d(c, 1, last=True))

    @property
    def output_shape(self) -> tuple[int]:
        return (RAW_SAMPLES,)

    def normalize(self, wave: torch.Tensor) -> torch.Tensor:
        return wave.clamp(-1.0, 1.0)

    def forward_normalized(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.fc(self.inputs(z, y))).squeeze(1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_normalized(z, y)


class Discriminator(nn.Module):
    """features(x) -> [B, D]; score = linear(h) (+ <embed(y), h> when conditional)."""

    def __init__(self, feature_dim: int, n_classes: int, conditional: bool) -> None:
        super().__init__()
        self.conditional = conditional
        self.out = spectral_norm(nn.Linear(feature_dim, 1))
        self.projection = spectral_norm(nn.Embedding(n_classes, feature_dim)) \
            if conditional else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        score = self.out(h).squeeze(1)
        if self.conditional:
            score = score + (self.projection(y) * h).sum(1)
        return score


class MelDiscriminator(Discriminator):
    """Normalized log-mel patch [B, 64, 128] -> score [B]."""

    def __init__(self, n_classes: int, width: int = 32, conditional: bool = False) -> None:
        c = width
        super().__init__(8 * c, n_classes, conditional)
        layers: list[nn.Module] = []
        for c_in, c_out in ((1, c), (c, 2 * c), (2 * c, 4 * c), (4 * c, 8 * c)):
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [spectral_norm(nn.Conv2d(8 * c, 8 * c, 3, padding=1)),
                   nn.LeakyReLU(0.2, inplace=True)]
        self.net = nn.Sequential(*layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1)).sum(dim=(2, 3))


class PhaseShuffle(nn.Module):
    """WaveGAN's phase shuffle: shift each item's activations by a random -n..n samples
    (reflect-padded) so the discriminator cannot key on the generator's exact phase."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.n == 0:
            return x
        length = x.shape[-1]
        shifts = torch.randint(-self.n, self.n + 1, (x.shape[0], 1, 1), device=x.device)
        index = torch.arange(length, device=x.device).view(1, 1, -1) + self.n - shifts
        padded = F.pad(x, (self.n, self.n), mode="reflect")
        return padded.gather(2, index.expand(-1, x.shape[1], -1))


class RawDiscriminator(Discriminator):
    """Waveform [B, 16384] -> score [B]."""

    def __init__(self, n_classes: int, width: int = 16, conditional: bool = False,
                 phase_shuffle: int = 2) -> None:
        c = width
        super().__init__(16 * c, n_classes, conditional)
        layers: list[nn.Module] = []
        chans = (1, c, 2 * c, 4 * c, 8 * c, 16 * c)
        for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:], strict=True)):
            layers += [spectral_norm(nn.Conv1d(c_in, c_out, 25, stride=4, padding=11)),
                       nn.LeakyReLU(0.2, inplace=True)]
            if phase_shuffle and i < len(chans) - 2:
                layers.append(PhaseShuffle(phase_shuffle))
        self.net = nn.Sequential(*layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1)).sum(dim=2)


def build_gan(representation: str, classes: list[str], conditional: bool,
              features: FeatureParams | None = None, sample_rate: int = 16000,
              **hparams: Any) -> tuple[Generator, Discriminator]:
    """A generator and its discriminator for ``representation`` ("mel" | "raw").

    ``hparams``: latent_dim, width, embed_dim, d_width (discriminator width; default width),
    and for mel mel_low/mel_high (the log-mel range the tanh output maps onto). They are
    recorded as ``gen.hparams``, the checkpoint's ``hparams``."""
    hparams = dict(hparams)
    d_width = hparams.pop("d_width", None)
    if representation == "mel":
        gen: Generator = MelGenerator(classes, features, conditional=conditional, **hparams)
        disc: Discriminator = MelDiscriminator(len(classes), d_width or gen.width, conditional)
    elif representation == "raw":
        gen = RawGenerator(classes, sample_rate, conditional=conditional, **hparams)
        disc = RawDiscriminator(len(classes), d_width or gen.width, conditional)
    else:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}")
    gen.hparams = {**hparams, "d_width": d_width or gen.width}
    return gen, disc
