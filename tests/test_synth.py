"""The synthetic corpus: determinism, layout and labels, cue directions, espeak-ng checks."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from amcli.data.synth import (
    COLUMNS,
    SYNTH_CLASSES,
    plan_corpus,
    read_metadata,
    render_clip,
    select_speakers,
    write_corpus,
)
from amcli.data.synth import espeak as espeak_engine
from amcli.data.synth.speakers import Speaker
from amcli.errors import UserError
from amcli.metrics.cues import measure_cues


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.wav"))
    }


def test_numpy_corpus_is_deterministic_by_seed_and_independent_of_workers(tmp_path):
    kwargs = dict(engine="numpy", n_per_class=3, seed=5)
    write_corpus(tmp_path / "a", workers=1, **kwargs)
    write_corpus(tmp_path / "b", workers=2, **kwargs)
    write_corpus(tmp_path / "c", workers=1, engine="numpy", n_per_class=3, seed=6)
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert len(a) == 12 and a == b
    assert (tmp_path / "a" / "metadata.csv").read_bytes() == (tmp_path / "b" /
                                                                "metadata.csv").read_bytes()
    assert set(a.values()).isdisjoint(c.values())


def test_metadata_matches_the_folder_layout_and_labels(tmp_path):
    rows = write_corpus(tmp_path, engine="numpy", n_per_class=4, classes=["sad", "angry"],
                        workers=1)
    meta = read_metadata(tmp_path)
    assert len(meta) == len(rows) == 8
    assert list(meta[0]) == list(COLUMNS)
    for row in meta:
        path = tmp_path / row["path"]
        assert path.is_file() and path.parent.name == row["label"]
        assert row["label"] in ("sad", "angry") and row["engine"] == "numpy"
        wave, rate = sf.read(path)
        assert rate == 16000 and wave.ndim == 1
        assert float(row["duration_s"]) == pytest.approx(len(wave) / rate, abs=1e-3)
        assert float(row["write_gain"]) == 1.0  # the level leaves headroom: nothing was limited
    assert {r["label"] for r in meta} == {"sad", "angry"}
    sad_lowpass = [float(r["lowpass_hz"]) for r in meta if r["label"] == "sad"]
    assert all(f >= 1000 for f in sad_lowpass)


def test_plan_is_balanced_over_speakers(tmp_path):
    speakers = select_speakers("numpy", "train")
    plans = plan_corpus("numpy", ["happy"], 2 * len(speakers) * 12, speakers, seed=0)
    counts = {s.id: sum(p.speaker.id == s.id for p in plans) for s in speakers}
    assert set(counts.values()) == {24}


def test_held_out_speaker_never_in_the_training_selection():
    for engine in ("espeak", "numpy"):
        train = {s.id for s in select_speakers(engine, "train")}
        held = {s.id for s in select_speakers(engine, "holdout")}
        assert held and train and not train & held
        assert train | held == {s.id for s in select_speakers(engine, "all")}


def test_incomplete_or_foreign_folders_are_refused(tmp_path):
    with pytest.raises(UserError, match="no metadata.csv"):
        read_metadata(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        write_corpus(tmp_path, engine="numpy", n_per_class=1, workers=1)
    with pytest.raises(UserError, match="amcli did not write a corpus there"):
        write_corpus(tmp_path, engine="numpy", n_per_class=1, workers=1, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_folder_of_the_users_recordings_survives_synth_into_it(tmp_path, cli):
    """Class-named folders of WAVs and a README, no metadata.csv: the user's own data."""
    import numpy as np
    import soundfile as sf

    mine = tmp_path / "recordings"
    for label in ("neutral", "angry"):
        (mine / label).mkdir(parents=True)
        sf.write(mine / label / "take1.wav", np.zeros(1600, dtype=np.float32), 16000)
    (mine / "README").write_text("my corpus")
    before = sorted(p.relative_to(mine) for p in mine.rglob("*"))
    for extra in ([], ["overwrite=true"]):
        result = cli("synth", f"out={mine}", "engine=numpy", "n_per_class=1", "quiet=true",
                     *extra)
        assert result.code == 2 and "amcli did not write a corpus there" in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert sorted(p.relative_to(mine) for p in mine.rglob("*")) == before


def test_overwrite_removes_only_what_the_corpus_wrote(tmp_path):
    write_corpus(tmp_path, engine="numpy", n_per_class=1, classes=["sad"], workers=1)
    (tmp_path / "sad" / "my_note.txt").write_text("keep me")
    write_corpus(tmp_path, engine="numpy", n_per_class=1, classes=["angry"], workers=1,
                 overwrite=True)
    assert (tmp_path / "sad" / "my_note.txt").read_text() == "keep me"
    assert not list((tmp_path / "sad").glob("*.wav"))
    assert (tmp_path / ".amcli").is_file()


