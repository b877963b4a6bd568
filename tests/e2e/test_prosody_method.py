"""`amcli optimize method=prosody` end to end on tiny untrained classifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amcli.resources import example_clip


def args(tiny: Path, *extra: str, classifier: str = "crnn_mel") -> list[str]:
    return ["optimize", "method=prosody", f"classifier={tiny / (classifier + '.json')}",
            f"input={example_clip('neutral')}", "steps=6", "min_steps=2", "record_every=2",
            "quiet=true", *extra]


def test_prosody_writes_edited_speech_plots_and_a_table_of_edits(cli, tmp_path, tiny):
    result = cli(*args(tiny, "target=[happy,angry]", "restarts=2"))
    assert result.code == 0, result.err
    run = tmp_path / "run"
    assert {p.name for p in (run / "wav").iterdir()} == {
        "input.wav", "happy_r0.wav", "happy_r1.wav", "angry_r0.wav", "angry_r1.wav"}
    assert {p.name for p in (run / "plots").glob("*_prosody.png")} == {
        f"{t}_r{k}_prosody.png" for t in ("happy", "angry") for k in (0, 1)}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["run"]["method"] == "prosody" and metrics["run"]["lr"] == 0.03
    for item in metrics["items"]:
        edits = item["prosody"]
        assert set(edits) >= {"families", "pitch_shift_st", "range_scale", "gain_db", "rate",
                              "tilt_db_per_oct", "breathiness", "original_prob",
                              "resynthesis_prob"}
        assert set(edits["pitch_shift_st"]) == {"mean", "min", "max"}
        assert 0.5 - 1e-6 <= edits["range_scale"] <= 2.0 + 1e-6
        assert -12 - 1e-4 <= edits["gain_db"]["min"] <= edits["gain_db"]["max"] <= 12 + 1e-4
        assert 1 / 1.4 - 1e-6 <= edits["rate"] <= 1.4 + 1e-6
        assert abs(edits["resynthesis_prob"] - edits["original_prob"]) < 0.05
        assert item["cues"]["reference_is"] == "input, resynthesized without edits"
        assert "judge_prob" in item
    # the output sits in the window the input sat in: same length, no silence added
    import soundfile as sf

    lengths = {sf.info(p).frames for p in (run / "wav").iterdir()}
    assert len(lengths) == 1, lengths
    # restarts start from different edits
    first, second = (metrics["items"][k]["prosody"]["tilt_db_per_oct"] for k in (0, 1))
    assert first != second
    # the terminal says the edits in words
    assert " st, range x" in result.out and " dB/oct" in result.out
    assert "+" in (run / "report.html").read_text().split("in words")[1][:200]


def test_attribution_runs_each_family_alone_in_the_same_batch(cli, tmp_path, tiny):
    result = cli(*args(tiny, "target=sad", "prosody.attribution=true",
                       "prosody.families=[pitch,loudness]", "cues=false"))
    assert result.code == 0, result.err
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert [i.get("variant") for i in metrics["items"]] == ["all", "pitch", "loudness"]
    assert [i["output"] for i in metrics["items"]] == [
        "wav/sad_r0.wav", "wav/sad_r0_pitch.wav", "wav/sad_r0_loudness.wav"]
    pitch_only, loudness_only = metrics["items"][1]["prosody"], metrics["items"][2]["prosody"]
    assert pitch_only["families"] == ["pitch"] and loudness_only["families"] == ["loudness"]
    assert pitch_only["gain_db"] == {"mean": 0.0, "min": 0.0, "max": 0.0}
    assert pitch_only["range_scale"] != 1.0  # restarts start off the identity
    assert loudness_only["range_scale"] == 1.0 and loudness_only["tilt_db_per_oct"] == 0.0
    assert loudness_only["pitch_shift_st"]["max"] == 0.0
    table = metrics["summary"]["attribution"]
    assert set(table) == {"sad"} and set(table["sad"]["variants"]) == {"all", "pitch", "loudness"}
    pitch = table["sad"]["variants"]["pitch"]
    assert pitch["n"] == 1 and pitch["second"] is None
    assert pitch["best"] == pitch["median"] == pitch["min"] == pitch["max"] == \
        pytest.approx(metrics["items"][1]["target_prob"])
    assert table["sad"]["baseline"] == pytest.approx(metrics["items"][0]["baseline_prob"])
    assert table["sad"]["reading"] and table["sad"]["reading"] in result.out
    assert metrics["summary"]["targets"]["sad"]["items"] == 1  # the answer: all families
    assert (run / "plots" / "attribution.png").stat().st_size > 1000
    page = (run / "report.html").read_text()
    assert "Which control family moves the model" in page and "attribution.png" in page


def test_prosody_on_a_raw_waveform_classifier(cli, tmp_path, tiny):
    result = cli(*args(tiny, "target=happy", "cues=false", classifier="cnn_raw"))
    assert result.code == 0, result.err
    assert (tmp_path / "run" / "wav" / "happy_r0.wav").is_file()


@pytest.mark.parametrize(("extra", "message"), [
    (["prosody.families=[]"], "prosody.families is empty"),
    (["prosody.rate=0.9"], "prosody.rate=0.9; the speaking rate within [1/x, x], more than 1"),
    (["prosody.families=[rhythm]"], "rhythm"),  # not a family: Hydra's error, in one line
    (["mask.area=0.3"], "mask.area= is an option of method=mask, not of method=prosody"),
])
def test_prosody_mistakes(cli, tiny, extra, message):
    result = cli(*args(tiny, "target=happy", *extra))
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1
