"""Differentiable harmonic-plus-noise resynthesis of analysed clips, built in the STFT domain.

The model (a harmonic-plus-noise model, Stylianou 1996; McAulay & Quatieri's sinusoids with
DDSP's differentiable synthesis, Engel et al. 2020). A clip analysed by WORLD (F0, spectral
envelope D(f), aperiodicity ap(f); amcli.am.prosody.analysis) is fitted once (:func:`fit`):

- **harmonics**: in every voiced frame, the complex amplitude of each harmonic k * F0 is fitted
  to the clip's own STFT by least squares. It is stored as what the envelope does not predict: a
  gain per harmonic number over the source-filter amplitude sqrt(2 F0 D(k F0)) (the power the
  envelope holds between two harmonics), and a phase relative to k times the
  fundamental's running phase (the shape of the glottal pulse). Both stay attached to the
  harmonic number when the pitch moves, while the envelope stays attached to frequency: formants
  stay where they are and the voice keeps its pulse shape.
- **residual**: what the harmonics leave of the clip's STFT, kept as it is (Serra's
  deterministic-plus-stochastic split, with the stochastic part the recording's own rather than a
  new draw): the noise between words, fricatives, steps, clicks, rumble and the room's background.
  It is warped and scaled by the gain contour like the rest; a pitch edit leaves it where it is,
  which is right for noise and leaves the harmonic fit's errors (under 1% of a voiced frame's
  energy on the example clips and the held-out voices) at the old pitch.
- **aspiration**: breathier than the clip, a voiced frame hands the share of its harmonics'
  power that the edit takes from them to white noise shaped to WORLD's envelope D, at the
  harmonics' level (D times the frame's mean squared gain, which carries the recording's scale;
  WORLD's envelope is in its own units, 40 dB off on the example clips) (a clip's own
  aspiration is in its harmonic fit: at a 14 ms window the harmonics of most voices lie under
  two bins apart, so the fit explains a voiced frame's STFT almost entirely).

Both parts are written straight into the STFT amcli's features use (Hann window, centred
frames): a stationary sinusoid in a frame is the window's transform shifted to its frequency, so
a harmonic costs four bins per frame instead of one cosine per sample (the direct sum over 80
harmonics x 48,000 samples cost 7x a mask step); an inverse STFT gives the waveform. Unedited,
the resynthesis is the clip: its harmonic fit plus what the fit left. (Earlier versions drew the
noise afresh with the residual's energy in broad bands; models heard the new draw, by up to 0.21
of a class probability on noisy recordings.)

The controls edit the analysis, not the waveform (:class:`Edits`): a time warp of the frame grid
(tempo: interpolated, never indexed, so it has a gradient), log-F0 scaled around the clip's median
(range) and shifted (pitch), a gain contour (loudness), a spectral tilt with each frame's power
kept (brightness) and the aperiodic share (breathiness). The harmonics' phases accumulate in
float64 and carry no gradient: the pitch gradient flows through where each harmonic lands in the
spectrum and which envelope value it reads, both local, which avoids the noisy gradient of a
cumulative oscillator phase (Hayes et al. 2023). Harmonics fade out between 90% and 98% of the
Nyquist frequency, never cut hard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch

from amcli.am.prosody.analysis import Analysis

#: Harmonics fade out between these shares of the Nyquist frequency.
TAPER_START, TAPER_END = 0.96, 0.995
#: Bins written per sinusoid and frame: the Hann window's main lobe (|u| < 2 bins).
LOBE_BINS = 4
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


def window_kernel(u: torch.Tensor, n_fft: int) -> torch.Tensor:
    """The transform of the (centred, periodic) Hann window at ``u`` bins from a sinusoid's
    frequency: (L/2) sinc(u) / (1 - u^2), its main lobe spanning |u| < 2 (exact up to O(1/L))."""
    near_one = (1.0 - u * u).abs() < 1e-4
    denominator = torch.where(near_one, torch.ones_like(u), 1.0 - u * u)
    kernel = torch.where(near_one, torch.full_like(u, 0.5), torch.sinc(u) / denominator)
    return 0.5 * n_fft * kernel


def _frame_weights(position: torch.Tensor, n: int
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Linear interpolation at fractional frame positions [B, M] of tables with ``n`` frames:
    the flat rows (b * n + frame) of the frames below and above, the weight of the one above, and
    which positions lie inside the table."""
    low = position.detach().floor().clamp(0, n - 1)
    weight = (position - low).clamp(0.0, 1.0)
    offset = torch.arange(position.shape[0], device=position.device).view(-1, 1) * n
    low_i = low.long()
    high_i = (low_i + 1).clamp(max=n - 1)
    detached = position.detach()
    return low_i + offset, high_i + offset, weight, (detached >= 0) & (detached <= n - 1)