def test_overwrite_replaces_a_previous_corpus(tmp_path):
    write_corpus(tmp_path, engine="numpy", n_per_class=2, workers=1)
    write_corpus(tmp_path, engine="numpy", n_per_class=1, classes=["angry"], workers=1,
                 overwrite=True)
    assert len(list(tmp_path.rglob("*.wav"))) == 1
    assert len(read_metadata(tmp_path)) == 1


def class_cues(engine: str, speaker_id: str, sentence_id: int = 8) -> dict[str, dict]:
    """Cues of each class' prototype (jitter 0) for one speaker and sentence."""
    speakers = select_speakers(engine, [speaker_id])
    cues = {}
    for label in SYNTH_CLASSES:
        plan = next(p for p in plan_corpus(engine, [label], 12, speakers, seed=0, jitter=0.0)
                    if p.sentence_id == sentence_id)
        cues[label] = measure_cues(render_clip(plan, engine, 16000), 16000)
    return cues


def assert_intended_directions(c: dict[str, dict]) -> None:
    neutral = c["neutral"]
    assert c["angry"]["rms_db"] > neutral["rms_db"] + 3
    assert c["sad"]["rms_db"] < neutral["rms_db"] - 3
    for label in ("angry", "happy"):
        assert c[label]["f0_mean_hz"] > neutral["f0_mean_hz"] * 1.05
        assert c[label]["f0_spread_st"] > neutral["f0_spread_st"]
        assert c[label]["active_s"] < neutral["active_s"]  # faster
    assert c["sad"]["f0_mean_hz"] < neutral["f0_mean_hz"] * 0.95
    assert c["sad"]["f0_spread_st"] < neutral["f0_spread_st"]
    assert c["sad"]["active_s"] > neutral["active_s"]  # slower
    assert c["sad"]["centroid_hz"] < neutral["centroid_hz"]  # darker
    assert c["angry"]["centroid_hz"] > neutral["centroid_hz"]  # brighter


def test_numpy_engine_cue_directions():
    assert_intended_directions(class_cues("numpy", "np-f3"))


def test_espeak_engine_cue_directions(espeak):
    assert_intended_directions(class_cues("espeak", "en-m4"))


def test_espeak_misspelled_voice_or_variant_is_refused(espeak):
    with pytest.raises(UserError, match="no voice variant 'm9'"):
        espeak_engine.check_voice("en+m9")
    with pytest.raises(UserError, match="no voice 'enn'"):
        espeak_engine.check_voice("enn+m3")
    espeak_engine.check_voice("en-us+f5")  # a real one passes


def test_espeak_every_speaker_sounds_different(espeak):
    """Guards against variants that espeak-ng silently ignores (en-gb+m3 in 1.51)."""
    from amcli.data.synth.cues import sample_cues

    neutral = sample_cues("neutral", np.random.default_rng(0), jitter=0.0)
    raw = {}
    for speaker in select_speakers("espeak", "all"):
        bare = Speaker(speaker.id, speaker.voice, pitch=50, rate=170)  # no per-speaker offsets
        wave, _ = espeak_engine.render("Hello there.", bare, neutral)
        raw[speaker.id] = hashlib.sha256(wave.tobytes()).hexdigest()
    assert len(set(raw.values())) == len(raw) == 26


def test_espeak_that_exits_0_without_audio_is_an_error(monkeypatch):
    """espeak-ng exits 0 on an invalid option and writes nothing: `true` does the same."""
    from amcli.data.synth.cues import sample_cues

    monkeypatch.setattr(espeak_engine, "EXECUTABLE", "true")
    speaker = Speaker("x", "en+m1", pitch=50, rate=170)
    cues = sample_cues("neutral", np.random.default_rng(0), jitter=0.0)
    with pytest.raises(RuntimeError, match="wrote no audio"):
        espeak_engine.render("Hello.", speaker, cues)


def test_missing_espeak_gives_the_apt_command(monkeypatch):
    monkeypatch.setattr(espeak_engine.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="apt-get install espeak-ng"):
        espeak_engine.require()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numpy", "espeak"])
