"""Penalties (per item [B], to minimize) and robustness transforms.

Penalties read the parameterization they regularize: masks are penalized on their frame-level
values, inputs on the signal. ``SortedArea`` is the area constraint of extremal perturbations
(Fong, Patrick & Vedaldi 2019): ||sort(m) - r_a||^2 over active frames, r_a being (1-a)n zeros
then an ones, with a weight that grows during the optimization. ``MaskArea`` is the
lambda-weighted mean of Fong & Vedaldi (2017).
"""

from __future__ import annotations

import math

import torch

from amcli.am.parameterization import Input, Latent, Mask, Parameterization


class Regularizer:
    """weight * penalty(param); ``weight_at(step, steps)`` may schedule the weight."""

    def __init__(self, weight: float) -> None:
        self.weight = float(weight)

    def weight_at(self, step: int, steps: int) -> float:
        return self.weight

    def penalty(self, param: Parameterization) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, param: Parameterization, step: int = 0, steps: int = 1) -> torch.Tensor:
        return self.weight_at(step, steps) * self.penalty(param)


def _values(param: Parameterization) -> torch.Tensor:
    """What L1/L2/TV act on: a mask's frame values, a generator's z (the seed's lambda_1 ||z||_1
    + lambda_2 ||z||^2), or the input signal."""
    if isinstance(param, Mask):
        return param.time_profile()
    if isinstance(param, Latent):
        return param.z
    return param.signal()


def _flat_mean(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


class L1(Regularizer):
    def penalty(self, param: Parameterization) -> torch.Tensor:
        return _flat_mean(_values(param).abs())


class L2(Regularizer):
    """Mean square: Simonyan et al.'s lambda * ||x||^2 (per element, so the weight does not
    depend on the clip length)."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        return _flat_mean(_values(param).pow(2))


class TV(Regularizer):
    """Total variation along time (and mel bands for a log-mel input)."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        x = _values(param)
        tv = _flat_mean((x[..., 1:] - x[..., :-1]).abs())
        if isinstance(param, Input) and param.domain == "mel":
            tv = tv + _flat_mean((x[:, 1:] - x[:, :-1]).abs())
        return tv


class MaskArea(Regularizer):
    """Fong & Vedaldi (2017): lambda * mean(m), over the clip's active frames."""

    def penalty(self, param: Parameterization) -> torch.Tensor:
        if not isinstance(param, Mask):
            raise TypeError("MaskArea regularizes masks")
        return param.area()


class SortedArea(Regularizer):
    """Extremal-perturbation area constraint: keep exactly ``area`` of the active frames.

    The weight grows geometrically from ``weight`` to ``weight * growth`` over the run.
    """

    def __init__(self, area: float, weight: float = 1.0, growth: float = 100.0) -> None:
        super().__init__(weight)
        if not 0 < area <= 1:
            raise ValueError("area must be in (0, 1]")
        self.area, self.growth = float(area), float(growth)

    def weight_at(self, step: int, steps: int) -> float:
        return self.weight * self.growth ** (step / max(steps - 1, 1))

    def penalty(self, param: Parameterization) -> torch.Tensor:
        if not isinstance(param, Mask):
            raise TypeError("SortedArea regularizes masks")
        return sorted_area_loss(param.keep_values(), param.active, self.area)


def sorted_area_loss(keep: torch.Tensor, active: torch.Tensor, area: float) -> torch.Tensor:
    """Mean of (sort(m) - r_a)^2 over each item's active frames [B]."""
    n_active = active.sum(-1)
    # inactive frames sort last (value 2 > any kept value), then are ignored
    values = torch.where(active, keep, torch.full_like(keep, 2.0))
    ordered, _ = values.sort(dim=-1)
    position = torch.arange(keep.shape[-1], device=keep.device).unsqueeze(0)
    n_keep = (area * n_active).round().long().unsqueeze(-1)
    inside = position < n_active.unsqueeze(-1)
    ramp = (position >= n_active.unsqueeze(-1) - n_keep).float()
    error = ((ordered - ramp) ** 2) * inside
    return error.sum(-1) / n_active.clamp_min(1)


class RobustTransforms:
    """Random time shift, gain and additive noise, fresh draws every step (Lucid/Lucent's
    transformation robustness), applied to the whole signal the classifier hears.

    On a waveform: circular shift by up to ``shift_s`` seconds, gain within +-``gain_db``, white
    noise at an SNR drawn from ``snr_db`` (None: no noise). On a log-mel: shift by frames and
    gain as an additive log offset.
    """

    def __init__(self, shift_s: float = 0.05, gain_db: float = 1.0,
                 snr_db: tuple[float, float] | None = (30.0, 50.0), sample_rate: int = 16000,
                 hop_length: int = 256, generator: torch.Generator | None = None) -> None:
        self.shift_s, self.gain_db, self.snr_db = shift_s, gain_db, snr_db
        self.sample_rate, self.hop_length = sample_rate, hop_length
        self.generator = generator

    def _uniform(self, n: int, low: float, high: float, device) -> torch.Tensor:
        return (low + (high - low) * torch.rand(n, generator=self.generator)).to(device)

    def __call__(self, signal: torch.Tensor, domain: str = "wave") -> torch.Tensor:
        b, device = signal.shape[0], signal.device
        unit = self.sample_rate if domain == "wave" else self.sample_rate / self.hop_length
        max_shift = int(self.shift_s * unit)
        if max_shift > 0:
            shifts = torch.randint(-max_shift, max_shift + 1, (b,), generator=self.generator)
            n = signal.shape[-1]
            index = (torch.arange(n).unsqueeze(0) - shifts.unsqueeze(1)) % n
            index = index.to(device)
            if domain == "mel":
                index = index.unsqueeze(1).expand(-1, signal.shape[1], -1)
            signal = signal.gather(-1, index)
        if self.gain_db > 0:
            gain_db = self._uniform(b, -self.gain_db, self.gain_db, device)
            if domain == "wave":
                signal = signal * (10.0 ** (gain_db / 20.0)).view(b, 1)
            else:
                signal = signal + (gain_db * math.log(10.0) / 10.0).view(b, 1, 1)
        if self.snr_db and domain == "wave":
            snr = self._uniform(b, *self.snr_db, device)
            power = signal.detach().pow(2).mean(-1).clamp_min(1e-10)
            std = torch.sqrt(power / 10.0 ** (snr / 10.0)).view(b, 1)
            noise = torch.randn(signal.shape, generator=self.generator).to(device)
            signal = signal + std * noise
        return signal
