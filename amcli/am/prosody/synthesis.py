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

import torch

from amcli.am.prosody.lobes import lobes
from amcli.am.prosody.source import (
    MAX_HARMONICS,
    TAPER_END,
    TAPER_START,
    TILT_REFERENCE_HZ,
    Edits,
    Source,
)


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


def _root(x: torch.Tensor) -> torch.Tensor:
    """sqrt(x) where x > 0, else 0, with a zero gradient where the root is 0. torch.sqrt's
    gradient at 0 is infinite, and infinity times the zero gradient that flows back there is
    NaN: silent frames and frames without aspiration would give every control a NaN gradient
    (torch 2.11 lets it reach the parameters, so each item stopped as non-finite at step 1)."""
    positive = x > 0
    return torch.where(positive, torch.where(positive, x, 1.0).sqrt(), 0.0)


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
    return phase * _root(power)


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
    aspiration = white * _root(frames["aspiration_density"] * (source.sample_rate / 2.0))
    return frames["residual"] + aspiration


def synthesize(source: Source, edits: Edits, white: torch.Tensor, length: int) -> torch.Tensor:
    """Waveforms [B, length] of the edited clips (``white``: the items' fixed noise STFTs)."""
    frames = edited_frames(source, edits)
    spectrum = harmonic_stft(frames, source) + noise_stft(frames, source, white)
    window = torch.hann_window(source.n_fft, device=spectrum.device)
    return torch.istft(spectrum.transpose(1, 2), source.n_fft, source.hop, window=window,
                       length=length)


def synthesis_grid(rate: int) -> tuple[int, int]:
    """(n_fft, hop) of the resynthesis: a 14 ms window (224 samples at 16 kHz), 2x overlap.
    Measured on the example clips when the noise part was drawn afresh (the residual, kept
    since, makes the unedited resynthesis exact at any grid): 16 ms smeared onsets (the
    unedited resynthesis moved one classifier's probability by 0.054), 12 ms no longer separates
    a low voice's harmonics (-2 semitones came out as -1.7); 14 ms did both (0.033; -2.00). A
    harmonic costs four bins per frame, so the frame rate sets the cost of a step: 2x overlap
    halves it against 4x and was as faithful (0.037 at 2x, 0.034 at 4x)."""
    n_fft = 8 * round(0.014 * rate / 8)
    return n_fft, n_fft // 2


def white_noise_stft(seeds: list[int], length: int, n_fft: int, hop: int,
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """[B, M, K]: the STFT of unit white noise, each row from its item's seed."""
    from amcli.am.random import per_item_normal

    noise = per_item_normal([s ^ 0x6A09E667 for s in seeds], (length,)).to(device)
    window = torch.hann_window(n_fft, device=device)
    return torch.stft(noise, n_fft, hop, window=window, return_complex=True).transpose(1, 2)

