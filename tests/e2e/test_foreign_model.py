"""A model nobody here trained: pesto's pretrained pitch estimator (its weights ship in its
wheel), wrapped as users wrap theirs (examples/pesto_bands.py) as a three-band pitch classifier.

It is the check that what amcli reports holds on a model it did not train: prosody attribution
names pitch for the low and the high band, the edits move the measured F0 the right way, and a
mask, which can only select stretches of the clip, is flagged when it cannot reach a band.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pesto")

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CUSTOM = ["classifier=custom", "custom.target=pesto_bands.PestoBands",
          "custom.classes=[low,mid,high]", "judge=null", "quiet=true", "clip_seconds=0"]


@pytest.fixture
def pesto_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_prosody_attribution_names_pitch_for_a_pretrained_pitch_model(cli, tmp_path,
                                                                        pesto_on_path):
    from amcli.resources import example_clip

    result = cli("optimize", *CUSTOM, "method=prosody", f"input={example_clip('neutral')}",
                 "target=[low,high]", "prosody.attribution=true",
                 "prosody.families=[pitch,loudness]", "steps=12",
                 "record_every=4")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    table = metrics["summary"]["attribution"]
    for target in ("low", "high"):
        assert table[target]["leader"] == "pitch", table[target]["reading"]
        assert table[target]["reading"] in result.out
    pitch_alone = {i["target"]: i for i in metrics["items"] if i.get("variant") == "pitch"}
    assert pitch_alone["low"]["prosody"]["pitch_shift_st"]["mean"] < -0.5
    assert pitch_alone["high"]["prosody"]["pitch_shift_st"]["mean"] > 0.5
    assert pitch_alone["low"]["cues"]["shift"]["f0_mean_st"] < -0.5  # Harvest hears it too
    assert pitch_alone["high"]["cues"]["shift"]["f0_mean_st"] > 0.5
    assert metrics["run"]["clip_seconds"] == {"option": 0.0, "heard": "each clip's own length"}


def test_a_mask_cannot_make_the_pitch_model_hear_another_band(cli, tmp_path, pesto_on_path):
    from amcli.resources import example_clip

    result = cli("optimize", *CUSTOM, "method=mask", f"input={example_clip('neutral')}",
                 "target=high", "steps=20", "min_steps=5", "record_every=5")
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    (item,) = metrics["items"]
    assert item["target_prob"] < 0.9 and item["verdict"] == "not reached"
    assert metrics["summary"]["faithfulness"] is None
    assert "not reached" in result.out
