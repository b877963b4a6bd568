"""Faithfulness of masks as L-MAC uses it for audio (Paissan et al. 2024, SpeechBrain).

Over N items with o_i = p_t(x_i), p_i = p_t(masked-in x_i), q_i = p_t(masked-out x_i):
AI = 100 mean(1[p_i > o_i]); AD = 100 mean(max(0, o_i - p_i) / o_i);
AG = 100 mean(max(0, p_i - o_i) / (1 - o_i)); FF = mean(o_i - q_i);
Fid-In = mean(1[argmax f(masked-in x_i) = argmax f(x_i)]).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def faithfulness(original: Sequence[float], masked_in: Sequence[float],
                 masked_out: Sequence[float], same_top1: Sequence[bool]) -> dict[str, float]:
    o, p, q = (np.asarray(v, dtype=float) for v in (original, masked_in, masked_out))
    eps = 1e-12
    return {
        "AI": float(100 * np.mean(p > o)),
        "AD": float(100 * np.mean(np.maximum(0.0, o - p) / np.maximum(o, eps))),
        "AG": float(100 * np.mean(np.maximum(0.0, p - o) / np.maximum(1 - o, eps))),
        "FF": float(np.mean(o - q)),
        "Fid_In": float(np.mean(np.asarray(same_top1, dtype=float))),
        "n": int(len(o)),
    }
