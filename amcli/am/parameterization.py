"""What is optimized: a mask over a clip, the signal itself, or a generator's latent.

Every parameterization holds one batch of items (targets x restarts x clips) as leaf tensors
with the batch first, and renders them to the signal the classifier hears: a waveform [B, T]
(``domain == "wave"``) or a log-mel [B, n_mels, frames] fed to the classifier's ``body``
(``domain == "mel"``). Items never interact, and each item draws its random start from its own
seed (``seeds``, one per item; :mod:`amcli.am.random`), so a batched optimization equals per-item
ones whatever the batch.

Each parameterization says what the generic penalties (L1, L2, TV) act on (``regularized``), its
default learning rate (``default_lr``, the one the CLI uses too) and which modules it borrows
(``frozen_modules``: the loop freezes them for the run and hands them back unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from amcli.am.frozen import frozen
from amcli.am.random import per_item_normal
from amcli.features import FeatureParams

ACTIVE_THRESHOLD_DB = -50.0
#: an extremal mask holds its area constraint when its sorted-area loss is at most this: the
#: sorted mask is within about 0.2 (root mean square) of exactly ``area`` ones and the rest zeros
AREA_TOLERANCE = 0.05


def frame_energy_db(wave: torch.Tensor, hop: int, frame: int) -> torch.Tensor:
    """Per-frame RMS in dB of waveforms [B, T] (centred frames, ``T // hop + 1`` of them)."""
    padded = F.pad(wave, (frame // 2, frame // 2))
    frames = padded.unfold(-1, frame, hop)[..., : wave.shape[-1] // hop + 1, :]
    return 10.0 * torch.log10(frames.pow(2).mean(-1).clamp_min(1e-12))


def active_frames(wave: torch.Tensor, hop: int = 256, frame: int = 1024,
                  threshold_db: float = ACTIVE_THRESHOLD_DB) -> torch.Tensor:
    """Boolean [B, frames]: frames above ``threshold_db`` re each clip's loudest frame.

    Padding silence is free to remove, so mask areas are measured over active frames only
    (Fong et al. 2019)."""
    energy = frame_energy_db(wave, hop, frame)
    return energy > energy.amax(dim=-1, keepdim=True) + threshold_db


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


def item_seeds(seeds: Sequence[int] | None, batch: int) -> torch.Tensor:
    """The per-item seeds as an int64 tensor; without them, drawn from torch's global RNG (a
    library caller who wants batch-independent results passes ``seeds``)."""
    if seeds is None:
        return torch.randint(0, 2**32, (batch,), dtype=torch.long)
    values = torch.as_tensor(list(seeds), dtype=torch.long).view(-1)
    if values.numel() != batch:
        raise ValueError(f"{values.numel()} seeds for {batch} items")
    return values


class Parameterization(nn.Module):
    """Base: ``signal()`` renders the batch; ``domain`` says what the classifier is fed;
    ``seeds`` [B] are the items' own seeds (their starts and their transforms' draws)."""

    domain = "wave"
    #: Adam learning rate that works for this parameterization on the demo models
    default_lr: float = 0.05

    def signal(self) -> torch.Tensor:
        raise NotImplementedError

    def signal_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """The signals of the items at ``rows`` only (the loop asks for the items still running
        once some have stopped). This default renders every item and keeps those rows; a
        parameterization whose rendering is costly renders only them."""
        return self.signal()[rows]

    def regularized(self) -> torch.Tensor:
        """[B, ...]: what L1, L2 and TV penalize. Every parameterization says it explicitly."""
        raise NotImplementedError(f"{type(self).__name__} does not say what its penalties act "
                                  "on (define regularized())")

    def frozen_modules(self) -> list[nn.Module]:
        """Modules this parameterization evaluates but must not train (e.g. a generator)."""
        return []

    def constraint_met(self) -> torch.Tensor:
        """Per item: whether the parameterization's own constraint holds (e.g. mask area)."""
        return torch.ones(self.batch_size, dtype=torch.bool, device=self.device)

    @property
    def batch_size(self) -> int:
        return next(self.parameters()).shape[0]

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


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


class Latent(Parameterization):
    """The noise z of a generator: the signal is G(z, y) (DGN-AM, Nguyen et al. 2016).

    The generator is borrowed, not owned: it is not a submodule, only z is optimized, and while
    the loop runs it is frozen in eval mode (its BatchNorm uses fixed statistics, so items stay
    independent) and handed back as it was. z lives on the generator's device. For
    z ~ N(0, I_d) the norm concentrates near sqrt(d); ``max_norm`` (a multiple of sqrt(d), None
    for no constraint) rescales any z whose norm goes past it, which keeps it in the generator's
    typical set. ``labels`` are the condition of a conditional generator (what it is told to
    make). Penalties (the seed's lambda_1 ||z||_1 + lambda_2 ||z||^2) act on z.
    """

    default_lr = 0.05

    def __init__(
        self,
        generator: nn.Module,
        batch: int,
        labels: torch.Tensor | None = None,
        max_norm: float | None = 1.0,
        init_std: float = 1.0,
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if generator.conditional and labels is None:
            raise ValueError("a conditional generator needs labels (the condition per item)")
        object.__setattr__(self, "generator", generator)  # borrowed: not a submodule
        device = next(generator.parameters()).device
        self.register_buffer("seeds", item_seeds(seeds, batch))
        self.domain = "mel" if generator.representation == "mel" else "wave"
        self.latent_dim = int(generator.latent_dim)
        self.max_norm = None if max_norm is None else float(max_norm) * math.sqrt(self.latent_dim)
        self.init_std = float(init_std)
        start = init_std * per_item_normal(self.seeds.tolist(), (self.latent_dim,))
        self.z = nn.Parameter(start.to(device))
        self.register_buffer("labels", None if labels is None else
                             labels.long().view(-1).to(device))

    def frozen_modules(self) -> list[nn.Module]:
        return [self.generator]

    def regularized(self) -> torch.Tensor:
        return self.z

    @torch.no_grad()
    def pick_start(self, score, candidates: int, chunk: int = 256) -> None:
        """Start each item from the best of ``candidates`` draws of z, ranked by ``score``
        (signals [N, ...] and item indices [N] -> [N], e.g. the target logit of each): a cheap
        way past the flat regions of the prior where some starts stall (DGN-AM implementations
        do the same). Each item's candidates come from its own seed."""
        if candidates <= 1:
            return
        b, d = self.z.shape
        extra = per_item_normal([s ^ 0x2545F491 for s in self.seeds.tolist()],
                                (candidates - 1, d))
        draws = torch.cat([self.z.detach().unsqueeze(1),
                           self.init_std * extra.to(self.z.device)], 1)  # the plain start first
        scores = []
        flat = draws.reshape(b * candidates, d)
        labels = self.labels.repeat_interleave(candidates) if self.labels is not None else None
        with frozen(self.generator):
            for start in range(0, len(flat), chunk):
                z = self._clamped(flat[start:start + chunk])
                y = labels[start:start + chunk] if labels is not None else None
                item = torch.arange(start, start + len(z), device=z.device) // candidates
                scores.append(score(self.generator(z, y), item))
        best = torch.cat(scores).view(b, candidates).argmax(1)
        self.z.copy_(draws[torch.arange(b, device=draws.device), best])

    def _clamped(self, z: torch.Tensor) -> torch.Tensor:
        if self.max_norm is None:
            return z
        norm = z.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return z * (self.max_norm / norm).clamp(max=1.0)

    def latent(self) -> torch.Tensor:
        """z with the norm constraint applied (what the generator receives)."""
        return self._clamped(self.z)

    def signal(self) -> torch.Tensor:
        gen = self.generator
        if next(gen.parameters()).device != self.z.device:
            raise ValueError(f"the generator is on {next(gen.parameters()).device} but z on "
                             f"{self.z.device}: keep them on one device")
        return gen(self.latent(), self.labels if gen.conditional else None)
