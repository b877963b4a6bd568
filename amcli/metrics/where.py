"""Where an explanation puts its evidence, scored against the stretch of the clip that holds
the class cue.

A ground-truth corpus can put a class cue in a known stretch only (for example only in the
second half of the sentence). There, a faithful explanation puts its evidence in that stretch.
Every method's evidence is turned into a non-negative *mass* over the clip's time frames:

- a mask: the share of the clip it keeps at each frame;
- a prosody edit: the size of its contours at each frame, each as a share of its bound, mean over
  the contours;
- an attribution map (Integrated Gradients, Saliency x input, Occlusion): its absolute value,
  pooled to frames.

The score is the share of that mass inside the stretch, against the stretch's share of the
clip: ``ratio`` 1 is evidence spread evenly, and ``ratio`` 2 puts twice the stretch's share of
the mass inside it. The rule was fixed before anything was measured. Only active frames count,
on both sides: the frames with speech, when they are given. Silence is free to keep or remove,
and would otherwise dilute both the mass and the share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: the ratio of inside share to stretch share from which evidence counts as placed in the stretch
PLACED_RATIO = 2.0


def to_frames(values: Any, n_frames: int) -> np.ndarray:
    """Absolute ``values`` over time (a waveform's samples, or already frames) summed into
    ``n_frames`` equal spans, the last one taking the remainder."""
    flat = np.abs(np.asarray(values, dtype=np.float64)).reshape(-1)
    if n_frames < 1 or flat.size < n_frames:
        raise ValueError(f"cannot pool {flat.size} values into {n_frames} frames")
    edges = np.linspace(0, flat.size, n_frames + 1).round().astype(int)
    return np.add.reduceat(flat, edges[:-1])


def stretch_frames(n_frames: int, duration_s: float, start_s: float, end_s: float) -> np.ndarray:
    """Boolean [n_frames]: the frames whose centre lies in [start_s, end_s) of a clip of
    ``duration_s`` seconds."""
    if not 0 <= start_s < end_s:
        raise ValueError(f"a stretch needs 0 <= start < end, got {start_s}..{end_s}")
    centres = (np.arange(n_frames) + 0.5) * duration_s / n_frames
    return (centres >= start_s) & (centres < end_s)


def where_score(mass: Any, duration_s: float, start_s: float, end_s: float,
                active: Any | None = None) -> dict[str, Any]:
    """The share of ``mass`` (non-negative, per frame) inside the stretch [start_s, end_s), the
    stretch's share of the (active) frames, their ratio, and whether the evidence is placed
    there (ratio at least :data:`PLACED_RATIO`). Without mass, or without active frames in the
    stretch, the ratio is None and ``placed`` is False, with the reason."""
    mass = np.asarray(mass, dtype=np.float64).reshape(-1)
    if (mass < 0).any() or not np.isfinite(mass).all():
        raise ValueError("evidence mass must be finite and non-negative (take |attribution|)")
    counted = np.ones(mass.size, dtype=bool) if active is None \
        else np.asarray(active, dtype=bool).reshape(-1)
    if counted.size != mass.size:
        raise ValueError(f"{counted.size} active flags for {mass.size} frames")
    inside = stretch_frames(mass.size, duration_s, start_s, end_s) & counted
    total, share = mass[counted].sum(), inside.sum() / max(int(counted.sum()), 1)
    result: dict[str, Any] = {"inside": None, "share": float(share), "ratio": None,
                              "placed": False, "reason": None}
    if share == 0:
        result["reason"] = "no active frame in the stretch"
    elif total <= 0:
        result["reason"] = "no evidence mass"
    else:
        result["inside"] = float(mass[inside].sum() / total)
        result["ratio"] = result["inside"] / float(share)
        result["placed"] = result["ratio"] >= PLACED_RATIO
    return result


def mask_mass(keep: Any) -> np.ndarray:
    """A mask's mass per frame: what it keeps of the clip there (its values, in [0, 1])."""
    keep = np.asarray(keep, dtype=np.float64)
    if keep.ndim == 2:  # a time-frequency mask [bands, frames]: the mean over bands
        keep = keep.mean(0)
    return np.clip(keep, 0.0, None)


def edit_mass(contours: Mapping[str, Any], bounds: Mapping[str, float],
              neutral: Mapping[str, float] | None = None) -> np.ndarray:
    """A prosody edit's size per frame: each contour's distance from its no-edit value (0, or
    ``neutral[name]``: 1 for a rate or a range scale), as a share of its bound, mean over the
    contours. A contour with one value (a clip-wide control) weighs the same at every frame."""
    if not contours:
        raise ValueError("no contour to measure")
    n = max(np.asarray(c).reshape(-1).size for c in contours.values())
    sizes = []
    for name, contour in contours.items():
        values = np.asarray(contour, dtype=np.float64).reshape(-1)
        if values.size not in (1, n):
            raise ValueError(f"contour {name} has {values.size} points, the others {n}")
        bound = bounds[name]
        if not bound > 0 or not math.isfinite(bound):
            raise ValueError(f"the bound of {name} must be positive, got {bound}")
        distance = np.abs(values - (neutral or {}).get(name, 0.0)) / bound
        sizes.append(np.broadcast_to(distance, (n,)))
    return np.mean(sizes, axis=0)


def placed_share(placed: Sequence[bool], z: float = 1.96) -> dict[str, Any]:
    """How many clips had their evidence placed in the stretch, of how many, the share, and its
    Wilson score interval (95% for the default ``z``): a share of a dozen clips is uncertain by
    tens of points, and the interval says by how many (it stays inside [0, 1] and is not
    degenerate at 0 or n, unlike the normal approximation)."""
    n, k = len(placed), int(sum(bool(p) for p in placed))
    if n == 0:
        return {"n": 0, "placed": 0, "share": None, "low": None, "high": None}
    share = k / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"n": n, "placed": k, "share": share, "low": max(0.0, centre - half),
            "high": min(1.0, centre + half)}
