"""A verdict on every item: did it reach its target, and do its own controls let it stand?

- ``reached``: the target probability is at least the run's ``reached`` level (0.9 by default)
  and the method's own goal holds (a mask keeps its area as a selection);
- ``not reached``: it did not (the reasons say which part);
- ``not an explanation``: it reached the target, but one of the method's controls refutes it
  (for a mask: the binarized mask loses the target, a uniform gain of the whole clip reaches it
  as well, or, with ``sanity=true``, the randomized classifier's mask agrees with the trained
  one's). See :meth:`amcli.am.AMMethod.verdict_reasons`.

Metrics that only mean something for a reached target (faithfulness) leave out the items that
did not reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amcli.am.methods.base import AMMethod

VERDICTS = ("reached", "not reached", "not an explanation")


def verdict(record: dict[str, Any], method: AMMethod, reached: float,
            sanity: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """{"verdict", "reasons"} of one item record; ``sanity`` maps each randomization level to
    this item's row of the sanity check (when it ran)."""
    p = record.get("target_prob")
    unmet, refuted = method.verdict_reasons(record, reached, sanity)
    if p is None or p < reached:
        unmet = [f"p({record['target']}) = {p:.3f} < {reached:g}" if p is not None
                 else "no target probability", *unmet]
    if unmet:
        return {"verdict": "not reached", "reasons": unmet}
    if refuted:
        return {"verdict": "not an explanation", "reasons": refuted}
    return {"verdict": "reached", "reasons": []}


def apply_verdicts(records: list[dict[str, Any]], method: AMMethod, reached: float,
                   sanity: dict[str, Any] | None = None) -> None:
    """Set ``verdict`` and ``verdict_reasons`` on every record (in place); ``sanity`` is the
    run's sanity record (levels -> items in the records' order)."""
    for i, record in enumerate(records):
        rows = {level: result["items"][i] for level, result in (sanity or {}).items()
                if isinstance(result, dict) and i < len(result.get("items") or [])}
        found = verdict(record, method, reached, rows or None)
        record["verdict"], record["verdict_reasons"] = found["verdict"], found["reasons"]


def count(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many records have each verdict (every verdict listed, zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for r in records:
        if r.get("verdict") in counts:
            counts[r["verdict"]] += 1
    return counts
