"""The items of a run: every (clip, target, restart), each with its own seed.

An item's seed depends on the run's seed and on the item's identity, not on its position in a
batch or in the run, so a result is the same whether the item runs alone, in one batch with
hundreds of others, in the third chunk of a long run, or next to targets added later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from amcli.am.random import item_seed
from amcli.errors import UserError


@dataclass(frozen=True)
class Item:
    clip: str  # name of the input clip ("" for items that start from noise or a latent)
    target: str
    restart: int
    name: str  # file stem of its outputs
    seed: int  # its own seed: item_seed(run seed, clip, target, restart)
    #: a variant of the method (prosody attribution: the control family), "" for none
    variant: str = ""


def resolve_targets(target: object, classes: Sequence[str]) -> list[str]:
    """``target`` as the user gave it (a name, a list, or "all") -> class names, in order."""
    if target in (None, "all"):
        return list(classes)
    names = [target] if isinstance(target, str) else list(target)  # type: ignore[arg-type]
    unknown = [str(n) for n in names if n not in classes]
    if unknown or not names:
        raise UserError(f"unknown target {unknown or names}; the classifier's classes are "
                        f"{', '.join(classes)} (or target=all)")
    return list(dict.fromkeys(names))


def build_items(targets: Sequence[str], clip_names: Iterable[str], restarts: int, seed: int,
                per_target_clip: bool = False, variants: Sequence[str] = ("",)) -> list[Item]:
    """clips x targets x restarts x variants (``per_target_clip``: each target only with its
    own clip, as for the shipped example clips). Output stems are ``<target>_r<k>``, or
    ``<clip>_<target>_r<k>`` when several clips are paired with targets, with ``_<variant>``
    for variants other than "" and "all". The variants of one (clip, target, restart) share its
    seed: they start from the same state, so they differ only by what the variant allows."""
    clips = list(clip_names) or [""]
    items = []
    for clip in clips:
        for target in targets:
            if per_target_clip and clip != target:
                continue
            for k in range(restarts):
                stem = f"{target}_r{k}" if len(clips) == 1 or per_target_clip \
                    else f"{clip}_{target}_r{k}"
                for variant in variants:
                    suffix = f"_{variant}" if variant not in ("", "all") else ""
                    items.append(Item(clip, target, k, stem + suffix,
                                      item_seed(seed, clip, target, k), variant))
    return items
