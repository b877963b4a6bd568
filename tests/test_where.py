"""The where-score (amcli.metrics.where) on hand-made masks, edits and attribution maps whose
answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from amcli.metrics.where import (
    PLACED_RATIO,
    edit_mass,
    mask_mass,
    placed_share,
    stretch_frames,
    to_frames,
    where_score,
)

#: a 3 s clip in 100 frames; the cue lies in its second half
DURATION, FRAMES, STRETCH = 3.0, 100, (1.5, 3.0)


def test_the_stretch_is_the_frames_whose_centre_lies_in_it():
    frames = stretch_frames(10, 1.0, 0.25, 0.5)
    assert frames.tolist() == [False, False, True, True, True] + [False] * 5  # 0.25 to 0.45
    with pytest.raises(ValueError, match="0 <= start < end"):
        stretch_frames(10, 1.0, 0.5, 0.5)


def test_a_mask_that_keeps_only_the_stretch_is_placed_and_a_uniform_one_is_not():
    inside = stretch_frames(FRAMES, DURATION, *STRETCH)
    only_there = where_score(mask_mass(inside.astype(float)), DURATION, *STRETCH)
    assert only_there["share"] == pytest.approx(0.5) and only_there["inside"] == 1.0
    assert only_there["ratio"] == pytest.approx(2.0) and only_there["placed"]
    uniform = where_score(mask_mass(np.full(FRAMES, 0.5)), DURATION, *STRETCH)
    assert uniform["ratio"] == pytest.approx(1.0) and not uniform["placed"]
    elsewhere = where_score(mask_mass(1.0 - inside), DURATION, *STRETCH)
    assert elsewhere["inside"] == 0.0 and not elsewhere["placed"]


def test_a_short_stretch_needs_its_mass_concentrated_twice_over():
    stretch = (0.0, 0.3)  # a tenth of the clip
    keep = np.zeros(FRAMES)
    keep[:10] = 1.0  # the whole stretch ...
    keep[10:20] = 1.0  # ... and as much again just after it
    score = where_score(keep, DURATION, *stretch)
    assert score["share"] == pytest.approx(0.1) and score["inside"] == pytest.approx(0.5)
    assert score["ratio"] == pytest.approx(5.0) and score["placed"]
    keep[:] = 1.0
    keep[:10] = 1.8  # 1.8 x 10 of 108: one sixth inside, under twice the tenth
    spread = where_score(keep, DURATION, *stretch)
    assert spread["ratio"] == pytest.approx(18 / 108 / 0.1)
    assert spread["ratio"] < PLACED_RATIO and not spread["placed"]


def test_only_active_frames_count_on_both_sides():
    active = np.ones(FRAMES, dtype=bool)
    active[:25] = False  # leading silence
    keep = stretch_frames(FRAMES, DURATION, *STRETCH).astype(float)
    keep[:25] = 1.0  # the mask also keeps the silence, which is free to keep
    score = where_score(keep, DURATION, *STRETCH, active=active)
    assert score["share"] == pytest.approx(50 / 75)
    assert score["inside"] == 1.0 and score["ratio"] == pytest.approx(1.5)


def test_an_attribution_map_in_samples_is_pooled_to_frames_by_its_absolute_value():
    rate = 1000
    attribution = np.zeros(int(DURATION * rate))
    attribution[2000:2100] = -3.0  # negative attribution is evidence too
    attribution[100:200] = 1.0
    frames = to_frames(attribution, FRAMES)
    assert frames.sum() == pytest.approx(400.0)
    score = where_score(frames, DURATION, *STRETCH)
    assert score["inside"] == pytest.approx(0.75) and score["ratio"] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        where_score(attribution[2000:2000 + FRAMES], DURATION, *STRETCH)
    with pytest.raises(ValueError, match="cannot pool 5 values into 10 frames"):
        to_frames(np.ones(5), 10)


def test_a_prosody_edit_weighs_each_contour_by_its_bound():
    pitch = np.zeros(FRAMES)
    pitch[50:] = 6.0  # +6 semitones in the second half, half of a 12-semitone bound
    edit = edit_mass({"pitch_st": pitch, "gain_db": np.zeros(FRAMES), "rate": [1.0]},
                     {"pitch_st": 12.0, "gain_db": 12.0, "rate": 0.4}, neutral={"rate": 1.0})
    assert edit[60] == pytest.approx(0.5 / 3) and edit[10] == 0.0
    assert where_score(edit, DURATION, *STRETCH)["ratio"] == pytest.approx(2.0)
    clip_wide = edit_mass({"gain_db": [6.0]}, {"gain_db": 12.0})
    assert clip_wide.tolist() == [0.5]
    with pytest.raises(ValueError, match="contour rate has 3 points, the others 100"):
        edit_mass({"pitch_st": pitch, "rate": [1.0, 1.1, 1.2]}, {"pitch_st": 12, "rate": 0.4})


def test_no_evidence_scores_nothing_and_says_why():
    none = where_score(np.zeros(FRAMES), DURATION, *STRETCH)
    assert none["ratio"] is None and not none["placed"] and none["reason"] == "no evidence mass"
    silent = np.zeros(FRAMES, dtype=bool)
    silent[:10] = True
    off = where_score(np.ones(FRAMES), DURATION, *STRETCH, active=silent)
    assert off["reason"] == "no active frame in the stretch" and off["ratio"] is None


def test_the_placed_share_carries_its_wilson_interval():
    # 8 of 10: Wilson's 95% interval, worked by hand: centre (0.8 + 0.192) / 1.384 = 0.7168,
    # half-width 1.96 * sqrt(0.016 + 0.0096) / 1.384 = 0.2266
    share = placed_share([True] * 8 + [False] * 2)
    assert (share["n"], share["placed"], share["share"]) == (10, 8, 0.8)
    assert share["low"] == pytest.approx(0.4902, abs=1e-3)
    assert share["high"] == pytest.approx(0.9433, abs=1e-3)
    every = placed_share([True] * 12)  # all placed: the interval still says how sure
    assert every["high"] == 1.0 and every["low"] == pytest.approx(0.7575, abs=1e-3)
    assert placed_share([])["share"] is None
