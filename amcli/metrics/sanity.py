"""Model-randomization sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

Cascading randomization from the top: re-initialize the classifier's top layer ("top"), then
every layer ("all"), rerun the same activation maximization (same items, same seeds) and compare
each explanation with the trained model's: the rank correlation of masks (or of whatever profile
a method gives) and the cue shifts of the outputs. An explanation that barely changes when the
weights are random explains the input, not the model.

The layers are found for any ``nn.Module``: amcli's own classifiers name their top (``head`` and
``embedding``); otherwise the top is the last parameterized layer the forward pass runs (found
with forward hooks on a probe input), and "all" is every layer that owns parameters. Layers with
``reset_parameters`` use it; other parameters are redrawn from a normal distribution of their own
spread. A copy whose weights or outputs did not change is refused, never reported as a result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from amcli.am.random import item_seed
from amcli.errors import UserError
from amcli.metrics.cues import cue_shift

LEVELS = ("top", "all")
AMCLI_TOP = ("head", "embedding")


@dataclass
class Randomized:
    """A randomized copy and what was done to it."""

    model: nn.Module
    level: str
    layers: list[str]  # names (within the model) of the re-initialized layers
    changed: int  # parameter tensors whose values changed
    total: int  # parameter tensors of the model


def _owners(root: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    return [(f"{prefix}{name}", m) for name, m in root.named_modules()
            if next(m.parameters(recurse=False), None) is not None]


def _forward_order(model: nn.Module, owners: list[tuple[str, nn.Module]],
                   probe: torch.Tensor | None) -> list[tuple[str, nn.Module]]:
    """``owners`` in the order the forward pass first runs them (registration order without a
    probe; layers the probe never reaches come first)."""
    if probe is None:
        return owners
    order: dict[int, int] = {}

    def seen(module: nn.Module, *_) -> None:  # a hook that returns nothing keeps the output
        order.setdefault(id(module), len(order))

    handles = [m.register_forward_hook(seen) for _, m in owners]
    try:
        with torch.no_grad():
            model(probe)
    finally:
        for handle in handles:
            handle.remove()
    return sorted(owners, key=lambda o: order.get(id(o[1]), -1))


def _reinitialize(module: nn.Module) -> None:
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()
        if hasattr(module, "reset_running_stats"):
            module.reset_running_stats()
        return
    with torch.no_grad():
        for param in module.parameters(recurse=False):
            spread = float(param.std()) if param.numel() > 1 else 0.0
            param.normal_(0.0, spread if spread > 0 else 0.02)


def randomized_copy(model: nn.Module, level: str, seed: int = 0,
                    probe: torch.Tensor | None = None) -> Randomized:
    """A copy of ``model`` with its top layer ("top") or every layer ("all") re-initialized.
    ``probe`` (a batch the model accepts) finds the top layer of models amcli does not know and
    checks that the outputs changed. Raises UserError when nothing changed."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    clone = copy.deepcopy(model)
    body = getattr(clone, "body", clone)
    prefix = "body." if body is not clone else ""
    owners = _owners(body, prefix)
    if not owners:
        raise UserError("sanity=true: the classifier has no parameters to randomize")
    if level == "top":
        named = dict(body.named_children())
        chosen = [(f"{prefix}{top}.{n}" if n else f"{prefix}{top}", m)
                  for top in AMCLI_TOP if top in named for n, m in _owners(named[top])]
        if not chosen:
            chosen = _forward_order(clone, owners, probe)[-1:]
    else:
        chosen = owners
    total = sum(1 for _ in clone.parameters())
    before = [(p, p.detach().clone()) for _, m in chosen for p in m.parameters(recurse=False)]
    with torch.random.fork_rng(devices=[]):
        # a seed of its own: seed 0 here would redraw the very weights of a model that was
        # initialized under torch.manual_seed(0) and never trained
        torch.manual_seed(item_seed(seed, "sanity", level))
        for _, module in chosen:
            _reinitialize(module)
    changed = sum(1 for p, old in before if not torch.equal(p.detach(), old))
    names = [name for name, _ in chosen]
    if changed == 0:
        raise UserError(f"sanity=true: re-initializing {', '.join(names)} changed no weight; "
                        "the check would compare the model with itself")
    if probe is not None:
        with torch.no_grad():
            same = torch.equal(model(probe), clone(probe))
        if same:
            raise UserError(f"sanity=true: re-initializing {', '.join(names)} ({level}) left "
                            "the model's outputs unchanged; the check cannot tell anything")
    return Randomized(clone.eval(), level, names, changed, total)


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation of two profiles; None if either is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


@dataclass
class Rerun:
    """What a rerun on a randomized copy gave, per item."""

    target_prob: list[float]
    profiles: tuple[torch.Tensor, torch.Tensor] | None  # (values [B, n], defined [B, n])
    cues: list[dict] | None  # acoustic cues of each output (amcli.metrics.cues)


def sanity_check(model: nn.Module, rerun: Callable[[nn.Module], Rerun],
                 trained_profiles: tuple[torch.Tensor, torch.Tensor] | None,
                 records: list[dict[str, Any]], seed: int = 0,
                 probe: torch.Tensor | None = None) -> dict[str, Any]:
    """For each level: randomize a copy, ``rerun`` the run's items on it, and compare with
    the trained model's items (``records``: target, restart, cues). Per level: the layers
    re-initialized, each item's target probability, profile rank correlation (over the entries
    defined in both), output cues and their shift from the trained item's reference, and the
    median correlation."""
    result: dict[str, Any] = {}
    for level in LEVELS:
        randomized = randomized_copy(model, level, seed, probe)
        randomized.model.checkpoint = getattr(model, "checkpoint", {})
        again = rerun(randomized.model)
        rows = []
        for i, record in enumerate(records):
            row: dict[str, Any] = {"target": record["target"], "restart": record["restart"],
                                   "target_prob": again.target_prob[i]}
            if trained_profiles is not None and again.profiles is not None:
                defined = (trained_profiles[1][i] & again.profiles[1][i]).cpu().numpy()
                row["profile_spearman"] = spearman(
                    trained_profiles[0][i].cpu().numpy()[defined],
                    again.profiles[0][i].cpu().numpy()[defined])
            reference = (record.get("cues") or {}).get("reference")
            if again.cues is not None and reference:
                row["cues"] = again.cues[i]
                row["cue_shift"] = cue_shift(again.cues[i], reference)
            rows.append(row)
        correlations = [r["profile_spearman"] for r in rows
                        if r.get("profile_spearman") is not None]
        result[level] = {"layers": randomized.layers,
                         "parameters_changed": f"{randomized.changed}/{randomized.total}",
                         "items": rows,
                         "median_profile_spearman": float(np.median(correlations))
                         if correlations else None}
    return result
