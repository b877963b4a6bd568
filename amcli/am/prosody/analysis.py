"""WORLD analysis of a clip (Morise, Yokomori & Ozawa 2016), once, before any optimization.

F0 by Harvest, the spectral envelope by CheapTrick and the aperiodicity by D4C, through the
``pyworld`` package, on the frame grid of amcli's STFT (one frame per ``hop`` samples, centred),
so the resynthesis (amcli.am.prosody.synthesis) can build its STFT frame by frame. pyworld is
imported only here, when a clip is analysed: amcli.am imports without it.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
from dataclasses import dataclass

import numpy as np
import torch

#: Harvest's F0 search range (Hz): low enough for low male voices and sad speech.
F0_FLOOR, F0_CEIL = 55.0, 700.0


@dataclass
class Analysis:
    """One clip, analysed: per frame (N frames, ``hop`` samples apart) and per STFT bin (K)."""

    f0: torch.Tensor  # [N] Hz, 0 where unvoiced
    envelope: torch.Tensor  # [N, K] spectral envelope (power), on the STFT's bin frequencies
    aperiodicity: torch.Tensor  # [N, K] in [0, 1]
    sample_rate: int
    hop: int
    n_fft: int
    length: int  # samples of the analysed clip

    @property
    def voiced(self) -> torch.Tensor:
        return self.f0 > 0

    @property
    def n_frames(self) -> int:
        return int(self.f0.shape[0])


def load_pyworld():
    """pyworld <= 0.3.5 reads its own version through pkg_resources, which setuptools >= 81 no
    longer ships: give it a stand-in for the import, then take it away."""
    try:
        import pyworld
    except ModuleNotFoundError as err:
        if err.name != "pkg_resources":
            raise ImportError("the prosody method needs pyworld (pip install pyworld)") from err
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
            version=importlib.metadata.version(name))
        sys.modules["pkg_resources"] = shim
        try:
            import pyworld
        finally:
            if sys.modules.get("pkg_resources") is shim:
                del sys.modules["pkg_resources"]
    return pyworld


def analyse(wave: torch.Tensor, sample_rate: int, hop: int = 256,
            n_fft: int = 1024) -> Analysis:
    """WORLD analysis of a mono clip [T] on frames ``hop`` samples apart (T // hop + 1 frames,
    the frames of a centred STFT), the envelope resampled onto the ``n_fft`` STFT's bins."""
    pw = load_pyworld()
    x = wave.detach().cpu().double().numpy().copy()
    period_ms = 1000.0 * hop / sample_rate
    f0, times = pw.harvest(x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                           frame_period=period_ms)
    n = len(x) // hop + 1
    f0, times = _frames(f0, n), np.arange(n) * hop / sample_rate
    size = pw.get_cheaptrick_fft_size(sample_rate, F0_FLOOR)
    envelope = pw.cheaptrick(x, f0, times, sample_rate, fft_size=size)
    aperiodicity = pw.d4c(x, f0, times, sample_rate, fft_size=size)
    bins = np.linspace(0, size // 2, n_fft // 2 + 1)  # STFT bin frequencies in WORLD's bins
    envelope = _resample_bins(envelope, bins)
    aperiodicity = np.clip(_resample_bins(aperiodicity, bins), 0.0, 1.0)
    return Analysis(torch.from_numpy(f0).float(), torch.from_numpy(envelope).float(),
                    torch.from_numpy(aperiodicity).float(), sample_rate, hop, n_fft, len(x))


def _frames(values: np.ndarray, n: int) -> np.ndarray:
    if len(values) >= n:
        return np.ascontiguousarray(values[:n])
    return np.concatenate([values, np.zeros(n - len(values))])


def _resample_bins(matrix: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of [N, K'] along its bins at fractional ``positions``."""
    low = np.clip(np.floor(positions).astype(int), 0, matrix.shape[1] - 1)
    high = np.clip(low + 1, 0, matrix.shape[1] - 1)
    weight = positions - low
    return matrix[:, low] * (1 - weight) + matrix[:, high] * weight
