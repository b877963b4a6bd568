"""Stretched corpora (amcli synth stretch=S): the class cue inside one stretch of each clip only."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from amcli.data.datasets import list_synth
from amcli.data.synth import plan_corpus, render_clip, select_speakers
from amcli.data.synth.cues import FAMILY_CUES, pitch_ratio
from amcli.data.synth.stretch import (
    RAMP_S,
    plan_stretches,
    render_stretched,
    speech_span,
    splice_weight,
    write_stretched_corpus,
)
from amcli.errors import UserError
from amcli.metrics.cues import measure_cues

RATE = 16000


def stretch_plans(family: str, classes: list[str], n: int = 2, at: float | None = None):
    speakers = select_speakers("numpy", "train")
    plans = plan_corpus("numpy", classes, n, speakers, seed=3, isolate=[family])
    return plan_stretches(plans, [family], 0.3, at)


def db(wave: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(wave, dtype=np.float64)) + 1e-20))


@pytest.mark.parametrize("family,classes", [("loudness", ["sad", "angry"]),
                                            ("pitch", ["happy", "sad"])])
def test_outside_the_stretch_a_clip_is_its_neutral_render_and_inside_its_class_render(
        family, classes):
    for plan in stretch_plans(family, classes):
        wave, start_s, end_s = render_stretched(plan, "numpy", RATE)
        outside = render_clip(replace(plan.clip, cues=plan.outside), "numpy", RATE)
        inside = render_clip(plan.clip, "numpy", RATE)
        ramp = int(RAMP_S * RATE)
        start, end = round(start_s * RATE), round(end_s * RATE)
        np.testing.assert_array_equal(wave[: start - ramp], outside[: start - ramp])
        np.testing.assert_array_equal(wave[end + ramp:], outside[end + ramp:])
        np.testing.assert_allclose(wave[start + ramp: end - ramp],
                                   inside[start + ramp: end - ramp], atol=1e-6)
        # only the isolated family's cues differ between the two renders
        changed = {k for k, v in vars(plan.clip.cues).items() if getattr(plan.outside, k) != v}
        assert changed and changed <= set(FAMILY_CUES[family])


def test_a_loudness_stretch_is_its_class_gain_above_the_neutral_one():
    for plan in stretch_plans("loudness", ["neutral", "sad", "angry"]):
        wave, start_s, end_s = render_stretched(plan, "numpy", RATE)
        outside = render_clip(replace(plan.clip, cues=plan.outside), "numpy", RATE)
        a, b = round(start_s * RATE) + 400, round(end_s * RATE) - 400
        wanted = plan.clip.cues.gain_db - plan.outside.gain_db
        assert db(wave[a:b]) - db(outside[a:b]) == pytest.approx(wanted, abs=0.05)
        if plan.clip.label != "neutral":  # sad -8 dB, angry +8 dB, neutral about 0
            assert abs(wanted) > 3


@pytest.mark.slow
def test_a_pitch_stretch_moves_f0_by_the_class_ratio_and_the_clip_keeps_its_length():
    for plan in stretch_plans("pitch", ["happy", "sad"]):
        outside = render_clip(replace(plan.clip, cues=plan.outside), "numpy", RATE)
        inside = render_clip(plan.clip, "numpy", RATE)
        assert len(inside) == len(outside)
        measured = 12 * np.log2(measure_cues(inside, RATE)["f0_mean_hz"]
                                / measure_cues(outside, RATE)["f0_mean_hz"])
        wanted = 12 * np.log2(pitch_ratio(plan.clip.cues.pitch_pct)
                              / pitch_ratio(plan.outside.pitch_pct))
        # the level ratio, give or take what the range (also the pitch family's) adds to the mean
        assert measured == pytest.approx(wanted, abs=2.0)
        assert abs(wanted) > 2 and np.sign(measured) == np.sign(wanted)


def test_the_stretch_lies_in_the_speech_at_its_share_and_place():
    for at in (None, 0.0, 0.7):
        for plan in stretch_plans("loudness", ["angry"], n=3, at=at):
            wave, start_s, end_s = render_stretched(plan, "numpy", RATE)
            first, last = speech_span(render_clip(replace(plan.clip, cues=plan.outside),
                                                  "numpy", RATE), RATE)
            assert first / RATE <= start_s < end_s <= last / RATE + 1e-3
            assert (end_s - start_s) * RATE == pytest.approx(0.3 * (last - first), abs=2)
            if at is not None:
                assert (start_s * RATE - first) == pytest.approx(at * (last - first), abs=2)
    places = {p.at for p in stretch_plans("loudness", ["angry"], n=6)}
    assert len(places) == 6 and all(0 <= a <= 0.7 for a in places)


def test_the_splice_weight_is_one_inside_zero_outside_and_ramps_at_the_edges():
    w = splice_weight(1000, 300, 600, 40)
    assert w[:280].max() == 0 and w[620:].max() == 0 and w[320:580].min() == 1
    assert w[300] == pytest.approx(0.5) and w[600] == pytest.approx(0.5)
    assert np.all(np.diff(w[270:330]) >= 0) and np.all(np.diff(w[570:630]) <= 0)


def test_the_corpus_records_each_stretch_and_loads_as_a_dataset(tmp_path):
    out = tmp_path / "c"
    rows = write_stretched_corpus(out, ["loudness"], 0.3, engine="numpy", n_per_class=2,
                                  workers=1, seed=4)
    with open(out / "metadata.csv", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == len(rows) == 6
    for row in written:
        wave, rate = sf.read(out / row["path"], dtype="float32")
        assert rate == RATE
        assert len(wave) / RATE == pytest.approx(float(row["duration_s"]), abs=1e-4)
        assert 0 <= float(row["stretch_start_s"]) < float(row["stretch_end_s"]) \
            <= float(row["duration_s"])
        assert float(row["stretch_share"]) == 0.3 and row["isolate"] == "loudness"
        assert row["outside_pitch_pct"] == row["pitch_pct"]  # other families as inside
    assert [item.label for item in list_synth(out)] == [r["label"] for r in written]


@pytest.mark.parametrize("kwargs,message", [
    (dict(isolate=["tempo"], classes=["sad"]), "tempo change in one stretch moves the rest"),
    (dict(isolate=["pitch"], classes=["sad"], engine="espeak"), "use engine=numpy"),
    (dict(isolate=[], classes=["sad"]), "stretch needs isolate"),
    (dict(isolate=["loudness"], classes=["sad"], stretch_at=0.8), r"from 0 to 0.7"),
])
def test_a_stretch_that_cannot_be_rendered_is_refused_before_writing(tmp_path, kwargs, message,
                                                                     monkeypatch):
    from amcli.data.synth import corpus

    monkeypatch.setattr(corpus.espeak, "require", lambda: None)
    monkeypatch.setattr(corpus.espeak, "check_voice", lambda voice: None)
    kwargs = {"engine": "numpy", "stretch": 0.3, **kwargs}
    with pytest.raises(UserError, match=message):
        write_stretched_corpus(tmp_path / "c", n_per_class=1, **kwargs)
    assert not (tmp_path / "c").exists()


def test_the_cli_writes_a_stretched_corpus_and_refuses_a_stretch_without_isolate(cli, tmp_path):
    out = tmp_path / "c"
    done = cli("synth", "engine=numpy", f"out={out}", "isolate=[loudness]",
               "classes=[neutral,angry]", "n_per_class=1", "stretch=0.25", "stretch_at=0.5",
               "workers=1", "quiet=true")
    assert done.code == 0, done.err
    rows = list(csv.DictReader(open(out / "metadata.csv", newline="")))
    assert len(rows) == 2 and all(float(r["stretch_share"]) == 0.25 for r in rows)
    refused = cli("synth", "engine=numpy", f"out={tmp_path / 'd'}", "stretch=0.3")
    assert refused.code == 2 and "stretch needs isolate" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    refused = cli("synth", "engine=numpy", f"out={tmp_path / 'd'}", "stretch_at=0.3")
    assert refused.code == 2 and "give stretch=S as well" in refused.err
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_a_stretched_corpus_is_the_same_whatever_the_number_of_workers(tmp_path):
    kwargs = dict(engine="numpy", classes=["sad", "angry"], n_per_class=2, seed=9)
    one = write_stretched_corpus(tmp_path / "a", ["loudness"], 0.3, workers=1, **kwargs)
    two = write_stretched_corpus(tmp_path / "b", ["loudness"], 0.3, workers=2, **kwargs)
    assert one == two
    for row in one:
        a, _ = sf.read(tmp_path / "a" / row["path"], dtype="int16")
        b, _ = sf.read(tmp_path / "b" / row["path"], dtype="int16")
        np.testing.assert_array_equal(a, b)
