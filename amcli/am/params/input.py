"""The signal itself (Simonyan et al. 2013): a waveform, or a log-mel fed to ``body``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from amcli.am.params.base import Parameterization, item_seeds
from amcli.am.random import per_item_normal


class Input(Parameterization):
    """The signal itself (Simonyan et al. 2013): a waveform, or a log-mel fed to ``body``.

    ``init`` is a tensor to start from (a clip, or its log-mel) or None for small noise.
    ``spectral`` optimizes the waveform's Fourier coefficients scaled by 1/f (Lucid/Lucent's
    decorrelated parameterization), which favours smooth, speech-like spectra over white noise.
    Waveforms are kept in [-1, 1] by a tanh. Penalties act on the signal.
    """

    #: a waveform updated at 0.1 overshoots and stalls far from any target
    default_lr = 0.003

    def __init__(
        self,
        batch: int,
        length: int,
        domain: str = "wave",
        init: torch.Tensor | None = None,
        spectral: bool = False,
        noise_std: float = 0.01,
        n_mels: int = 64,
        mel_floor: float = math.log(1e-5),
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if domain not in ("wave", "mel"):
            raise ValueError("Input domain must be 'wave' or 'mel'")
        self.register_buffer("seeds", item_seeds(seeds, batch))
        self.domain = domain
        self.spectral = spectral and domain == "wave"
        self.length = length
        if domain == "mel":
            start = init.detach().float().clone() if init is not None else (
                mel_floor + 2.0 + 0.5 * per_item_normal(self.seeds.tolist(), (n_mels, length)))
            self.values = nn.Parameter(start.expand(batch, *start.shape[-2:]).clone())
            return
        if init is not None:
            start = torch.atanh(init.detach().float().clamp(-0.999, 0.999))
            start = start.expand(batch, length).clone()
        else:
            start = noise_std * per_item_normal(self.seeds.tolist(), (length,))
        if self.spectral:
            freqs = torch.fft.rfftfreq(length)
            scale = 1.0 / torch.maximum(freqs, torch.tensor(1.0 / length)) / length
            self.register_buffer("scale", scale)
            coeffs = torch.fft.rfft(start) / scale
            self.values = nn.Parameter(torch.view_as_real(coeffs).contiguous())
        else:
            self.values = nn.Parameter(start)

    def regularized(self) -> torch.Tensor:
        return self.signal()

    def signal(self) -> torch.Tensor:
        if self.domain == "mel":
            return self.values
        raw = self.values
        if self.spectral:
            raw = torch.fft.irfft(torch.view_as_complex(raw) * self.scale, n=self.length)
        return torch.tanh(raw)

