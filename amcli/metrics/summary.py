"""A run's summary from its item records: per target, over all items, and the margin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from amcli.metrics.attribution import attribution_table
from amcli.metrics.faithfulness import faithfulness
from amcli.metrics.judge import transfer_rate
from amcli.metrics.verdicts import count


def margin(logits: torch.Tensor, target: int) -> float:
    """S_t - max_{c != t} S_c of one item's logits."""
    others = torch.cat([logits[:target], logits[target + 1:]])
    return float(logits[target] - others.max())


def primary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that are the run's answer: without a variant, or the variant "all" (prosody
    attribution's family-alone items are its evidence, not its answer)."""
    return [r for r in records if r.get("variant", "") in ("", "all")]


def summarize(records: Sequence[dict[str, Any]], targets: Sequence[str],
              reached: float = 0.9) -> dict[str, Any]:
    """Per target: items, their verdicts, median and min target probability (and median judge
    probability); over all items: the verdicts, the judge's transfer rate (when the judge scored
    them) and, for masks, L-MAC faithfulness over the items that reached ``reached`` (it means
    nothing for the others; null with a note when none did); with variants, the attribution
    table (amcli.metrics.attribution). Variant items other than "all" enter only the
    attribution table."""
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
    masks = [r for r in records if r.get("mask")]
    masked = [r for r in masks if r["target_prob"] >= reached]
    if masked:
        summary["faithfulness"] = {**faithfulness(
            [r["mask"]["original_prob"] for r in masked], [r["target_prob"] for r in masked],
            [r["mask"]["masked_out_prob"] for r in masked],
            [r["mask"]["same_top1"] for r in masked]), "left_out": len(masks) - len(masked)}
    elif masks:
        summary["faithfulness"] = None
        summary["faithfulness_note"] = (f"no mask reached its target (p >= {reached:g}); "
                                        "faithfulness scores mean nothing for those")
    if table is not None:
        summary["attribution"] = table
    return summary
