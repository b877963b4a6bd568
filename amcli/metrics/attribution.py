"""Cue attribution as a statistic: which variant (a control family alone) moves the model,
beside the no-edit baseline and the agreement between restarts.

Each restart of a variant is one attempt at a maximization: "how far can this family alone move
the target probability?". The answer is the **best** restart; a restart that ends lower got stuck
and says nothing about the family (with four restarts of crnn_raw's angry voice edit, two reached
0.64 and two stayed at 0.07: their median, 0.35, described neither). The uncertainty of the best is
how far the **second best** restart is from it: two restarts that find the same probability agree
that it is reachable; one lucky restart alone does not make a lead.

For every target: the **baseline** (the target probability of the item's input as the method
renders it without any edit, e.g. a clip's unedited resynthesis); for every variant the best and
second-best reached target probability (and the median, min and max, kept for the record); and a
reading:

- a variant counts only if its best exceeds the baseline by more than its gap (best - second
  best) and by at least :data:`MIN_GAIN`, and multiplies the baseline's odds p / (1 - p) by at
  least e (a log-odds gain of :data:`MIN_LOG_ODDS_GAIN`): a target the clip already has is not
  something an edit "reached". The odds rule is what separates the models: on the ground-truth
  benchmark's randomized copies (which use no cue) no family's best moved the log-odds by more
  than 0.39, while on the trained copies 95% of the true families' moved it by 1.6 or more,
  often from baselines near 0.001 (0.001 -> 0.04 is a gain of 0.04 in probability, 3.7 in
  log-odds); a gain in probability alone let the randomized transformers' noise through (0.06
  to 0.09 from baselines near 0.35) and hid real but small moves;
- the **leader** is named only when its best exceeds the runner-up's (among the counted variants)
  by more than the larger gap of the two and by more than :data:`TIE_SHARE` of the leader's best;
  otherwise the variants within that distance of the top share a **tie**.

The variant "all" (every family together) is reported but never leads: it is the reference for
what the families reach together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

#: a lead smaller than this share of the leader's median is a tie (as in the ground-truth
#: benchmark)
TIE_SHARE = 0.05
#: a variant must exceed the no-edit baseline by at least this much (probability) to count
MIN_GAIN = 0.02
#: ... and raise its log-odds by at least this much (1.0: the odds times e)
MIN_LOG_ODDS_GAIN = 1.0


def log_odds(p: float) -> float:
    """log(p / (1 - p)), with p kept within [1e-7, 1 - 1e-7] (a probability of exactly 0 or 1
    has infinite log-odds)."""
    p = min(max(float(p), 1e-7), 1.0 - 1e-7)
    return math.log(p / (1.0 - p))


def exceeds_baseline(best: float, baseline: float, spread: float = 0.0) -> bool:
    """Whether a variant's best counts as moving the target above the no-edit baseline: by
    more than its restarts' spread and :data:`MIN_GAIN`, and by :data:`MIN_LOG_ODDS_GAIN` in
    log-odds."""
    return (best - baseline > max(spread, MIN_GAIN)
            and log_odds(best) - log_odds(baseline) >= MIN_LOG_ODDS_GAIN)


def variant_stats(values: Iterable[float]) -> dict[str, Any]:
    """One variant's restarts: ``best`` (its figure), ``second`` (the next best, None with one
    restart), and the median, min, max and count."""
    vals = sorted(float(v) for v in values)
    return {"best": vals[-1], "second": vals[-2] if len(vals) > 1 else None,
            "median": float(median(vals)), "min": vals[0], "max": vals[-1], "n": len(vals)}


def gap(stats: Mapping[str, Any]) -> float:
    """How far the best restart is from the second best (0 with one restart)."""
    return 0.0 if stats.get("second") is None else stats["best"] - stats["second"]


def reading(baseline: float | None, stats: Mapping[str, Mapping[str, float]]
            ) -> dict[str, Any]:
    """{"leader", "tie", "counted", "reading"} from one target's variant statistics."""
    base = baseline if baseline is not None else 0.0
    families = {v: s for v, s in stats.items() if v != "all"}
    best = {v: s["best"] for v, s in families.items()}
    gaps = {v: gap(s) for v, s in families.items()}
    counted = sorted((v for v in families if exceeds_baseline(best[v], base, gaps[v])),
                     key=lambda v: -best[v])
    if not counted:
        words = (f"no family alone moves p above the no-edit baseline {base:.2f}"
                 if baseline is not None else "no family alone moves p")
        return {"leader": None, "tie": [], "counted": [], "reading": words}
    top = counted[0]
    if len(counted) == 1:
        return {"leader": top, "tie": [], "counted": counted,
                "reading": f"{top} leads ({best[top]:.2f}; the others do not exceed the "
                           f"baseline {base:.2f})"}
    second = counted[1]
    needed = max(gaps[top], gaps[second], TIE_SHARE * best[top])
    lead = best[top] - best[second]
    if lead > needed:
        return {"leader": top, "tie": [], "counted": counted,
                "reading": f"{top} leads ({best[top]:.2f} vs {second} {best[second]:.2f}, "
                           f"lead {lead:.2f} > {needed:.2f})"}
    tie = [v for v in counted if best[top] - best[v] <= needed]
    return {"leader": None, "tie": tie, "counted": counted,
            "reading": f"tie: {', '.join(tie)} (within {needed:.2f} of {best[top]:.2f})"}


