"""Transfer: does an independent classifier (the judge) hear the target in the outputs?

The transfer rate is the share of items whose judge top-1 class is the target. It means
something only when the judge knows every class the classifier explains and hears audio at the
same rate; otherwise the judge is off for the run, with the reason recorded, rather than a rate
of 0.0 that would read like data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from amcli.am.frozen import frozen
from amcli.models.base import class_probabilities, is_multi_label


def judge_problem(model: nn.Module, judge: nn.Module) -> str | None:
    """Why ``judge`` cannot score ``model``'s outputs, or None when it can."""
    name = getattr(judge, "checkpoint", {}).get("name", "the judge")
    if judge.sample_rate != model.sample_rate:
        return (f"judge {name} runs at {judge.sample_rate} Hz and the classifier at "
                f"{model.sample_rate} Hz")
    missing = [c for c in model.classes if c not in judge.classes]
    if missing:
        return (f"the classifier's classes {', '.join(missing)} are not among judge {name}'s "
                f"({', '.join(judge.classes)})")
    return None


def judge_scores(judge: nn.Module, waves: torch.Tensor, targets: Sequence[str]) -> list[dict]:
    """The judge's probabilities on the outputs (waveforms [B, T]), top-1 class and the
    target's probability, per item."""
    device = next(judge.parameters()).device
    with torch.no_grad(), frozen(judge):
        probs = class_probabilities(judge(waves.to(device)).float(), is_multi_label(judge)).cpu()
    rows = []
    for i, target in enumerate(targets):
        row = {"judge_probs": {c: float(p) for c, p in zip(judge.classes, probs[i], strict=True)},
               "judge_top1": judge.classes[int(probs[i].argmax())]}
        row["judge_prob"] = row["judge_probs"].get(target)
        rows.append(row)
    return rows


def transfer_rate(judge_top1: Sequence[str], targets: Sequence[str]) -> float:
    """Share of items whose judge top-1 class is the target."""
    pairs = list(zip(judge_top1, targets, strict=True))
    return float(np.mean([a == b for a, b in pairs])) if pairs else float("nan")
