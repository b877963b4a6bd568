"""Cue attribution as a statistic: which variant (a control family alone) moves the model,
beside the no-edit baseline and the spread over restarts.

For every target: the **baseline** (the target probability of the item's input as the method
renders it without any edit, e.g. a clip's unedited resynthesis); for every variant the
**median**, **min** and **max** reached target probability over restarts; and a reading:

- a variant counts only if its median exceeds the baseline by more than its own spread
  (max - min over restarts) and by at least :data:`MIN_GAIN`: a target the clip already has is
  not something an edit "reached";
- the **leader** is named only when its median exceeds the runner-up's (among the counted
  variants) by more than the larger spread of the two and by more than :data:`TIE_SHARE` of the
  leader's median; otherwise the variants within that distance of the top share a **tie**.

The variant "all" (every family together) is reported but never leads: it is the reference
for what the families reach together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

#: a lead smaller than this share of the leader's median is a tie (as in the ground-truth
#: benchmark)
TIE_SHARE = 0.05
#: a variant must exceed the no-edit baseline by at least this much to count
MIN_GAIN = 0.05


def variant_stats(values: Iterable[float]) -> dict[str, Any]:
    vals = sorted(float(v) for v in values)
    return {"median": float(median(vals)), "min": vals[0], "max": vals[-1], "n": len(vals)}


def reading(baseline: float | None, stats: Mapping[str, Mapping[str, float]]
            ) -> dict[str, Any]:
    """{"leader", "tie", "counted", "reading"} from one target's variant statistics."""
    base = baseline if baseline is not None else 0.0
    families = {v: s for v, s in stats.items() if v != "all"}
    spread = {v: s["max"] - s["min"] for v, s in families.items()}
    counted = sorted((v for v, s in families.items()
                      if s["median"] - base > max(spread[v], MIN_GAIN)),
                     key=lambda v: -families[v]["median"])
    if not counted:
        words = (f"no family alone moves p above the no-edit baseline {base:.2f}"
                 if baseline is not None else "no family alone moves p")
        return {"leader": None, "tie": [], "counted": [], "reading": words}
    top = counted[0]
    if len(counted) == 1:
        return {"leader": top, "tie": [], "counted": counted,
                "reading": f"{top} leads ({families[top]['median']:.2f}; the others do not "
                           f"exceed the baseline {base:.2f})"}
    second = counted[1]
    needed = max(spread[top], spread[second], TIE_SHARE * families[top]["median"])
    lead = families[top]["median"] - families[second]["median"]
    if lead > needed:
        return {"leader": top, "tie": [], "counted": counted,
                "reading": f"{top} leads ({families[top]['median']:.2f} vs {second} "
                           f"{families[second]['median']:.2f}, lead {lead:.2f} > {needed:.2f})"}
    tie = [v for v in counted if families[top]["median"] - families[v]["median"] <= needed]
    return {"leader": None, "tie": tie, "counted": counted,
            "reading": f"tie: {', '.join(tie)} (within {needed:.2f} of "
                       f"{families[top]['median']:.2f})"}


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
    table = {}
    for target, variants in values.items():
        stats = {v: variant_stats(p) for v, p in variants.items()}
        base = float(median(baselines[target])) if baselines.get(target) else None
        row = {"baseline": base, "variants": stats, **reading(base, stats)}
        if all(st["n"] == 1 for st in stats.values()):
            row["reading"] += ONE_RESTART
        table[target] = row
    return table


#: said of a reading from one restart, which has no spread to tell a lead from chance
ONE_RESTART = "; one restart, so no spread: use restarts=2 or more for a reading you can cite"


def medians(table: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """{target: {variant: median}} of an attribution table."""
    return {t: {v: s["median"] for v, s in row["variants"].items()} for t, row in table.items()}


def reading_label(row: Mapping[str, Any]) -> str:
    """One target's reading in a word or two: the leader, "tie a+b", or "none" (benches compare
    these across seeds)."""
    return row["leader"] or ("tie " + "+".join(sorted(row["tie"])) if row["tie"] else "none")


def stats_cell(stats: Mapping[str, Any] | None) -> str:
    """A variant's figure as printed everywhere: ``median [min-max]``, or ``-``."""
    if not stats:
        return "-"
    return f"{stats['median']:.2f} [{stats['min']:.2f}-{stats['max']:.2f}]"


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
