"""Does prosody attribution name the families a model uses *together*?

A ground-truth model trained on classes that differ only by a combination of two cue families
(low or high pitch x soft or loud: four classes) needs both to tell its classes apart. Its
attribution must name both and no other, by the reading amcli prints
(:func:`amcli.metrics.attribution.reading`: a family counts when its best restart alone exceeds
the no-edit baseline as :func:`~amcli.metrics.attribution.exceeds_baseline` says), and must show
when neither family alone reaches the target while all of them together do: the case a
one-family reading would get wrong. The rule was fixed before anything was measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def together_verdict(row: Mapping[str, Any], true: Sequence[str],
                     reached: float = 0.9) -> dict[str, Any]:
    """Score one target's attribution row (``summary.attribution[target]`` of metrics.json, or
    :func:`amcli.metrics.attribution.restarts_row`) against the ``true`` families:

    - ``names_both``: every true family is counted above the baseline and no other is;
    - ``missing`` and ``extra``: the true families not counted, the others counted;
    - ``alone``: each true family's best probability alone, and ``all`` every family's;
    - ``neither_alone_reaches``: no true family alone reaches ``reached`` while all of them
      together do (None when the row has no "all" variant).
    """
    if len(set(true)) < 2:
        raise ValueError(f"a combination needs two families or more, got {list(true)}")
    variants = row["variants"]
    unknown = sorted(set(true) - set(variants))
    if unknown:
        raise ValueError(f"the row has no variant {', '.join(unknown)}: run attribution with "
                         "those families")
    counted = set(row["counted"])
    alone = {family: variants[family]["best"] for family in true}
    together = variants.get("all", {}).get("best")
    return {
        "names_both": set(true) <= counted and not counted - set(true),
        "missing": sorted(set(true) - counted),
        "extra": sorted(counted - set(true)),
        "alone": alone,
        "all": together,
        "neither_alone_reaches": None if together is None
        else all(p < reached for p in alone.values()) and together >= reached,
    }
