"""Leave-one-out necessity of cue families (amcli.metrics.necessity), on hand-made figures."""

from __future__ import annotations

from amcli.metrics.necessity import needed_families


def test_a_family_is_needed_when_the_target_is_lost_without_it():
    # a model that needs high pitch and loudness together: all four families reach 0.95,
    # without pitch 0.06, without loudness 0.04, without tempo still 0.93
    found = needed_families(0.95, {"pitch": 0.06, "loudness": 0.04, "tempo": 0.93})
    assert found == {"all_reaches": True, "needed": ["loudness", "pitch"]}


def test_nothing_is_needed_when_all_together_do_not_reach_the_target():
    assert needed_families(0.5, {"pitch": 0.01, "loudness": 0.02}) == \
        {"all_reaches": False, "needed": []}
    # the threshold is inclusive: 0.9 reaches
    assert needed_families(0.9, {"pitch": 0.9, "loudness": 0.89})["needed"] == ["loudness"]
