"""Which families does a target *need*? Leave-one-out over the edit's families.

Attribution one family at a time asks what each family reaches alone. For a model that needs two
families at once (a class that is high *and* loud), each alone reaches next to nothing, so that
reading cannot name them. The question that can is the other way round: edit with every family
but one; the family is needed when the edit with all of them reaches the target and the edit
without it does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def needed_families(all_prob: float, without: Mapping[str, float],
                    reached: float = 0.9) -> dict[str, Any]:
    """From the target probability the edit with every family reaches (``all_prob``) and the one
    each edit without a family reaches (``without[family]``): ``all_reaches``, and ``needed``,
    the families without which the target is no longer reached (none when all of them together
    do not reach it: then nothing is shown to be needed)."""
    if all_prob < reached:
        return {"all_reaches": False, "needed": []}
    return {"all_reaches": True,
            "needed": sorted(f for f, p in without.items() if p < reached)}
