"""A run's summary from its item records: per target, over all items, and the margin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from amcli.metrics.attribution import attribution_table
from amcli.metrics.judge import transfer_rate
from amcli.metrics.verdicts import count


def margin(logits: torch.Tensor, target: int) -> float:
    """S_t - max_{c != t} S_c of one item's logits."""
    others = torch.cat([logits[:target], logits[target + 1:]])
    return float(logits[target] - others.max())


def primary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that are the run's answer (``answer``, which the method decides: e.g. prosody
    attribution's family-alone items are its evidence, not its answer)."""
    return [r for r in records if r.get("answer", True)]


def summarize(records: Sequence[dict[str, Any]], targets: Sequence[str]) -> dict[str, Any]:
    """Per target: items, median and min target probability (and median judge probability);
    over all items: the verdicts and the judge's transfer rate (when the judge scored them);
    with variants, the attribution table (amcli.metrics.attribution). Only answer items count,
    except in the attribution table. The method adds its own figures (``AMMethod.summarize``)."""
    table = attribution_table(records)
    records = primary(records)
    per_target: dict[str, dict] = {}
    for target in targets:
        rows = [r for r in records if r["target"] == target]
        if not rows:
            continue
        probs = [r["target_prob"] for r in rows]
        per_target[target] = {"items": len(rows), "median_target_prob": float(np.median(probs)),
                              "min_target_prob": float(np.min(probs))}
        judged = [r["judge_prob"] for r in rows if r.get("judge_prob") is not None]
        if judged:
            per_target[target]["median_judge_prob"] = float(np.median(judged))
    summary: dict[str, Any] = {"targets": per_target, "verdicts": count(records)}
    if records and all("judge_top1" in r for r in records):
        summary["transfer_rate"] = transfer_rate([r["judge_top1"] for r in records],
                                                 [r["target"] for r in records])
    if table is not None:
        summary["attribution"] = table
    return summary