def attribution_table(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """{target: {"baseline", "variants": {variant: stats}, "leader", "tie", "counted",
    "reading"}} when items have variants, else None. A variant's figure is the probability of
    its best state (before any pruning of the answer), ``attribution_prob`` of its record."""
    records = list(records)
    if not any(r.get("variant") for r in records):
        return None
    values: dict[str, dict[str, list[float]]] = {}
    baselines: dict[str, list[float]] = {}
    for r in records:
        variant = r.get("variant") or "all"
        prob = r.get("attribution_prob", r["target_prob"])
        values.setdefault(r["target"], {}).setdefault(variant, []).append(prob)
        if r.get("baseline_prob") is not None:
            baselines.setdefault(r["target"], []).append(r["baseline_prob"])
    return {target: restarts_row(float(median(baselines[target]))
                                 if baselines.get(target) else None, variants)
            for target, variants in values.items()}


def restarts_row(baseline: float | None, values: Mapping[str, Iterable[float]]
                 ) -> dict[str, Any]:
    """One target's row from every restart's probability per variant: {"baseline", "variants":
    {variant: stats}, "leader", "tie", "counted", "reading"} (benches recompute readings from
    recorded restarts with it)."""
    stats = {v: variant_stats(p) for v, p in values.items()}
    row = {"baseline": baseline, "variants": stats, **reading(baseline, stats)}
    if all(st["n"] == 1 for st in stats.values()):
        row["reading"] += ONE_RESTART
    return row


#: said of a reading from one restart, which has no second best to tell a lead from chance
ONE_RESTART = ("; one restart, so nothing to check it against: use restarts=2 or more for a "
               "reading you can cite")


def figures(table: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """{target: {variant: best restart}} of an attribution table."""
    return {t: {v: s["best"] for v, s in row["variants"].items()} for t, row in table.items()}


def reading_label(row: Mapping[str, Any]) -> str:
    """One target's reading in a word or two: the leader, "tie a+b", or "none" (benches compare
    these across seeds)."""
    return row["leader"] or ("tie " + "+".join(sorted(row["tie"])) if row["tie"] else "none")


def stats_cell(stats: Mapping[str, Any] | None) -> str:
    """A variant's figure as printed everywhere: ``best (second best)``, ``best`` with one
    restart, or ``-``."""
    if not stats:
        return "-"
    if stats.get("second") is None:
        return f"{stats['best']:.2f}"
    return f"{stats['best']:.2f} ({stats['second']:.2f})"


def table_cells(table: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The attribution table as text, for every view of it (the terminal, the report page):
    the column names (target, no edit, each family alone, all, reading) and one row of cells
    per target."""
    variants = sorted({v for row in table.values() for v in row["variants"]} - {"all"})
    columns = ["target", "no edit", *(f"{v} alone" for v in variants), "all", "reading"]
    rows = []
    for target, row in table.items():
        base = row.get("baseline")
        rows.append([target, "-" if base is None else f"{base:.2f}",
                     *(stats_cell(row["variants"].get(v)) for v in [*variants, "all"]),
                     row.get("reading", "")])
    return columns, rows