def test_cli_writes_200_clips_and_metadata(cli, tmp_path, engine, request):
    if engine == "espeak":
        request.getfixturevalue("espeak")
    out = tmp_path / "corpus"
    result = cli("synth", f"engine={engine}", f"out={out}", "n_per_class=50", "quiet=true")
    assert result.code == 0, result.err
    assert len(list(out.rglob("*.wav"))) == 200
    with open(out / "metadata.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200
    assert {r["label"] for r in rows} == set(SYNTH_CLASSES)
    assert all(r["engine"] == engine for r in rows)
    assert len({r["speaker"] for r in rows}) >= 12


def test_cli_default_output_is_inside_the_hydra_run_dir(cli, tmp_path):
    result = cli("synth", "engine=numpy", "n_per_class=1", "quiet=true")
    assert result.code == 0, result.err
    assert (tmp_path / "run" / "corpus" / "metadata.csv").is_file()
    assert (tmp_path / "run" / ".hydra" / "config.yaml").is_file()


def test_espeak_corpus_is_deterministic_by_seed_and_independent_of_workers(espeak, tmp_path):
    kwargs = dict(engine="espeak", n_per_class=2, seed=11)
    write_corpus(tmp_path / "a", workers=1, **kwargs)
    write_corpus(tmp_path / "b", workers=2, **kwargs)
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert len(a) == 8 and a == b


# ---- cue-isolated corpora ----------------------------------------------------------------------

#: per family: the cues that must move between its classes, and by at least how much
ISOLATION = {
    "pitch": {"f0_mean_st": 3.0},
    "loudness": {"rms_db": 6.0},
    "tempo": {"active_s": 0.25},
    "voice": {"centroid_hz": 100.0},
}
#: how far the other cues may move (prototypes, one voice; the engine still draws its own
#: micro-prosody per clip, which moves the F0 mean by up to about 0.7 semitone)
STILL = {"rms_db": 1.0, "f0_mean_st": 1.0, "active_s": 0.08, "centroid_hz": 120.0}


@pytest.mark.parametrize("family", list(ISOLATION))
def test_an_isolated_corpus_differs_between_classes_in_its_family_only(tmp_path, family):
    """One voice, one sentence, every class at its prototype: the family's cues move (the
    loudness corpus in RMS only), every other cue stays within tolerance."""
    from amcli.data.synth.cues import isolated_classes
    from amcli.metrics.cues import cue_shift

    classes = isolated_classes([family])
    rows = write_corpus(tmp_path / family, engine="numpy", classes=classes, n_per_class=1,
                        speakers=["np-m1"], sentences=[4], jitter=0, workers=1,
                        isolate=[family])
    assert {r["isolate"] for r in rows} == {family}
    cues = {r["label"]: measure_cues(*sf.read(tmp_path / family / r["path"])) for r in rows}
    for label in classes[1:]:
        shift = cue_shift(cues[label], cues["neutral"])
        shift["active_s"] = cues[label]["active_s"] - cues["neutral"]["active_s"]
        for cue, least in ISOLATION[family].items():
            assert abs(shift[cue]) >= least, (family, label, cue, shift[cue])
        for cue, most in STILL.items():
            if cue not in ISOLATION[family]:
                assert abs(shift[cue]) <= most, (family, label, cue, shift[cue])


def test_isolation_refuses_classes_the_family_cannot_separate(tmp_path):
    with pytest.raises(UserError, match=r"isolate=\[tempo\] separates only neutral, sad, angry"):
        write_corpus(tmp_path / "c", engine="numpy", n_per_class=1, isolate=["tempo"])
    with pytest.raises(UserError, match="no cue family"):
        write_corpus(tmp_path / "c", engine="numpy", classes=["neutral"], n_per_class=1,
                     isolate=["timbre"])


def test_the_families_not_isolated_vary_alike_for_every_class():
    """others=varied: the loudness corpus' classes differ in gain only, while pitch, rate and
    voice are drawn over their whole span with the same distribution for every class (so a
    model learns to ignore them); others=neutral keeps them at the neutral profile."""
    speakers = select_speakers("numpy", "train")
    classes = ["neutral", "sad", "angry"]

    def cues(others: str) -> dict[str, dict[str, np.ndarray]]:
        plans = plan_corpus("numpy", classes, 300, speakers, seed=5, isolate=["loudness"],
                            others=others)
        return {c: {k: np.array([getattr(p.cues, k) for p in plans if p.label == c])
                    for k in ("gain_db", "pitch_pct", "range_pct", "rate_pct", "drive",
                              "lowpass_hz")} for c in classes}

    varied = cues("varied")
    gains = [varied[c]["gain_db"].mean() for c in classes]
    assert gains == pytest.approx([0.0, -8.0, 8.0], abs=0.5)
    for key, spread in (("pitch_pct", 20.0), ("range_pct", 35.0), ("rate_pct", 15.0)):
        means = [varied[c][key].mean() for c in classes]
        assert max(means) - min(means) < 0.25 * spread, (key, means)
        assert all(varied[c][key].std() > spread for c in classes), key
    for c in classes:  # plain, dark or harsh, about a third each, for every class
        assert 0.25 < (varied[c]["drive"] > 0).mean() < 0.42
        assert 0.25 < (varied[c]["lowpass_hz"] > 0).mean() < 0.42
        assert not ((varied[c]["drive"] > 0) & (varied[c]["lowpass_hz"] > 0)).any()
    neutral = cues("neutral")
    assert all(neutral[c]["rate_pct"].std() < 6.0 for c in classes)
    assert all((neutral[c]["drive"] == 0).all() for c in classes)
    with pytest.raises(UserError, match="others=wild; use one of varied, neutral"):
        write_corpus("unused", engine="numpy", classes=classes, n_per_class=1,
                     isolate=["loudness"], others="wild")
