"""`amcli report DIR`: sweep summaries rebuilt from disk, run summaries, cues of WAV folders."""

from __future__ import annotations

import csv
import shutil

from amcli.resources import example_clip


def test_report_rebuilds_a_sweep_summary_identically(cli, tmp_path, tiny):
    sweep = tmp_path / "sweep"
    result = cli("optimize", "-m", f"classifier={tiny / 'cnn_raw.json'}", "steps=4",
                 "min_steps=1", "record_every=2", "quiet=true", "cues=false",
                 f"hydra.sweep.dir={sweep}", "target=angry,furious")
    assert result.code == 2
    original = (sweep / "summary.csv").read_text()
    page = (sweep / "index.html").read_text()
    assert "0/report.html" in page and "failed" in page and "unknown target" in page
    (sweep / "summary.csv").unlink()
    (sweep / "index.html").unlink()
    report = cli("report", str(sweep))
    assert report.code == 0, report.err
    assert (sweep / "summary.csv").read_text() == original
    assert (sweep / "index.html").read_text() == page
    assert "failed" in report.out and "unknown target" in report.out


def test_report_on_a_run_folder_and_on_a_folder_of_wavs(cli, tmp_path, tiny):
    run = tmp_path / "one"
    assert cli("optimize", f"classifier={tiny / 'cnn_raw.json'}", "steps=4", "min_steps=1",
               "quiet=true", "cues=false", "target=sad", f"hydra.run.dir={run}").code == 0
    page = (run / "report.html").read_text()
    with open(run / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["target"] for r in rows] == ["sad"] and float(rows[0]["target_prob"]) >= 0
    assert rows[0]["binarized_prob"] != ""  # a mask run: its controls are in the table
    assert 'src="wav/sad_r0.wav"' in page and 'src="plots/sad_r0_mask.png"' in page
    (run / "report.html").unlink()
    summary = cli("report", str(run))
    assert summary.code == 0 and "p(sad)" in summary.out and "(DONE)" in summary.out
    assert (run / "report.html").read_text() == page
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    for label in ("angry", "sad"):
        shutil.copy(example_clip(label), wavs / f"{label}.wav")
    cues = cli("report", str(wavs))
    assert cues.code == 0, cues.err
    with open(wavs / "cues.csv", newline="") as handle:
        rows = {r["file"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"angry.wav", "sad.wav"}
    assert float(rows["angry.wav"]["rms_db"]) > float(rows["sad.wav"]["rms_db"]) + 6
    assert cli("report", str(wavs)).code == 0  # its own cues.csv: rewritten
    (wavs / "cues.csv").write_text("my own table\n")
    refused = cli("report", str(wavs))
    assert refused.code == 2 and "amcli did not write it" in refused.err
    assert (wavs / "cues.csv").read_text() == "my own table\n"


def test_report_mistakes(cli, tmp_path):
    assert cli("report").code == 2
    missing = cli("report", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "is not a folder" in missing.err
    empty = cli("report", str(tmp_path))
    assert empty.code == 2 and "no sweep jobs" in empty.err
