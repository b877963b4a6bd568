"""What a mask is, and controls that say whether it explains anything.

For every mask: its statistics over the clip's active frames; the **binarized** mask (the top
``area`` share of active frames kept as they are, the rest replaced by the baseline: does the
selection carry the class, or only a sculpted gain?); a **uniform gain** with the masked clip's
energy (is it only the level?), or, with a blurred baseline, the clip mixed with it uniformly at
the mask's area; the mask **shifted** by 0.25 s against the clip (does it work only at its exact
alignment?); the **baseline alone**, nothing kept (when it reaches the target too, what the mask
removes was not the evidence: silence for a quiet class, or a blurred clip that still carries a
spectral cue); and the inputs of L-MAC's faithfulness (amcli.metrics.faithfulness): the clip's own
probability and the masked-out clip's, (1 - m) x + m b (b the baseline).
"""

from __future__ import annotations

import torch
from torch import nn

from amcli.am.frozen import frozen
from amcli.models.base import class_probabilities, is_multi_label

#: how far the shifted-mask control moves the mask against the clip
MASK_SHIFT_S = 0.25


def mask_controls(model: nn.Module, mask, targets: torch.Tensor,
                  area_target: float | None) -> list[dict]:
    """One record per item of ``mask`` (an :class:`amcli.am.Mask`); ``area_target`` is the
    extremal area (None: the binarized control keeps each mask's own area)."""
    with torch.no_grad(), frozen(model):
        return _controls(model, mask, targets, area_target)


def _controls(model: nn.Module, mask, targets: torch.Tensor,
              area_target: float | None) -> list[dict]:
    area = mask.area()
    area_error, held = mask.area_error(), mask.constraint_met()
    keep = mask.time_profile()
    tv = (keep[:, 1:] - keep[:, :-1]).abs().mean(-1)
    active = mask.active
    binary = mask.binarized(torch.full_like(area, area_target) if area_target else area)
    masked = mask.signal()
    if mask.baseline == "silence":
        energy_ratio = masked.pow(2).sum(-1) / mask.clips.pow(2).sum(-1).clamp_min(1e-12)
        uniform = mask.clips * energy_ratio.sqrt().unsqueeze(-1)
    else:  # the same mix of clip and baseline everywhere: its area, spread evenly
        uniform = mask.apply(area.view(-1, *[1] * (mask.frame_mask().dim() - 1))
                             .expand_as(mask.frame_mask()).contiguous())
    targets = targets.to(mask.clips.device)
    multi_label = is_multi_label(model)

    def prob(signal: torch.Tensor) -> torch.Tensor:
        return class_probabilities(model(signal).float(), multi_label).gather(
            1, targets.view(-1, 1))[:, 0]

    p_binary, p_uniform = prob(mask.apply(binary)), prob(uniform)
    frames = mask.frame_mask()
    shift = int(round(MASK_SHIFT_S * mask.features.sample_rate / mask.features.hop_length))
    p_out = prob(mask.apply(1.0 - frames.clamp(0.0, 1.0)))
    p_shift = prob(mask.apply(frames.roll(shift, dims=-1)))
    p_empty = prob(mask.apply(torch.zeros_like(frames)))
    original = class_probabilities(model(mask.clips).float(), multi_label)
    p_orig = original.gather(1, targets.view(-1, 1))[:, 0]
    same_top1 = model(masked).argmax(-1) == original.argmax(-1)
    rows = []
    for i in range(len(targets)):
        act = active[i]
        rows.append({
            "mean": float(keep[i].mean()),
            "area": float(area[i]),
            "tv": float(tv[i]),
            "mean_active": float(keep[i][act].mean()) if act.any() else None,
            "mean_silent": float(keep[i][~act].mean()) if (~act).any() else None,
            "binarized_prob": float(p_binary[i]),
            "uniform_gain_prob": float(p_uniform[i]),
            "shifted_prob": float(p_shift[i]),
            "original_prob": float(p_orig[i]),
            "masked_out_prob": float(p_out[i]),
            "empty_prob": float(p_empty[i]),
            "same_top1": bool(same_top1[i]),
            "baseline": mask.baseline,
            "area_target": area_target,
            "area_error": float(area_error[i]),
            "area_held": bool(held[i]),
        })
    return rows
