"""Model-randomization sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

Cascading randomization from the top: re-initialize the classifier's output layer ("top"), then
every layer ("all"), rerun the same activation maximization with the same seed, and compare each
explanation with the trained model's. An explanation that barely changes when the weights are
random explains the input, not the model.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

LEVELS = ("top", "all")


def randomized_copy(model: nn.Module, level: str, seed: int = 0) -> nn.Module:
    """A copy of ``model`` with its top layer ("top": the body's head and embedding) or all its
    layers ("all") re-initialized; buffers such as BatchNorm statistics are reset with them."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    torch.manual_seed(seed)
    clone = copy.deepcopy(model)
    body = getattr(clone, "body", clone)
    if level == "top":
        modules = [m for name in ("head", "embedding") if (m := getattr(body, name, None))]
    else:
        modules = [body]
    for root in modules:
        for module in root.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if hasattr(module, "reset_running_stats"):
                module.reset_running_stats()
    return clone.eval()


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation of two profiles; None if either is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)