def _interp_frames(values: torch.Tensor, position: torch.Tensor,
                   rows: torch.Tensor | None = None) -> torch.Tensor:
    """values [B, N, ...] at fractional frame positions [B, M] (linear; frames outside the
    table are zero): [B, M, ...], or [R, ...] for the flat output rows ``rows`` (b * M + m) only.
    Rows are taken with index_select (far cheaper than a gather over an expanded index)."""
    b, n = values.shape[:2]
    low, high, weight, inside = _frame_weights(position, n)
    if rows is not None:
        low, high, weight, inside = (t.reshape(-1)[rows] for t in (low, high, weight, inside))
    flat = values.reshape(b * n, -1)
    shape = (*low.shape, *values.shape[2:])
    below = flat.index_select(0, low.reshape(-1)).view(shape)
    above = flat.index_select(0, high.reshape(-1)).view(shape)
    extra = (1,) * (values.dim() - 2)
    w = weight.view(*weight.shape, *extra)
    w = w.to(values.dtype) if values.is_complex() else w
    inside = inside.view(*inside.shape, *extra)
    return (below + (above - below) * w) * inside


def _interp_bins(values: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """values [..., K] at fractional bins [..., H] (linear, clamped to the last bin)."""
    k = values.shape[-1]
    low = bins.detach().floor().clamp(0, k - 1)
    weight = (bins - low).clamp(0.0, 1.0)
    low_i = low.long()
    high_i = (low_i + 1).clamp(max=k - 1)
    return values.gather(-1, low_i) * (1 - weight) + values.gather(-1, high_i) * weight


def _harmonics(values: torch.Tensor, count: int) -> torch.Tensor:
    """The first ``count`` harmonic numbers' columns of [B, M, H] (H >= count)."""
    return values[..., :count]


def warp_positions(rate: torch.Tensor, anchor: torch.Tensor | None = None) -> torch.Tensor:
    """Input frame position of each output frame [B, M]: the running sum of the rates, shifted
    so that output frame ``anchor`` [B] reads input frame ``anchor`` (default 0). Anchored at
    the speech's centre, slower speech spreads into the silence on both sides and faster speech
    draws in towards the middle, as a clip of another speaking rate would sit, centred, in the
    window a classifier was trained on."""
    position = torch.cat([torch.zeros_like(rate[:, :1]), rate[:, :-1].cumsum(1)], 1)
    if anchor is None:
        return position
    index = anchor.round().long().clamp(0, rate.shape[1] - 1).view(-1, 1)
    return position - position.gather(1, index) + index.to(position.dtype)


def running_phase(f0: torch.Tensor, hop: int, rate: int) -> torch.Tensor:
    """The fundamental's phase at each frame [B, M] (float64): 2 pi sum of F0 * hop / rate."""
    cycles = f0.detach().double() * (hop / rate)
    return 2.0 * math.pi * torch.cat([torch.zeros_like(cycles[:, :1]),
                                      cycles[:, :-1].cumsum(1)], 1)


def edited_frames(source: Source, edits: Edits) -> dict[str, torch.Tensor]:
    """The analysis after the edits, on the output frame grid (the harmonic tables are read at
    ``position`` where they are needed: :func:`harmonic_stft`)."""
    position = warp_positions(edits.rate, source.anchor)
    log_f0 = _interp_frames(source.log_f0.unsqueeze(-1), position)[..., 0]
    voicing = _interp_frames(source.voicing.unsqueeze(-1), position)[..., 0]
    density = _interp_frames(source.density, position)
    aperiodicity = _interp_frames(source.aperiodicity, position).clamp(1e-3, 1 - 1e-3)
    median = source.median_log_f0.unsqueeze(1)
    unedited = log_f0
    log_f0 = median + edits.range_scale.unsqueeze(1) * (log_f0 - median) \
        + edits.pitch_st * (math.log(2.0) / 12.0)
    freqs = torch.arange(density.shape[-1], device=density.device) * (
        source.sample_rate / source.n_fft)
    octaves = torch.log2(freqs.clamp_min(50.0) / TILT_REFERENCE_HZ)
    # the tilt is the voice source's: it shapes the harmonics (a pressed voice's flatter or a
    # lax voice's steeper source spectrum), keeping their power per frame; the aspiration
    # noise keeps its shape (tilting it up would make the voice hoarse, not bright)
    tilt = 10.0 ** (edits.tilt_db_per_octave.view(-1, 1, 1) * octaves / 10.0)
    periodic = density * (1.0 - aperiodicity)
    keep = periodic.sum(-1, keepdim=True) / (periodic * tilt).sum(-1, keepdim=True) \
        .clamp_min(1e-30)
    level = (10.0 ** (edits.gain_db / 10.0)).unsqueeze(-1)
    breathy = torch.sigmoid(torch.logit(aperiodicity) + 3.0 * edits.breathiness.view(-1, 1, 1))
    # the harmonics read the envelope, scaled where breathiness moved the aperiodic share; less
    # breathy scales the residual down with it, more breathy hands what the harmonics lose to
    # aspiration noise (voiced frames only: an unvoiced frame has no harmonics to take it from)
    scale = _interp_frames(source.envelope_scale.unsqueeze(-1), position)
    more = edits.breathiness.view(-1, 1, 1) > 0  # exactly none without the edit (not float dust)
    handed = density * scale * level * voicing.unsqueeze(-1) \
        * torch.where(more, breathy - aperiodicity, 0.0).clamp_min(0.0) / (1.0 - aperiodicity)
    residual_gain = (level * (breathy / aperiodicity).clamp(max=1.0)).sqrt()
    return {"log_f0": log_f0, "unedited_log_f0": unedited, "voicing": voicing,
            "position": position,
            "density": density * tilt * keep * level * (1.0 - breathy) / (1.0 - aperiodicity),
            "aperiodicity": aperiodicity,
            "residual": _interp_spectra(source.residual, position) * residual_gain,
            "aspiration_density": handed, "level": level}


def _interp_spectra(values: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
    """Complex STFT frames [B, N, K] at fractional positions [B, M]: the power interpolated
    linearly, the phase that of the linear mix (no gradient). Mixing two frames of noise as
    complex numbers would lose power between them (-1.8 dB halfway for 50%-overlapping Hann
    frames), a loudness cue that a tempo edit must not add."""
    power = _interp_frames(values.abs().pow(2), position)
    with torch.no_grad():
        mixed = _interp_frames(values, position)
        phase = torch.where(mixed.abs() > 0, mixed / mixed.abs().clamp_min(1e-30),
                            torch.ones_like(mixed))
    return phase * power.clamp_min(0.0).sqrt()


def source_filter_amplitude(f0: torch.Tensor, freq: torch.Tensor, density: torch.Tensor,
                            n_fft: int, rate: int) -> torch.Tensor:
    """sqrt(2 F0 D(freq)): the amplitude of a harmonic whose power is what the density
    D [..., K] holds between two harmonics (freq [..., H], F0 [...])."""
    power = _interp_bins(density, freq * (n_fft / rate))
    return torch.sqrt((2.0 * f0.unsqueeze(-1) * power).clamp_min(1e-30))


def _fade(freq: torch.Tensor, rate: int) -> torch.Tensor:
    nyquist = rate / 2.0
    fade = ((TAPER_END * nyquist - freq) / ((TAPER_END - TAPER_START) * nyquist)).clamp(0, 1)
    return 0.5 - 0.5 * torch.cos(math.pi * fade)


def harmonic_count(f0: torch.Tensor, voicing: torch.Tensor, rate: int) -> int:
    """Harmonic numbers (0, the DC, included) needed below the taper's end for the lowest
    voiced F0 of the batch."""
    voiced = voicing.detach() > 1e-4
    lowest = float(f0.detach()[voiced].min()) if voiced.any() else 1000.0
    return max(2, min(MAX_HARMONICS,
                      1 + math.ceil(TAPER_END * rate / 2.0 / max(lowest, 20.0))))


def lobe_weights(bins: torch.Tensor, n_bins: int, n_fft: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """For sinusoids at fractional ``bins`` [..., H]: the bins their main lobes cover
    [..., H, LOBE_BINS] and the lobe's value there, (-1)^b W(b - bin) / 2 (zero outside the
    spectrum). A sinusoid A cos(w n + theta) adds A e^{i theta} times this at +bins and
    A e^{-i theta} times it at -bins (its image, which reaches the spectrum near 0 Hz).

    With u = b - bin, W(u) = (L/2) sin(pi u) / (pi u (1 - u^2)) and (-1)^b sin(pi u) is the same
    for every bin of a lobe: -(-1)^floor(bin) sin(pi frac(bin)), one sine per sinusoid. The
    fractional part is kept off 0 and 1 by 1e-4 bin (a thousandth of a hertz), so u is never the
    removable singularity 0 or +-1."""
    target, weight, _ = _lobe(bins, n_bins, n_fft, slope=False)
    return target, weight


def _lobe(bins: torch.Tensor, n_bins: int, n_fft: int, slope: bool
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """:func:`lobe_weights` (autograd flows through the fractional part of ``bins`` [R, H]), and
    where ``slope`` is asked for, the weights' derivative in the frequency (in bins):
    d/dfrac [N(frac) / (u (1 - u^2))] with u = offset - frac, N = -(-1)^floor (L / 4 pi)
    sin(pi frac), zero where frac is clamped."""
    floor = bins.detach().floor()
    raw = bins - floor
    frac = raw.clamp(1e-4, 1.0 - 1e-4)
    scale = (2.0 * torch.remainder(floor, 2.0) - 1.0) * (0.25 * n_fft / math.pi)
    numerator = scale * torch.sin(math.pi * frac)
    offsets = torch.arange(LOBE_BINS, device=bins.device, dtype=bins.dtype) - (LOBE_BINS // 2 - 1)
    u = offsets - frac.unsqueeze(-1)  # [R, H, L]
    inverse = 1.0 / (u * (1.0 - u * u))
    target = floor.unsqueeze(-1) + offsets
    valid = ((target >= 0) & (target < n_bins)).to(bins.dtype)
    weight = numerator.unsqueeze(-1) * inverse * valid
    derivative = None
    if slope:
        free = ((raw.detach() > 1e-4) & (raw.detach() < 1.0 - 1e-4)).to(bins.dtype) \
            .unsqueeze(-1)
        derivative = ((scale * math.pi * torch.cos(math.pi * frac)).unsqueeze(-1) * inverse
                      + numerator.unsqueeze(-1) * (1.0 - 3.0 * u * u) * inverse * inverse) \
            * valid * free
    return target.clamp(0, n_bins - 1).long(), weight, derivative


class _LobeSum(torch.autograd.Function):
    """Sinusoids' main lobes (and images near 0 Hz) added into a real view [F, 2] of a flat STFT
    (F = B * M * K bins), with the gradients in the amplitude and the frequency written out:
    autograd through the dozen [R, H, 4] temporaries of the plain expression cost several times
    the forward pass. The phase (cos, sin) carries no gradient."""

    @staticmethod
    def forward(ctx, amplitude, bins, cos, sin, rows, n_bins, n_fft, total):
        bins = bins.detach()
        out = amplitude.new_zeros(total, 2)
        base = (rows * n_bins).view(-1, 1, 1)
        low = bins < LOBE_BINS
        near = int(low.any(0).nonzero().max()) + 1 if low.any() else 0
        slope = ctx.needs_input_grad[1]
        parts = []
        for sign, count in ((1.0, bins.shape[-1]), (-1.0, near)):
            if count == 0:
                continue
            target, weight, derivative = _lobe(sign * bins[:, :count], n_bins, n_fft, slope)
            a = amplitude.detach()[:, :count]
            values = torch.stack(((a * cos[:, :count]).unsqueeze(-1) * weight,
                                  (a * sin[:, :count] * sign).unsqueeze(-1) * weight), -1)
            index = (base + target).reshape(-1)
            out.index_add_(0, index, values.reshape(-1, 2))
            parts.append((sign, count, index, weight, derivative))
        ctx.parts = parts
        ctx.save_for_backward(amplitude, cos, sin)
        return out

    @staticmethod
    def backward(ctx, grad):
        amplitude, cos, sin = ctx.saved_tensors
        want_amplitude, want_bins = ctx.needs_input_grad[:2]
        d_amplitude = torch.zeros_like(amplitude) if want_amplitude else None
        d_bins = torch.zeros_like(amplitude) if want_bins else None
        for sign, count, index, weight, derivative in ctx.parts:
            g = grad.index_select(0, index).view(*weight.shape, 2)
            # d loss / d (A x weight) at each lobe bin: the phase-aligned part of the gradient
            aligned = g[..., 0] * cos[:, :count].unsqueeze(-1) \
                + g[..., 1] * (sign * sin[:, :count]).unsqueeze(-1)
            if want_amplitude:
                d_amplitude[:, :count] += (aligned * weight).sum(-1)
            if want_bins:
                d_bins[:, :count] += sign * amplitude.detach()[:, :count] \
                    * (aligned * derivative).sum(-1)
        return d_amplitude, d_bins, None, None, None, None, None, None


def lobes(amplitude: torch.Tensor, theta: torch.Tensor, bins: torch.Tensor, rows: torch.Tensor,
          shape: tuple[int, int, int], n_fft: int) -> torch.Tensor:
    """The STFT ``shape`` = (B, M, K) of real sinusoids with ``amplitude``, phase ``theta`` (at
    the frame's centre, no gradient) and fractional frequency ``bins`` [R, H], R frames given by
    their flat index ``rows`` (b * M + m): the main lobe at +bins and, for the few sinusoids close
    enough to 0 Hz, the image at -bins (without it the STFT of a low harmonic is not the STFT of
    any real signal, and edits that rotate phases would lose energy in the inverse STFT)."""
    b, m, n_bins = shape
    if rows.numel() == 0:
        return torch.zeros(shape, device=bins.device, dtype=torch.complex64)
    theta = theta.detach()
    flat = _LobeSum.apply(amplitude, bins, theta.cos(), theta.sin(), rows, n_bins, n_fft,
                          b * m * n_bins)
    return torch.view_as_complex(flat.view(b, m, n_bins, 2))


#: Voiced frames are synthesized in this many groups of similar F0, each with the harmonics its
#: lowest F0 needs (a frame at 200 Hz needs half the harmonics of one at 100 Hz).
F0_GROUPS = 3


def harmonic_amplitudes(f0: torch.Tensor, voicing: torch.Tensor, envelopes: torch.Tensor,
                        position: torch.Tensor, rows: torch.Tensor, source: Source
                        ) -> torch.Tensor:
    """[R, H]: the amplitude of each harmonic (0, the DC, first; as many as fit below the taper)
    of the output frames ``rows`` at fundamental ``f0`` [R]: the envelope's source-filter
    amplitude times the fitted gain of the harmonic number (read at the frames' warped
    ``position``), faded towards Nyquist."""
    rate = source.sample_rate
    count = min(source.harmonic_gain.shape[-1], harmonic_count(f0, voicing, rate))
    freq = f0.unsqueeze(-1) * torch.arange(count, device=f0.device, dtype=f0.dtype)
    gains = _interp_frames(source.harmonic_gain[..., :count], position, rows)
    return source_filter_amplitude(f0, freq, envelopes, source.n_fft, rate) \
        * gains * _fade(freq, rate) * voicing.unsqueeze(-1)


def harmonic_stft(frames: dict[str, torch.Tensor], source: Source) -> torch.Tensor:
    """The harmonic part's STFT [B, M, K] (complex), built on the voiced frames only."""
    rate, n_fft = source.sample_rate, source.n_fft
    log_f0, voicing, density = frames["log_f0"], frames["voicing"], frames["density"]
    b, m, n_bins = density.shape
    flat_voicing = voicing.reshape(-1)
    rows = (flat_voicing.detach() > 1e-4).nonzero().flatten()
    spectrum = torch.zeros(b, m, n_bins, device=density.device, dtype=torch.complex64)
    if rows.numel() == 0:
        return spectrum
    # phase: k times the fundamental's running phase (float64, reduced mod 2 pi before the
    # multiplication so float32 keeps it), plus the fitted phase relative to it
    fundamental = torch.remainder(running_phase(log_f0.exp(), source.hop, rate),
                                  2.0 * math.pi).float().reshape(-1)
    position = frames["position"]
    envelopes = density.reshape(b * m, n_bins)
    unedited = frames["unedited_log_f0"].reshape(-1)
    order = log_f0.detach().reshape(-1)[rows].argsort(descending=True)
    for group in order.chunk(F0_GROUPS):
        picked = rows[group]
        f0 = log_f0.reshape(-1)[picked].exp()  # [R]
        voiced = flat_voicing[picked]
        amplitude = harmonic_amplitudes(f0, voiced, envelopes[picked], position, picked, source)
        # a pitch edit keeps each frame's harmonic power: the gains stay with the harmonic
        # numbers, so without this a voice an octave down came out 5-7 dB louder
        before = harmonic_amplitudes(unedited[picked].exp(), voiced, envelopes[picked],
                                     position, picked, source).pow(2).sum(-1)
        amplitude = amplitude * (before / amplitude.pow(2).sum(-1).clamp_min(1e-30)) \
            .sqrt().unsqueeze(-1)
        count = amplitude.shape[-1]
        number = torch.arange(count, device=f0.device, dtype=f0.dtype)  # 0 (DC), 1, 2, ...
        freq = f0.unsqueeze(-1) * number  # [R, H]
        with torch.no_grad():
            phase = _interp_frames(source.harmonic_phase[..., :count], position, picked)
            theta = fundamental[picked].unsqueeze(-1) * number + torch.angle(phase)
        spectrum = spectrum + lobes(amplitude, theta, freq * (n_fft / rate), picked,
                                    (b, m, n_bins), n_fft)
    return spectrum


def noise_stft(frames: dict[str, torch.Tensor], source: Source,
               white: torch.Tensor) -> torch.Tensor:
    """The rest of the STFT [B, M, K]: the clip's residual as edited, plus the aspiration a
    breathier voice adds, drawn from the unit white noise ``white`` [B, M, K] (white noise of
    variance s^2 has the one-sided density 2 s^2 / rate)."""
    aspiration = white * torch.sqrt((frames["aspiration_density"] * (source.sample_rate / 2.0))
                                    .clamp_min(0.0))
    return frames["residual"] + aspiration


def synthesize(source: Source, edits: Edits, white: torch.Tensor, length: int) -> torch.Tensor:
    """Waveforms [B, length] of the edited clips (``white``: the items' fixed noise STFTs)."""
    frames = edited_frames(source, edits)
    spectrum = harmonic_stft(frames, source) + noise_stft(frames, source, white)
    window = torch.hann_window(source.n_fft, device=spectrum.device)
    return torch.istft(spectrum.transpose(1, 2), source.n_fft, source.hop, window=window,
                       length=length)


def white_noise_stft(seeds: list[int], length: int, n_fft: int, hop: int,
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """[B, M, K]: the STFT of unit white noise, each row from its item's seed."""
    from amcli.am.random import per_item_normal

    noise = per_item_normal([s ^ 0x6A09E667 for s in seeds], (length,)).to(device)
    window = torch.hann_window(n_fft, device=device)
    return torch.stft(noise, n_fft, hop, window=window, return_complex=True).transpose(1, 2)


def fit(analysis: Analysis, wave: torch.Tensor) -> Source:
    """Fit the harmonic-plus-residual model to one analysed clip (see the module's docstring);
    a one-clip :class:`Source`."""
    rate, n_fft, hop = analysis.sample_rate, analysis.n_fft, analysis.hop
    n = analysis.n_frames
    window = torch.hann_window(n_fft)
    spectrum = torch.stft(wave.float(), n_fft, hop, window=window,
                          return_complex=True).T[:n].to(torch.complex128)  # [N, K]
    log_f0, voicing, median = fill_log_f0(refine_f0(wave, analysis.f0, rate, n_fft, hop))
    f0 = log_f0.exp().double()
    number = torch.arange(MAX_HARMONICS, dtype=torch.float64)  # 0 (DC), 1, 2, ...
    freq = f0.unsqueeze(-1) * number  # [N, H]
    present = (freq < TAPER_END * rate / 2.0) & (voicing > 0).unsqueeze(-1)
    fitted, _ = _fit_harmonics(spectrum, freq * (n_fft / rate), present, n_fft)
    model = source_filter_amplitude(f0.unsqueeze(0), freq.unsqueeze(0),
                                    analysis.envelope.double().unsqueeze(0), n_fft, rate)[0]
    measured = fitted.abs() > 0
    ratio = torch.where(measured, fitted.abs() / model.clamp_min(1e-30), torch.zeros_like(model))
    gain = _harmonic_gains(ratio, measured)
    weight = model.pow(2) * measured * (number > 0)  # the envelope's power at each harmonic
    voiced_rows = weight.sum(-1) > 0
    scale = (gain.pow(2) * weight).sum(-1) / weight.sum(-1).clamp_min(1e-30)
    fallback = scale[voiced_rows].median() if voiced_rows.any() else torch.tensor(1.0)
    scale = torch.where(voiced_rows, scale, fallback.to(scale.dtype))
    phase_ref = running_phase(f0.unsqueeze(0), hop, rate)[0].unsqueeze(-1) * number
    relative = torch.where(measured, torch.polar(torch.ones_like(model),
                                                 fitted.angle() - phase_ref),
                           torch.ones_like(fitted))
    one = Source(log_f0.unsqueeze(0), voicing.unsqueeze(0), median.view(1),
                 analysis.envelope.unsqueeze(0), analysis.aperiodicity.unsqueeze(0),
                 gain.float().unsqueeze(0), relative.to(torch.complex64).unsqueeze(0),
                 torch.zeros(1, n, spectrum.shape[-1], dtype=torch.complex64),
                 scale.float().unsqueeze(0),
                 speech_centre(spectrum.abs().pow(2).sum(-1)).view(1), rate, hop, n_fft)
    # the residual is what the harmonics, as the synthesis renders them (capped gains and all),
    # leave of the clip: unedited, the two add up to the clip's own STFT
    harmonic = harmonic_stft(edited_frames(one, Edits.none(1, n)), one)[0]
    one.residual = (spectrum.to(torch.complex64) - harmonic).unsqueeze(0)
    return one


#: Frames within this many dB of the loudest count as speech for the warp's anchor.
ACTIVE_DB = 50.0


def speech_centre(energy: torch.Tensor) -> torch.Tensor:
    """The frame halfway between the first and the last frame whose ``energy`` [N] is within
    ACTIVE_DB of the loudest (the middle frame of a silent clip)."""
    active = (energy >= energy.max() * 10.0 ** (-ACTIVE_DB / 10.0)).nonzero().flatten()
    if energy.max() <= 0 or active.numel() == 0:
        return torch.tensor(float(len(energy) // 2))
    return (active[0] + active[-1]).float() / 2.0


def _harmonic_gains(ratio: torch.Tensor, measured: torch.Tensor) -> torch.Tensor:
    """The stored gain per frame and harmonic number: the fitted ratio, capped at GAIN_SPREAD
    times the frame's 90th percentile (a harmonic in a deep envelope valley would otherwise carry
    a huge gain to wherever pitch moves it); harmonic numbers beyond those fitted (which a lower
    pitch brings below Nyquist) continue the top ten fitted ones (their geometric mean)."""
    gain = torch.zeros_like(ratio)
    fallback = []
    for i in range(ratio.shape[0]):
        values = ratio[i][measured[i]]
        if values.numel() == 0:
            continue
        cap = float(torch.quantile(values, 0.9)) * GAIN_SPREAD
        count = values.numel()
        top = values[-min(10, count):].clamp_min(1e-12)
        fill = float(top.log().mean().exp())
        fallback.append(fill)
        gain[i] = fill
        gain[i][measured[i]] = values.clamp(max=cap)
    default = float(np.median(fallback)) if fallback else 1.0
    gain[~measured.any(-1)] = default  # unvoiced frames: used only if the warp blends them in
    return gain


#: Ridge weight of the harmonic fit, relative to the design's mean diagonal: harmonics closer
#: than the window's main lobe (low voices) make the plain least squares ill-conditioned.
RIDGE = 1e-3


#: F0 refinement: relative offsets tried around Harvest's F0.
REFINE_STEPS = torch.linspace(-0.03, 0.03, 97)
#: ... read on an STFT with a window this long (64 ms at 16 kHz: it resolves the harmonics of
#: low voices, which the synthesis window does not), zero-padded 4x for a finer grid.
REFINE_WINDOW_S = 0.064
REFINE_PADDING = 4
#: frames scored at once (about 60 MB of candidate tensors per block at 16 kHz)
REFINE_CHUNK = 512


def refine_f0(wave: torch.Tensor, f0: torch.Tensor, rate: int, n_fft: int,
              hop: int) -> torch.Tensor:
    """Harvest's F0 [N], refined per voiced frame to the value whose harmonics k * F0 carry the
    most energy around the frame (read on a long, zero-padded STFT). Harmonic k sits at k F0: an
    F0 off by
    1% puts the 40th harmonic half a bin from where it is, so a harmonic model needs F0 finer
    than a pitch tracker gives."""
    voiced = f0 > 0
    if not voiced.any():
        return f0
    length = int(REFINE_WINDOW_S * rate)
    padded = length * REFINE_PADDING
    window = torch.nn.functional.pad(torch.hann_window(length),
                                     ((padded - length) // 2, (padded - length + 1) // 2))
    power = torch.stft(wave.float(), padded, hop, window=window, center=True,
                       return_complex=True).abs().pow(2).T[: len(f0)]  # [N, K']
    best = torch.cat([_best_candidates(power[i:i + REFINE_CHUNK], f0[i:i + REFINE_CHUNK],
                                       rate, padded)
                      for i in range(0, len(f0), REFINE_CHUNK)])
    return torch.where(voiced, best, f0.double()).float()


def _best_candidates(power: torch.Tensor, f0: torch.Tensor, rate: int,
                     padded: int) -> torch.Tensor:
    """Per frame of ``power`` [n, K'] the candidate F0 around ``f0`` [n] whose harmonics carry
    the most energy. Its tensors are [n, candidates, harmonics]: the caller hands it frames in
    blocks of REFINE_CHUNK, so a long clip costs time, not memory."""
    number = torch.arange(1, MAX_HARMONICS, dtype=torch.float64)
    candidates = f0.double().unsqueeze(-1) * (1.0 + REFINE_STEPS.double())  # [N, C]
    freq = candidates.unsqueeze(-1) * number  # [N, C, H]
    # the same harmonics for every candidate (a lower F0 must not win by fitting more of them)
    inside = (f0.double().unsqueeze(-1) * number * (1.0 + REFINE_STEPS.abs().max())
              < TAPER_START * rate / 2.0).unsqueeze(1)
    position = (freq * (padded / rate)).clamp(max=power.shape[-1] - 1)
    low = position.floor().long()
    weight = (position - low).float()
    high = (low + 1).clamp(max=power.shape[-1] - 1)
    rows = power.unsqueeze(1).expand(-1, candidates.shape[1], -1)
    energy = rows.gather(-1, low) * (1 - weight) + rows.gather(-1, high) * weight
    score = (energy * inside).sum(-1)  # [N, C]
    return candidates.gather(1, score.argmax(-1, keepdim=True))[:, 0]


def _fit_harmonics(spectrum: torch.Tensor, centres: torch.Tensor, present: torch.Tensor,
                   n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[N, H] complex amplitudes of the real sinusoids ``present`` at fractional bins
    ``centres`` [N, H], fitted to ``spectrum`` [N, K] by ridge-regularized least squares, all
    frames at once, with the same lobes and images :func:`lobes` writes; and per frame the
    energy the fit leaves unexplained. With c = x + iy, a lobe P and its image Q add
    x (P + Q) to the real part and y (P - Q) to the imaginary part: two real problems."""
    n, k_bins = spectrum.shape
    fitted = torch.zeros(centres.shape, dtype=torch.complex128)
    error = spectrum.abs().pow(2).sum(-1).double()
    frames = torch.nonzero(present.any(-1)).flatten()
    if len(frames) == 0:
        return fitted, error
    count = int(present[frames].sum(-1).max())
    centre = centres[frames, :count].double()
    use = present[frames, :count]
    lobe = torch.zeros(len(frames), k_bins, count, dtype=torch.float64)
    image = torch.zeros_like(lobe)
    rows = torch.arange(len(frames)).view(-1, 1, 1)
    columns = torch.arange(count).view(1, -1, 1)
    for matrix, sign in ((lobe, 1.0), (image, -1.0)):
        target, weight = lobe_weights(sign * centre, k_bins, n_fft)
        weight = weight * use.unsqueeze(-1)
        matrix.index_put_((rows.expand_as(target), target, columns.expand_as(target)), weight,
                          accumulate=True)
    observed = spectrum[frames].to(torch.complex128)
    solutions, model = [], []
    for design, part in ((lobe + image, observed.real), (lobe - image, observed.imag)):
        gram = design.transpose(1, 2) @ design  # [F, H, H]
        scale = gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-12)
        ridge = RIDGE * scale.view(-1, 1, 1) * torch.eye(count, dtype=torch.float64) \
            + torch.diag_embed((~use).double())  # absent harmonics: identity, zero RHS
        solution = torch.linalg.solve(gram + ridge, design.transpose(1, 2) @ part.unsqueeze(-1))
        solutions.append(solution[..., 0])
        model.append((design @ solution)[..., 0])
    fitted[frames, :count] = torch.complex(solutions[0], solutions[1]) * use
    error[frames] = (observed.real - model[0]).pow(2).sum(-1) \
        + (observed.imag - model[1]).pow(2).sum(-1)
    return fitted, error
