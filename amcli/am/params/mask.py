"""A mask over a clip (time, or time-frequency): what it keeps of the clip is the answer, with
the extremal area constraint (Fong et al. 2019) it may own."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from amcli.activity import active_frames
from amcli.am.params.base import Parameterization, item_seeds
from amcli.am.random import per_item_normal
from amcli.features import FeatureParams

#: an extremal mask holds its area constraint when its sorted-area loss is at most this: the
#: sorted mask is within about 0.2 (root mean square) of exactly ``area`` ones and the rest zeros
AREA_TOLERANCE = 0.05


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


def smooth_1d(x: torch.Tensor, width: int) -> torch.Tensor:
    """Hann-window smoothing along the last axis, edge-replicated; width <= 1 is identity.

    A weighted sum over sliding windows rather than a 1-channel convolution: oneDNN picks its
    convolution algorithm by batch size, which would make a mask depend on its batch."""
    if width <= 1:
        return x
    kernel = torch.hann_window(width + 2, periodic=False, dtype=x.dtype, device=x.device)[1:-1]
    kernel = kernel / kernel.sum()
    shape = x.shape
    flat = x.reshape(-1, 1, shape[-1])
    flat = F.pad(flat, (width // 2, width - 1 - width // 2), mode="replicate")
    return (flat.unfold(-1, width, 1) * kernel).sum(-1).reshape(shape)


class Mask(Parameterization):
    """A mask multiplied with a clip: over time (scales the waveform's envelope) or over time and
    frequency (scales STFT magnitudes, resynthesized with the clip's phase).

    The mask is generated from low-resolution parameters (one per ``resolution_s`` seconds, and
    ``freq_bands`` bands for time-frequency masks), squashed to [0, max_gain] by a sigmoid,
    upsampled and smoothed, so it has no structure finer than its step (Fong et al. 2019).
    ``max_gain`` 1 keeps or removes; above 1 it may also emphasize. The baseline of the
    perturbation is silence: masked = m * x. Penalties act on the mask's time profile.
    """

    #: mask logits move freely
    default_lr = 0.1

    def __init__(
        self,
        clips: torch.Tensor,
        kind: str = "time",
        max_gain: float = 1.0,
        init: float = 0.5,
        resolution_s: float = 0.05,
        smooth: int = 2,
        freq_bands: int = 16,
        sample_rate: int = 16000,
        features: FeatureParams | None = None,
        init_noise: float = 0.0,
        area_target: float | None = None,
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if kind not in ("time", "tf"):
            raise ValueError("mask kind must be 'time' or 'tf'")
        if not 0 < init <= max_gain:
            raise ValueError(f"mask init {init} must be in (0, max_gain={max_gain}]")
        self.kind = kind
        self.max_gain = float(max_gain)
        self.smooth = int(smooth)
        self.features = features or FeatureParams(sample_rate=sample_rate)
        self.register_buffer("clips", clips.detach().float())
        self.register_buffer("seeds", item_seeds(seeds, clips.shape[0]))
        hop = self.features.hop_length
        self.n_frames = clips.shape[-1] // hop + 1
        self.register_buffer("active", active_frames(self.clips, hop, self.features.n_fft))
        knots = max(2, math.ceil(clips.shape[-1] / sample_rate / resolution_s) + 1)
        start = math.log(init / max_gain) - math.log1p(-min(init / max_gain, 1 - 1e-4))
        shape = (clips.shape[0], knots) if kind == "time" else (clips.shape[0], freq_bands, knots)
        start = torch.full(shape, float(start))
        if init_noise:  # restarts differ from the first step on
            start = start + init_noise * per_item_normal(self.seeds.tolist(), shape[1:])
        self.logits = nn.Parameter(start)
        #: the share of active frames to keep, when an area constraint is used
        self.area_target = area_target
        if kind == "tf":
            self.register_buffer("window", torch.hann_window(self.features.n_fft))
            self.register_buffer("stft", self._stft(self.clips))

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.stft(wave, self.features.n_fft, self.features.hop_length,
                          window=self.window, return_complex=True)

    def constraint_met(self, tolerance: float = AREA_TOLERANCE) -> torch.Tensor:
        """The extremal constraint: the mask keeps ``area_target`` of the active frames *as a
        selection* (sorted-area loss at most ``tolerance``). A mean kept value alone would not
        do: a uniform half-gain mask has the mean of a half-area mask and selects nothing."""
        if self.area_target is None:
            return super().constraint_met()
        return self.area_error().detach() <= tolerance

    def area_error(self) -> torch.Tensor:
        """[B]: the sorted-area loss of each mask against its area target (0 for masks without
        one): how far the mask is from keeping exactly that share of active frames."""
        if self.area_target is None:
            return torch.zeros(self.batch_size, device=self.device)
        return sorted_area_loss(self.keep_values(), self.active, self.area_target)

    def frame_mask(self) -> torch.Tensor:
        """The mask at frame resolution: [B, frames] (time) or [B, n_stft, frames] (tf)."""
        low = self.max_gain * torch.sigmoid(self.logits)
        if self.kind == "time":
            up = F.interpolate(low.unsqueeze(1), size=self.n_frames, mode="linear",
                               align_corners=True).squeeze(1)
            return smooth_1d(up, self.smooth * max(1, self.n_frames // low.shape[-1]))
        up = F.interpolate(low.unsqueeze(1), size=(self.features.n_stft, self.n_frames),
                           mode="bilinear", align_corners=True).squeeze(1)
        return smooth_1d(up, self.smooth * max(1, self.n_frames // low.shape[-1]))

    def sample_mask(self) -> torch.Tensor:
        """Time mask at sample resolution [B, T]."""
        frames = self.frame_mask()
        return F.interpolate(frames.unsqueeze(1), size=self.clips.shape[-1], mode="linear",
                             align_corners=True).squeeze(1)

    def apply(self, mask: torch.Tensor) -> torch.Tensor:
        """The clips under a given mask (frame-resolution for tf, frames or samples for time)."""
        if self.kind == "time":
            if mask.shape[-1] != self.clips.shape[-1]:
                mask = F.interpolate(mask.unsqueeze(1), size=self.clips.shape[-1],
                                     mode="linear", align_corners=True).squeeze(1)
            return mask * self.clips
        return torch.istft(self.stft * mask, self.features.n_fft, self.features.hop_length,
                           window=self.window, length=self.clips.shape[-1])

    def signal(self) -> torch.Tensor:
        return self.apply(self.sample_mask() if self.kind == "time" else self.frame_mask())

    def regularized(self) -> torch.Tensor:
        return self.time_profile()

    def time_profile(self) -> torch.Tensor:
        """[B, frames]: the time mask, or the tf mask averaged over frequency."""
        mask = self.frame_mask()
        return mask if self.kind == "time" else mask.mean(dim=1)

    def keep_values(self) -> torch.Tensor:
        """[B, frames] mask values, clamped to [0, 1] ("kept"), for area statistics."""
        return self.time_profile().clamp(0.0, 1.0)

    def area(self) -> torch.Tensor:
        """Share of active frames kept: mean of the (clamped) mask over active frames."""
        keep, active = self.keep_values(), self.active
        return (keep * active).sum(-1) / active.sum(-1).clamp_min(1)

    def binarized(self, area: torch.Tensor) -> torch.Tensor:
        """The mask with its top ``area`` share of active frames set to 1, the rest 0."""
        keep = self.time_profile().detach()
        scores = torch.where(self.active, keep, torch.full_like(keep, -1.0))
        n_keep = (area * self.active.sum(-1)).round().long().clamp_min(1)
        order = scores.argsort(dim=-1, descending=True)
        ranks = order.argsort(dim=-1)
        binary = (ranks < n_keep.unsqueeze(-1)) & self.active
        binary = binary.float()
        if self.kind == "tf":
            binary = binary.unsqueeze(1).expand(-1, self.features.n_stft, -1)
        return binary

