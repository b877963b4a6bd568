"""Numeric ranges of options, declared once on the schema and checked in one place.

A schema field says its range with :func:`bounded` (dataclass field metadata, which Hydra and
OmegaConf ignore); :func:`check_bounds` walks a whole config object (nested dataclasses and
lists included) and raises a :class:`~amcli.errors.UserError` for the first value that is not a
finite number or is out of range, naming the key as the user types it::

    lr=nan; give a finite number
    mask.area=1.5; the share of active frames to keep, in (0, 1]
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from amcli.errors import UserError

METADATA_KEY = "bounds"


@dataclass(frozen=True)
class Bounds:
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    hint: str = ""

    def admits(self, value: float) -> bool:
        return not ((self.ge is not None and value < self.ge)
                    or (self.gt is not None and value <= self.gt)
                    or (self.le is not None and value > self.le)
                    or (self.lt is not None and value >= self.lt))

    def describe(self) -> str:
        low = (f"[{_fmt(self.ge)}" if self.ge is not None else
               f"({_fmt(self.gt)}" if self.gt is not None else None)
        high = (f"{_fmt(self.le)}]" if self.le is not None else
                f"{_fmt(self.lt)})" if self.lt is not None else None)
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f"{'at least' if self.ge is not None else 'more than'} {low[1:]}"
        if high:
            return f"{'at most' if self.le is not None else 'less than'} {high[:-1]}"
        return "a finite number"


def _fmt(value: float) -> str:
    return f"{value:g}"


def bounded(default: Any, *, ge: float | None = None, gt: float | None = None,
            le: float | None = None, lt: float | None = None, hint: str = "") -> Any:
    """A dataclass field with a default and a range (None values always pass)."""
    return field(default=default, metadata={METADATA_KEY: Bounds(ge, gt, le, lt, hint)})


def check_value(key: str, value: Any, bounds: Bounds | None) -> None:
    """One value: finite when it is a number, inside ``bounds`` when given."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (list, tuple)):
        for element in value:
            check_value(key, element, bounds)
        return
    if not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise UserError(f"{key}={value}; give a finite number")
    if bounds is not None and not bounds.admits(value):
        what = f"{bounds.hint}, " if bounds.hint else "it must be "
        raise UserError(f"{key}={value:g}; {what}{bounds.describe()}")


def check_bounds(config: Any, prefix: str = "") -> None:
    """Every number of a config dataclass (recursively): finite, and inside its declared range."""
    if not dataclasses.is_dataclass(config):
        return
    for spec in dataclasses.fields(config):
        value = getattr(config, spec.name)
        key = f"{prefix}{spec.name}"
        if dataclasses.is_dataclass(value):
            check_bounds(value, f"{key}.")
        else:
            check_value(key, value, spec.metadata.get(METADATA_KEY))
