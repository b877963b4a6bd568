"""Scores of the ground-truth benchmark: does an explanation single out the cue family that the
model can use?

A model trained on a cue-isolated corpus (``amcli synth isolate=[family]``) can only use that
family, so an explanation of it should point there. Each method's evidence is turned into a
strength per family, and a method identifies the family when the true one is the strongest; the
margin is its strength minus the strongest other's. The rules, fixed before anything is
measured:

- prosody attribution: the strength of a family is the median target probability that family
  reaches alone (``summary.attribution``);
- prosody edits (every family free): the size of the family's edit as a share of its bound
  (its largest control), median over items;
- any other output (mask, input, latent): the shift of the family's acoustic cues from the
  reference, each in units of that cue's natural spread (its standard deviation over neutral
  clips), the family's largest, median over items.

A margin under :data:`TIE_SHARE` of the strongest strength is a tie, and a tie identifies
nothing (a randomized model that every family moves to the same probability does not point at
the first family of the list).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

from amcli.families import FAMILIES
from amcli.metrics.attribution import figures

#: The measured cues (amcli.metrics.cues shift keys) that stand for each family.
FAMILY_SHIFT_CUES: dict[str, tuple[str, ...]] = {
    "pitch": ("f0_mean_st", "f0_spread_st"),
    "loudness": ("rms_db",),
    "tempo": ("onset_rate",),
    "voice": ("centroid_hz",),
}


#: A margin smaller than this share of the strongest strength is a tie.
TIE_SHARE = 0.05


@dataclass(frozen=True)
class Verdict:
    """Whether the strongest family is the true one, by how much, and the strengths."""

    identified: bool
    margin: float
    strongest: str
    strengths: dict[str, float]


def verdict(strengths: Mapping[str, float], true_family: str) -> Verdict:
    """Compare the true family's strength with the strongest other's (NaN counts as 0)."""
    clean = {f: (0.0 if v is None or math.isnan(v) else float(v)) for f, v in strengths.items()}
    strongest = max(clean, key=lambda f: clean[f])
    others = [v for f, v in clean.items() if f != true_family]
    margin = clean.get(true_family, 0.0) - (max(others) if others else 0.0)
    tie = TIE_SHARE * max(abs(v) for v in clean.values())
    return Verdict(strongest == true_family and margin > tie, margin, strongest, clean)


def attribution_strengths(attribution: Mapping[str, Mapping[str, Any]],
                          targets: Iterable[str]) -> dict[str, float]:
    """Median over targets of the probability each family reaches alone (``attribution``: a
    run's summary.attribution table, amcli.metrics.attribution)."""
    targets = list(targets)
    attribution = figures(attribution)
    return {f: median(attribution[t][f] for t in targets) for f in FAMILIES
            if all(f in attribution[t] for t in targets)}


def edit_strengths(edits: Iterable[Mapping[str, Any]],
                   bounds: Mapping[str, float]) -> dict[str, float]:
    """Median over items of each family's edit as a share of its bound. ``edits``: the items'
    edit records (families, pitch_shift_st, range_scale, gain_db, rate, tilt_db_per_oct,
    breathiness); ``bounds``: pitch_st, range_scale, gain_db, rate, tilt_db_per_octave,
    breathiness (the edit bounds' fields)."""
    per_family: dict[str, list[float]] = {f: [] for f in FAMILIES}
    for edit in edits:
        sizes = {
            "pitch": max(abs(edit["pitch_shift_st"]["mean"]) / bounds["pitch_st"],
                         abs(math.log(edit["range_scale"])) / math.log(bounds["range_scale"])),
            "loudness": max(abs(edit["gain_db"]["min"]), abs(edit["gain_db"]["max"]))
            / bounds["gain_db"],
            "tempo": abs(math.log(edit["rate"])) / math.log(bounds["rate"]),
            "voice": max(abs(edit["tilt_db_per_oct"]) / bounds["tilt_db_per_octave"],
                         abs(edit["breathiness"]) / bounds["breathiness"]),
        }
        for family, size in sizes.items():
            if family in edit["families"]:
                per_family[family].append(size)
    return {f: median(v) for f, v in per_family.items() if v}


def cue_strengths(records: Iterable[Mapping[str, Any]],
                  spread: Mapping[str, float]) -> dict[str, float]:
    """Median over items of each family's largest cue shift in units of the cue's spread;
    a cue that is undefined for an item (no voiced frame) counts as no shift."""
    per_family: dict[str, list[float]] = {f: [] for f in FAMILIES}
    for record in records:
        shift = (record.get("cues") or {}).get("shift") or {}
        for family, cues in FAMILY_SHIFT_CUES.items():
            sizes = [abs(shift[c]) / spread[c] for c in cues
                     if shift.get(c) is not None and not math.isnan(shift[c]) and spread.get(c)]
            per_family[family].append(max(sizes, default=0.0))
    return {f: median(v) for f, v in per_family.items() if v}


def natural_spread(cue_rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The standard deviation of each family cue over a set of clips' measured cues
    (``measure_cues`` rows; F0 mean taken in semitones)."""
    rows = list(cue_rows)
    values: dict[str, list[float]] = {c: [] for cues in FAMILY_SHIFT_CUES.values() for c in cues}
    for row in rows:
        f0 = row.get("f0_mean_hz")
        derived = {**row, "f0_mean_st": 12 * math.log2(f0 / 100.0) if f0 and f0 > 0 else None}
        for cue in values:
            value = derived.get(cue)
            if value is not None and not math.isnan(value):
                values[cue].append(float(value))
    out = {}
    for cue, vals in values.items():
        if len(vals) >= 2:
            mean = sum(vals) / len(vals)
            out[cue] = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
    return out
