"""Fitting the harmonic-plus-residual model to one analysed clip (:func:`fit`): the F0 refined
against the clip's own spectrum, each harmonic's complex amplitude by least squares, stored as a
gain over the source-filter amplitude and a phase relative to the running phase, and the residual
the harmonics leave (see :mod:`amcli.am.prosody.synthesis` for the model).
"""

from __future__ import annotations

import numpy as np
import torch

from amcli.am.prosody.analysis import Analysis, analyse
from amcli.am.prosody.lobes import lobe_weights
from amcli.am.prosody.source import (
    GAIN_SPREAD,
    MAX_HARMONICS,
    TAPER_END,
    TAPER_START,
    Edits,
    Source,
    fill_log_f0,
)
from amcli.am.prosody.synthesis import (
    edited_frames,
    harmonic_stft,
    running_phase,
    source_filter_amplitude,
    synthesis_grid,
)


def fit_clip(wave: torch.Tensor, sample_rate: int) -> Source:
    """One mono clip [T], analysed and fitted on the resynthesis grid
    (:func:`~amcli.am.prosody.synthesis.synthesis_grid`): a one-clip :class:`Source` on the
    CPU, as method=prosody fits each clip."""
    n_fft, hop = synthesis_grid(sample_rate)
    wave = wave.detach().cpu()
    return fit(analyse(wave, sample_rate, hop=hop, n_fft=n_fft), wave)


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

