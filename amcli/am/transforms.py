"""Robustness transforms (Lucid/Lucent's "transformation robustness"), composable.

A transform is any callable ``(signal, domain, draws) -> signal`` applied to the whole signal the
classifier hears, with fresh random draws every step (``draws``: :class:`amcli.am.random.Draws`,
per item, so results do not depend on batching). They discourage solutions that only work for
one exact waveform. :func:`compose` chains them, giving each its own random stream, as Lucent's
``transform.compose`` does; :func:`default_transforms` is the list amcli uses: a random time
shift, a random gain and additive noise at a random SNR.

Waveforms are [B, T] (domain "wave"); log-mels [B, n_mels, frames] (domain "mel") are shifted by
frames and gained by an additive log offset; noise applies to waveforms only. A transform that
needs the model's sample rate or hop (the shift, in seconds) takes them from the model when
:func:`amcli.am.optimize` runs it (:func:`for_model`), unless given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from amcli.am.random import Draws
from amcli.features import FeatureParams

Transform = Callable[[torch.Tensor, str, Draws], torch.Tensor]


class RandomShift:
    """Circular time shift by up to ``seconds`` either way (``sample_rate`` samples per second
    on waveforms, ``sample_rate / hop_length`` frames per second on log-mels; None: the
    model's, filled in by :meth:`for_model`)."""

    def __init__(self, seconds: float = 0.05, sample_rate: int | None = None,
                 hop_length: int | None = None) -> None:
        self.seconds, self.sample_rate, self.hop_length = seconds, sample_rate, hop_length

    def for_model(self, model: nn.Module) -> RandomShift:
        """This shift with the model's sample rate and hop where none was given."""
        if self.sample_rate is None and getattr(model, "sample_rate", None) is None:
            raise ValueError(f"{type(model).__name__} has no sample_rate for the random shift "
                             "to count its seconds in: give am.default_transforms("
                             "sample_rate=...) (and hop_length= for a log-mel model), or set "
                             "model.sample_rate")
        rate = self.sample_rate if self.sample_rate is not None else int(model.sample_rate)
        hop = self.hop_length
        if hop is None:
            features = getattr(model, "feature_params", None) or FeatureParams(sample_rate=rate)
            hop = int(features.hop_length)
        return RandomShift(self.seconds, rate, hop)

    def __call__(self, signal: torch.Tensor, domain: str, draws: Draws) -> torch.Tensor:
        if self.sample_rate is None or (domain == "mel" and self.hop_length is None):
            raise ValueError("RandomShift has no sample rate (or hop): give sample_rate= and "
                             "hop_length=, or run it through am.optimize, which takes the "
                             "model's")
        unit = self.sample_rate if domain == "wave" else self.sample_rate / self.hop_length
        limit = int(self.seconds * unit)
        if limit <= 0:
            return signal
        shifts = draws.integers(0, -limit, limit).to(signal.device)
        n = signal.shape[-1]
        index = (torch.arange(n, device=signal.device).unsqueeze(0) - shifts.unsqueeze(1)) % n
        if domain == "mel":
            index = index.unsqueeze(1).expand(-1, signal.shape[1], -1)
        return signal.gather(-1, index)


class RandomGain:
    """Gain drawn uniformly within +-``db`` decibels."""

    def __init__(self, db: float = 1.0) -> None:
        self.db = db

    def __call__(self, signal: torch.Tensor, domain: str, draws: Draws) -> torch.Tensor:
        if self.db <= 0:
            return signal
        gain_db = (self.db * (2.0 * draws.uniform(0)[:, 0] - 1.0)).to(signal.device)
        if domain == "wave":
            return signal * (10.0 ** (gain_db / 20.0)).view(-1, 1)
        return signal + (gain_db * math.log(10.0) / 10.0).view(-1, 1, 1)


class AddNoise:
    """White noise at an SNR (dB, re the signal's own power) drawn uniformly from ``snr_db``;
    waveforms only."""

    def __init__(self, snr_db: Sequence[float] = (30.0, 50.0)) -> None:
        low, high = (float(v) for v in snr_db)
        self.low, self.high = low, high

    def __call__(self, signal: torch.Tensor, domain: str, draws: Draws) -> torch.Tensor:
        if domain != "wave":
            return signal
        snr = (self.low + (self.high - self.low) * draws.uniform(0)[:, 0]).to(signal.device)
        # in float64: a float32 sum over a row rounds differently alone and in a batch
        power = signal.detach().double().pow(2).mean(-1).clamp_min(1e-10).float()
        std = torch.sqrt(power / 10.0 ** (snr / 10.0)).view(-1, 1)
        noise = draws.normal(1, signal.shape[-1]).to(signal.device, signal.dtype)
        return signal + std * noise


class Compose:
    """Apply transforms in order; the k-th gets its own random stream."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, signal: torch.Tensor, domain: str, draws: Draws) -> torch.Tensor:
        for k, transform in enumerate(self.transforms):
            signal = transform(signal, domain, draws.substream(k))
        return signal

    def __len__(self) -> int:
        return len(self.transforms)

    def for_model(self, model: nn.Module) -> Compose:
        return Compose([for_model(t, model) for t in self.transforms])


def for_model(transform: Transform, model: nn.Module) -> Transform:
    """``transform`` with what it takes from the model filled in (its ``for_model``, when it
    has one: the shift's sample rate and hop); other transforms as they are."""
    bind = getattr(transform, "for_model", None)
    return bind(model) if callable(bind) else transform


def compose(transforms: Sequence[Transform]) -> Compose:
    return Compose(transforms)


def default_transforms(shift_s: float = 0.05, gain_db: float = 1.0,
                       snr_db: Sequence[float] | None = (30.0, 50.0),
                       sample_rate: int | None = None, hop_length: int | None = None) -> Compose:
    """amcli's default list: random shift (+-50 ms), gain (+-1 dB) and noise (30-50 dB SNR);
    the shift in the model's samples or frames unless ``sample_rate`` / ``hop_length`` say."""
    chain: list[Transform] = [RandomShift(shift_s, sample_rate, hop_length), RandomGain(gain_db)]
    if snr_db:
        chain.append(AddNoise(snr_db))
    return Compose(chain)
