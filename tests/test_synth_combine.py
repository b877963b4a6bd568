"""Combination corpora (amcli synth combine=[A,B]): four classes, one per pair of levels."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from amcli.data.datasets import list_synth
from amcli.data.synth import select_speakers
from amcli.data.synth.combine import (
    check_combination,
    class_levels,
    combined_classes,
    plan_combined,
    write_combined_corpus,
)
from amcli.data.synth.cues import ISOLATED
from amcli.errors import UserError
from amcli.metrics.cues import measure_cues

PAIR = ["pitch", "loudness"]


def test_the_classes_are_every_pair_of_levels():
    assert combined_classes(PAIR) == ["low_soft", "low_loud", "high_soft", "high_loud"]
    assert combined_classes(["tempo", "voice"]) == ["slow_dark", "slow_harsh", "fast_dark",
                                                    "fast_harsh"]
    assert class_levels("high_soft", PAIR) == {"pitch": "high", "loudness": "soft"}
    for wrong, message in [(["pitch"], "name two different families"),
                           (["pitch", "pitch"], "name two different families"),
                           (["pitch", "timbre"], "no cue family")]:
        with pytest.raises(UserError, match=message):
            check_combination(wrong)
    with pytest.raises(UserError, match="is not a class of combine"):
        class_levels("loud_high", PAIR)


def test_each_class_takes_its_levels_values_and_the_other_families_vary_alike():
    speakers = select_speakers("numpy", "train")
    plans = plan_combined(combined_classes(PAIR), PAIR, 200, speakers, seed=5)
    by_class = {label: [p.cues for p in plans if p.label == label]
                for label in combined_classes(PAIR)}
    levels = {"low": ISOLATED["pitch"]["sad"]["pitch_pct"][0],
              "high": ISOLATED["pitch"]["happy"]["pitch_pct"][0],
              "soft": ISOLATED["loudness"]["sad"]["gain_db"][0],
              "loud": ISOLATED["loudness"]["angry"]["gain_db"][0]}
    for label, cues in by_class.items():
        pitch, loudness = label.split("_")
        assert np.mean([c.pitch_pct for c in cues]) == pytest.approx(levels[pitch], abs=2.0)
        assert np.mean([c.gain_db for c in cues]) == pytest.approx(levels[loudness], abs=0.5)
    # tempo and voice carry nothing: their draws look the same for every class
    for cue in ("rate_pct", "drive", "lowpass_hz"):
        means = [np.mean([getattr(c, cue) for c in cues]) for cues in by_class.values()]
        spread = np.std([getattr(c, cue) for cues in by_class.values() for c in cues])
        assert max(means) - min(means) < 0.35 * spread, cue


@pytest.mark.slow
def test_rendered_clips_are_higher_and_louder_where_their_class_says(tmp_path):
    rows = write_combined_corpus(tmp_path / "c", PAIR, engine="numpy", n_per_class=3,
                                 speakers=["np-m1"], sentences=[3], jitter=0.0, workers=1)
    measured = {}
    for row in rows:
        wave, rate = sf.read(tmp_path / "c" / row["path"], dtype="float32")
        measured.setdefault(row["label"], []).append(measure_cues(wave, rate))

    def mean(label: str, key: str) -> float:
        return float(np.mean([m[key] for m in measured[label]]))

    for loudness in ("soft", "loud"):  # high vs low pitch, same loudness: about 7 semitones
        ratio = mean(f"high_{loudness}", "f0_mean_hz") / mean(f"low_{loudness}", "f0_mean_hz")
        assert 12 * np.log2(ratio) > 4
    for pitch in ("low", "high"):  # loud vs soft, same pitch: 16 dB
        assert mean(f"{pitch}_loud", "rms_db") - mean(f"{pitch}_soft", "rms_db") \
            == pytest.approx(16.0, abs=3.0)


def test_the_corpus_records_its_families_and_loads_as_a_dataset(tmp_path):
    out = tmp_path / "c"
    rows = write_combined_corpus(out, PAIR, classes=["low_soft", "high_loud"], engine="numpy",
                                 n_per_class=2, workers=1)
    with open(out / "metadata.csv", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [r["label"] for r in written] == [r["label"] for r in rows] == \
        ["low_soft"] * 2 + ["high_loud"] * 2
    assert {r["isolate"] for r in written} == {"pitch+loudness"}
    assert [i.label for i in list_synth(out)] == [r["label"] for r in written]
    with pytest.raises(UserError, match="loud_high is not one of them"):
        write_combined_corpus(tmp_path / "d", PAIR, classes=["loud_high"], engine="numpy")
    assert not (tmp_path / "d").exists()


def test_the_cli_writes_a_combined_corpus_and_refuses_mixed_kinds(cli, tmp_path):
    out = tmp_path / "c"
    done = cli("synth", "engine=numpy", f"out={out}", "combine=[pitch,loudness]",
               "n_per_class=1", "workers=1", "quiet=true")
    assert done.code == 0, done.err
    rows = list(csv.DictReader(open(out / "metadata.csv", newline="")))
    assert [r["label"] for r in rows] == combined_classes(PAIR)
    for argv, message in [(["combine=[pitch,loudness]", "isolate=[pitch]"], "leave out isolate"),
                          (["combine=[pitch,loudness]", "classes=[sad]"], "sad is not one"),
                          (["combine=[pitch]"], "name two different families")]:
        refused = cli("synth", "engine=numpy", f"out={tmp_path / 'd'}", *argv)
        assert refused.code == 2 and message in refused.err, refused.err
        assert len(refused.err.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()
