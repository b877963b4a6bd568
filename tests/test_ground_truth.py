"""The ground-truth benchmark's scoring: the rules on hand-made records, and a tiny real run on a
model that by construction can only hear loudness."""

from __future__ import annotations

import json
import math

import pytest

from amcli.metrics import ground_truth as gt
from amcli.resources import example_clip

BOUNDS = {"pitch_st": 12.0, "range_scale": 2.0, "gain_db": 12.0, "rate": 1.4,
          "tilt_db_per_octave": 6.0, "breathiness": 1.0}


def test_the_true_family_must_be_strictly_strongest():
    assert gt.verdict({"pitch": 0.2, "loudness": 0.9, "tempo": 0.4}, "loudness") == gt.Verdict(
        True, pytest.approx(0.5), "loudness", {"pitch": 0.2, "loudness": 0.9, "tempo": 0.4})
    tie = gt.verdict({"pitch": 0.5, "loudness": 0.5}, "loudness")
    assert not tie.identified and tie.margin == 0
    # a lead under 5% of the strongest is a tie too, whichever family comes first
    assert not gt.verdict({"pitch": 0.5, "loudness": 0.49}, "pitch").identified
    assert gt.verdict({"pitch": 0.5, "loudness": 0.45}, "pitch").identified
    wrong = gt.verdict({"pitch": 0.8, "loudness": float("nan")}, "loudness")
    assert not wrong.identified and wrong.strongest == "pitch" and wrong.margin == -0.8


def test_attribution_takes_the_median_over_targets_of_each_best_restart():
    def row(**best):
        return {"variants": {v: {"best": m, "second": m - 0.5, "median": m - 0.25,
                                 "min": m - 0.5, "max": m, "n": 2}
                             for v, m in best.items()}}

    attribution = {"sad": row(pitch=0.1, loudness=0.9, all=0.95),
                   "angry": row(pitch=0.3, loudness=0.7, all=0.9),
                   "happy": row(pitch=0.2, loudness=0.2, all=0.5)}
    assert gt.attribution_strengths(attribution, ["sad", "angry", "happy"]) == {
        "pitch": 0.2, "loudness": 0.7}


def test_edits_are_shares_of_their_bounds():
    record = {"prosody": {"families": ["pitch", "loudness", "tempo", "voice"],
                          "pitch_shift_st": {"mean": -3.0, "min": -4.0, "max": -2.0},
                          "range_scale": 1.0, "gain_db": {"mean": 2.0, "min": -9.0, "max": 3.0},
                          "rate": 1.4, "tilt_db_per_oct": 1.5, "breathiness": -0.1}}
    strengths = gt.edit_strengths([record["prosody"]], BOUNDS)
    assert strengths == pytest.approx({"pitch": 0.25, "loudness": 0.75, "tempo": 1.0,
                                       "voice": 0.25})


def test_cue_shifts_are_in_units_of_natural_spread():
    spread = gt.natural_spread([
        {"f0_mean_hz": 100.0, "f0_spread_st": 1.0, "rms_db": -30.0, "onset_rate": 4.0,
         "centroid_hz": 1000.0},
        {"f0_mean_hz": 200.0, "f0_spread_st": 3.0, "rms_db": -26.0, "onset_rate": 6.0,
         "centroid_hz": 1400.0}])
    assert spread["f0_mean_st"] == pytest.approx(12 / math.sqrt(2))
    assert spread["rms_db"] == pytest.approx(4 / math.sqrt(2))
    records = [{"cues": {"shift": {"f0_mean_st": None, "f0_spread_st": 0.0, "rms_db": 5.657,
                                   "onset_rate": -0.5, "centroid_hz": 100.0}}}]
    strengths = gt.cue_strengths(records, spread)
    assert strengths["loudness"] == pytest.approx(2.0, abs=1e-3)
    assert strengths["pitch"] == 0.0  # an undefined F0 shift counts as none
    assert gt.verdict(strengths, "loudness").identified


LOUDNESS_ONLY = '''
import torch
from torch import nn


class LoudnessOnly(nn.Module):
    """(neutral, sad, angry) logits from the clip's level alone: 0.5 per dB around -36 dB
    (the neutral example clip's level, so it starts near 1/3 for each class)."""

    def forward(self, wave):
        level = 10 * torch.log10(wave.pow(2).mean(-1) + 1e-10)
        x = 0.5 * (level + 36.0)
        return torch.stack([torch.zeros_like(x), -x, x], dim=-1)

'''


@pytest.mark.slow
def test_prosody_attribution_finds_loudness_in_a_loudness_only_model(cli, tmp_path, monkeypatch):
    """A model with no parameters at all, too (the prosody method must not need any)."""
    (tmp_path / "gt_tiny.py").write_text(LOUDNESS_ONLY)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = cli("optimize", "classifier=custom", "custom.target=gt_tiny.LoudnessOnly",
                 "custom.classes=[neutral,sad,angry]",
                 "method=prosody", f"input={example_clip('neutral')}", "target=angry",
                 "prosody.attribution=true", "steps=40", "judge=null", "cues=false",
                 "quiet=true")
    assert result.code == 0, result.err
    run = json.loads((tmp_path / "run" / "metrics.json").read_text())
    strengths = gt.attribution_strengths(run["summary"]["attribution"], ["angry"])
    verdict = gt.verdict(strengths, "loudness")
    assert verdict.identified and verdict.margin > 0.4 and strengths["loudness"] > 0.8, verdict
