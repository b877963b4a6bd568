"""A run's summary from its item records: per target, over all items, and the margin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from amcli.metrics.faithfulness import faithfulness
from amcli.metrics.judge import transfer_rate


def margin(logits: torch.Tensor, target: int) -> float:
    """S_t - max_{c != t} S_c of one item's logits."""
    others = torch.cat([logits[:target], logits[target + 1:]])
    return float(logits[target] - others.max())


def primary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that are the run's answer: without a variant, or the variant "all" (prosody
    attribution's family-alone items are its evidence, not its answer)."""
    return [r for r in records if r.get("variant", "") in ("", "all")]


def attribution(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]] | None:
    """{target: {variant: median target probability}} when items have variants (prosody
    attribution: each control family alone, and all together), else None."""
    if not any(r.get("variant") for r in records):
        return None
    table: dict[str, dict[str, float]] = {}
    for r in records:
        table.setdefault(r["target"], {}).setdefault(r.get("variant") or "all", [])
        table[r["target"]][r.get("variant") or "all"].append(r["target_prob"])
    return {t: {v: float(np.median(p)) for v, p in variants.items()}
            for t, variants in table.items()}


def summarize(records: Sequence[dict[str, Any]], targets: Sequence[str]) -> dict[str, Any]:
    """Per target: items, median and min target probability (and median judge probability);
    over all items: the judge's transfer rate (when the judge scored them) and, for masks,
    L-MAC faithfulness; with variants, the attribution table. Variant items other than "all"
    enter only the attribution table."""
    table = attribution(records)
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
    summary: dict[str, Any] = {"targets": per_target}
    if records and all("judge_top1" in r for r in records):
        summary["transfer_rate"] = transfer_rate([r["judge_top1"] for r in records],
                                                 [r["target"] for r in records])
    masked = [r for r in records if r.get("mask")]
    if masked:
        summary["faithfulness"] = faithfulness(
            [r["mask"]["original_prob"] for r in masked], [r["target_prob"] for r in masked],
            [r["mask"]["masked_out_prob"] for r in masked],
            [r["mask"]["same_top1"] for r in masked])
    if table is not None:
        summary["attribution"] = table
    return summary
