"""The together-rule (amcli.metrics.together) on hand-made attribution rows."""

from __future__ import annotations

import pytest

from amcli.metrics.attribution import restarts_row
from amcli.metrics.together import together_verdict

PITCH_AND_LOUDNESS = ("pitch", "loudness")


def row(**restarts: list[float]):
    """An attribution row as amcli builds it, from every restart's probability per variant
    (no-edit baseline 0.25: four classes)."""
    return restarts_row(0.25, restarts)


def test_both_families_counted_and_neither_alone_enough():
    verdict = together_verdict(row(all=[0.95, 0.93], pitch=[0.55, 0.52], loudness=[0.60, 0.58],
                                   tempo=[0.26, 0.25], voice=[0.27, 0.24]), PITCH_AND_LOUDNESS)
    assert verdict["names_both"] and verdict["missing"] == verdict["extra"] == []
    assert verdict["alone"] == {"pitch": 0.55, "loudness": 0.60} and verdict["all"] == 0.95
    assert verdict["neither_alone_reaches"] is True


def test_one_family_enough_alone_is_said_so():
    verdict = together_verdict(row(all=[0.96, 0.95], pitch=[0.93, 0.92], loudness=[0.50, 0.49],
                                   voice=[0.25, 0.25]), PITCH_AND_LOUDNESS)
    assert verdict["names_both"] and verdict["neither_alone_reaches"] is False


def test_a_missing_family_or_an_extra_one_is_not_naming_both():
    # loudness alone does not beat the baseline by more than its restarts' spread
    missing = together_verdict(row(all=[0.95, 0.94], pitch=[0.60, 0.58],
                                   loudness=[0.40, 0.20]), PITCH_AND_LOUDNESS)
    assert not missing["names_both"] and missing["missing"] == ["loudness"]
    extra = together_verdict(row(all=[0.95, 0.94], pitch=[0.60, 0.58], loudness=[0.55, 0.54],
                                 voice=[0.50, 0.49]), PITCH_AND_LOUDNESS)
    assert not extra["names_both"] and extra["extra"] == ["voice"]


def test_a_row_without_the_families_or_without_all_is_handled():
    verdict = together_verdict(row(pitch=[0.6, 0.5], loudness=[0.6, 0.5]), PITCH_AND_LOUDNESS)
    assert verdict["all"] is None and verdict["neither_alone_reaches"] is None
    with pytest.raises(ValueError, match="no variant loudness"):
        together_verdict(row(all=[0.9], pitch=[0.6]), PITCH_AND_LOUDNESS)
    with pytest.raises(ValueError, match="two families or more"):
        together_verdict(row(all=[0.9], pitch=[0.6]), ("pitch",))
