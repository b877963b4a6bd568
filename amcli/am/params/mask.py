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


def blurred_magnitude(stft: torch.Tensor, sigma_frames: float) -> torch.Tensor:
    """A magnitude for each bin of ``stft`` [B, bins, frames]: the square root of its power
    blurred along time by a Gaussian of ``sigma_frames`` (renormalized at the clip's ends). The
    clip's spectrum with its timing smoothed away, the audio counterpart of Fong & Vedaldi's
    (2017) blur perturbation. Blurring power, not magnitude, keeps each bin's mean power: a
    blurred magnitude is 6 dB quieter than a speech clip, and quiet is a cue in itself.

    One matrix product per item, each of the same shape, so an item's baseline does not depend on
    its batch (a batched product may block its sums differently by size)."""
    power = stft.abs().pow(2)
    frames = power.shape[-1]
    position = torch.arange(frames, dtype=power.dtype, device=power.device)
    weights = torch.exp(-0.5 * ((position[:, None] - position[None, :]) / sigma_frames) ** 2)
    weights = weights / weights.sum(0, keepdim=True)  # column s: the weights of output frame s
    return torch.stack([item @ weights for item in power]).sqrt()


class Mask(Parameterization):
    """A mask multiplied with a clip: over time (scales the waveform's envelope) or over time and
    frequency (scales STFT magnitudes, resynthesized with the clip's phase).

    The mask is generated from low-resolution parameters (one per ``resolution_s`` seconds, and
    ``freq_bands`` bands for time-frequency masks), squashed to [0, max_gain] by a sigmoid,
    upsampled and smoothed, so it has no structure finer than its step (Fong et al. 2019).
    ``max_gain`` 1 keeps or removes; above 1 it may also emphasize. Penalties act on the mask's
    time profile.

    What the mask removes is replaced by a baseline b, masked = m * x + (1 - m) * b (Fong &
    Vedaldi 2017): ``silence`` (b = 0, so masked = m * x), or ``blur``, the clip's STFT power
    blurred along time by a Gaussian of ``blur_s`` seconds, with the clip's phase, at the clip's
    energy (:func:`blurred_magnitude`). Silence is
    itself a cue (of quiet, sad, distant speech): a model that hears a clip's level can be
    satisfied by what a silence-baseline mask removes rather than by what it keeps. The blurred
    clip keeps the clip's level and spectrum but not where in time they are. With ``blur``, a time
    mask acts on STFT frames too (its value per frame, over every frequency).
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
        baseline: str = "silence",
        blur_s: float = 0.5,
    ) -> None:
        super().__init__()
        if kind not in ("time", "tf"):
            raise ValueError("mask kind must be 'time' or 'tf'")
        if baseline not in ("silence", "blur"):
            raise ValueError("mask baseline must be 'silence' or 'blur'")
        if baseline == "blur" and not blur_s > 0:
            raise ValueError(f"mask blur_s must be > 0, not {blur_s}")
        if not 0 < init <= max_gain:
            raise ValueError(f"mask init {init} must be in (0, max_gain={max_gain}]")
        self.kind = kind
        self.baseline = baseline
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
        if kind == "tf" or baseline == "blur":
            self.register_buffer("window", torch.hann_window(self.features.n_fft))
            self.register_buffer("stft", self._stft(self.clips))
        if baseline == "blur":
            sigma = blur_s * self.features.sample_rate / hop
            blurred = blurred_magnitude(self.stft, sigma)
            phase = self.stft / self.stft.abs().clamp_min(1e-12)
            phase = torch.where(self.stft.abs() > 0, phase, torch.ones_like(phase))
            base = blurred * phase
            # overlap-add of frames that no longer agree loses some energy (about 1 dB on
            # speech): the baseline is scaled to the clip's energy, so it is not quieter
            wave = torch.istft(base, self.features.n_fft, hop, window=self.window,
                               length=self.clips.shape[-1])
            gain = (self.clips.pow(2).sum(-1) / wave.pow(2).sum(-1).clamp_min(1e-12)).sqrt()
            #: the baseline's STFT: the blurred spectrum with the clip's phase, at its energy
            self.register_buffer("base_stft", base * gain.view(-1, 1, 1))

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
        if self.baseline == "blur":
            return self._apply_blur(mask)
        if self.kind == "time":
            if mask.shape[-1] != self.clips.shape[-1]:
                mask = F.interpolate(mask.unsqueeze(1), size=self.clips.shape[-1],
                                     mode="linear", align_corners=True).squeeze(1)
            return mask * self.clips
        return torch.istft(self.stft * mask, self.features.n_fft, self.features.hop_length,
                           window=self.window, length=self.clips.shape[-1])

    def _apply_blur(self, mask: torch.Tensor) -> torch.Tensor:
        """m * X + (1 - m) * B on the STFT, resynthesized: B the blurred baseline; a time mask
        (per frame, or per sample taken back to frames) scales every frequency alike. Above 1
        (max_gain) the mask emphasizes the clip and takes none of the baseline."""
        if self.kind == "time":
            if mask.shape[-1] != self.n_frames:
                mask = F.interpolate(mask.unsqueeze(1), size=self.n_frames, mode="linear",
                                     align_corners=True).squeeze(1)
            mask = mask.unsqueeze(1)
        mixed = self.stft * mask + self.base_stft * (1.0 - mask.clamp(max=1.0))
        return torch.istft(mixed, self.features.n_fft, self.features.hop_length,
                           window=self.window, length=self.clips.shape[-1])

    def baseline_signal(self) -> torch.Tensor:
        """[B, T]: what a mask of zeros leaves, the baseline itself."""
        return self.apply(torch.zeros_like(self.frame_mask()))

    def signal(self) -> torch.Tensor:
        if self.baseline == "blur" or self.kind == "tf":
            return self.apply(self.frame_mask())
        return self.apply(self.sample_mask())

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

