"""What the resynthesis works on: a fitted clip (:class:`Source`) and an edit of it
(:class:`Edits`), with the constants of the harmonic model they share. The model itself is
described in :mod:`amcli.am.prosody.synthesis`; :func:`amcli.am.prosody.fit.fit` makes a Source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch

#: Harmonics fade out between these shares of the Nyquist frequency.
TAPER_START, TAPER_END = 0.96, 0.995


#: Harmonic numbers stored per frame, from 0 (the frame's DC, which speech recordings carry and
#: which stays at 0 Hz when the pitch moves) up to what a pitch an octave below 55 Hz needs.
MAX_HARMONICS = 301


#: A harmonic's fitted gain stays below this factor times its frame's 90th percentile.
GAIN_SPREAD = 30.0


#: Reference frequency of the spectral tilt (its gain there is 0 dB before renormalization).
TILT_REFERENCE_HZ = 1000.0


@dataclass
class Source:
    """Fitted clips as tensors on one device: B clips, N frames, K bins, H harmonic numbers."""

    log_f0: torch.Tensor  # [B, N] log Hz, unvoiced frames filled from voiced neighbours
    voicing: torch.Tensor  # [B, N] 1 voiced, 0 unvoiced
    median_log_f0: torch.Tensor  # [B]
    density: torch.Tensor  # [B, N, K] WORLD's spectral envelope (a power density)
    aperiodicity: torch.Tensor  # [B, N, K]
    harmonic_gain: torch.Tensor  # [B, N, H] fitted amplitude / source-filter amplitude
    harmonic_phase: torch.Tensor  # [B, N, H] complex unit: phase relative to k x fundamental
    residual: torch.Tensor  # [B, N, K] complex: the clip's STFT less its harmonic fit
    envelope_scale: torch.Tensor  # [B, N] harmonic power per unit of the density (gain^2)
    anchor: torch.Tensor  # [B] the frame the tempo warp holds in place: the speech's centre
    sample_rate: int
    hop: int
    n_fft: int

    @property
    def n_frames(self) -> int:
        return self.log_f0.shape[1]

    def to(self, device: torch.device | str) -> Source:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return Source(**{k: v.to(device) if isinstance(v, torch.Tensor) else v
                         for k, v in moved.items()})

    @staticmethod
    def stack(clips: list[Source]) -> Source:
        """One batch from single-clip sources of the same frame count."""
        first = clips[0]
        tensors = {f.name: torch.cat([getattr(c, f.name) for c in clips])
                   for f in fields(Source) if isinstance(getattr(first, f.name), torch.Tensor)}
        return Source(**tensors, sample_rate=first.sample_rate, hop=first.hop,
                      n_fft=first.n_fft)

    def padded(self, frames: int) -> Source:
        """This source extended with silent frames up to ``frames`` (an output may run past
        its input: a slower tempo spreads the speech into them); itself when it is that long."""
        n = self.n_frames
        if frames <= n:
            return self
        extra = frames - n
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor) and value.dim() >= 2:
                last = value[:, -1:].expand(-1, extra, *value.shape[2:])
                if f.name in ("density", "residual", "voicing"):
                    last = torch.zeros_like(last)
                value = torch.cat([value, last], 1)
            values[f.name] = value
        return Source(**values)

    def select(self, rows: torch.Tensor) -> Source:
        """The clips at ``rows`` (an index per item): one row per item of a batch."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return Source(**{k: v.index_select(0, rows.to(v.device))
                         if isinstance(v, torch.Tensor) else v for k, v in values.items()})


@dataclass
class Edits:
    """Controls per item, on the output's frame grid (M frames); zeros and ones edit nothing."""

    pitch_st: torch.Tensor  # [B, M] semitones added to F0
    range_scale: torch.Tensor  # [B] log-F0 scaled around the clip's median
    gain_db: torch.Tensor  # [B, M]
    rate: torch.Tensor  # [B, M] input frames advanced per output frame (1: unchanged)
    tilt_db_per_octave: torch.Tensor  # [B]
    breathiness: torch.Tensor  # [B] in [-1, 1]: shift of the aperiodic share

    @staticmethod
    def none(batch: int, frames: int, device: torch.device | str = "cpu") -> Edits:
        zeros = torch.zeros(batch, frames, device=device)
        scalar = torch.zeros(batch, device=device)
        return Edits(zeros, scalar + 1.0, zeros.clone(), zeros + 1.0, scalar.clone(),
                     scalar.clone())


def fill_log_f0(f0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(log F0 with unvoiced frames interpolated from voiced neighbours, voicing 0/1, median
    log F0 of the voiced frames) of one clip's F0 [N]; a clip without voiced frames gets a flat
    100 Hz that no harmonic uses."""
    voiced = f0 > 0
    if voiced.sum() == 0:
        flat = torch.full(f0.shape, math.log(100.0))
        return flat, voiced.float(), torch.tensor(math.log(100.0))
    frames = np.arange(len(f0), dtype=np.float64)
    known = np.log(f0[voiced].double().numpy())
    filled = np.interp(frames, frames[voiced.numpy()], known)
    return torch.from_numpy(filled).float(), voiced.float(), torch.tensor(float(np.median(known)))

