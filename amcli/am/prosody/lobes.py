"""Sinusoids written straight into an STFT: each one's main lobe, four bins of the Hann window's
transform per frame, with a hand-written autograd kernel for the amplitude and frequency
gradients (autograd through the plain expression's temporaries cost several times the forward
pass). The synthesis renders every harmonic through :func:`lobes`.
"""

from __future__ import annotations

import math

import torch

#: Bins written per sinusoid and frame: the Hann window's main lobe (|u| < 2 bins).
LOBE_BINS = 4


def window_kernel(u: torch.Tensor, n_fft: int) -> torch.Tensor:
    """The transform of the (centred, periodic) Hann window at ``u`` bins from a sinusoid's
    frequency: (L/2) sinc(u) / (1 - u^2), its main lobe spanning |u| < 2 (exact up to O(1/L))."""
    near_one = (1.0 - u * u).abs() < 1e-4
    denominator = torch.where(near_one, torch.ones_like(u), 1.0 - u * u)
    kernel = torch.where(near_one, torch.full_like(u, 0.5), torch.sinc(u) / denominator)
    return 0.5 * n_fft * kernel


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

