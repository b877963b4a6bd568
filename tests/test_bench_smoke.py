"""Every bench script keeps working: each runs in its smoke mode (tiny sizes, seconds) and
writes a result file that its view renders. Slow tier: each starts a Python process that
imports torch and runs amcli."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def bench(script: str, *args: str) -> subprocess.CompletedProcess:
    """``python bench/<script> *args`` from the repository root; it must succeed."""
    done = subprocess.run([sys.executable, f"bench/{script}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def smoke(script: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    return bench(script, "--smoke", *args, "--out", str(out))


def table_rows(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


def test_the_attribution_bench_writes_a_result_its_view_renders(tmp_path, bench_views):
    """bench/attribution.py in a smoke size: the file it writes renders as its printed table."""
    result = bench("attribution.py", "--classifiers", "crnn_mel", "--targets", "sad", "--seeds",
                   "0", "1", "--restarts", "1", "--extra", "steps=2", "min_steps=1",
                   "prosody.families=[loudness,voice]", "prosody.init_candidates=4", "--out",
                   str(tmp_path), "--name",
                   "smoke")
    table = table_rows(bench_views.render("smoke", tmp_path), "|")
    assert table == [line for line in result.stdout.splitlines() if line.startswith("| ")
                     or line.startswith("|---")]
    assert len(table) == 3 and table[2].startswith("| crnn_mel | sad |")
    reprint = bench("attribution.py", "--from", str(tmp_path / "smoke.json"))
    assert table_rows(reprint.stdout, "|") == table


def test_the_real_size_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("real_size.py", tmp_path, "--models", "wav2vec2-base", "ast-base", "--batches", "1",
          "2")
    rendered = bench_views.render("real_size", tmp_path)
    assert "smoke run: test sizes" in rendered
    rows = table_rows(rendered, "| ")[1:]
    assert [r.split("|")[1].strip() for r in rows] == ["wav2vec2-base", "ast-base"]


def test_the_fidelity_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("prosody_fidelity.py", tmp_path)
    rendered = bench_views.render("prosody_fidelity", tmp_path)
    assert "smoke run: one clip" in rendered
    (row,) = table_rows(rendered, "| example clips")
    # the unedited resynthesis gives the clip back, so the change is far under the warning level
    assert row.startswith("| example clips (1) | noise 10 dB | ")
    assert float(row.split("|")[3]) < 0.005


def test_the_validity_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("validity.py", tmp_path)
    (row,) = table_rows(bench_views.render("validity", tmp_path), "| mask |")
    # 1 restart x (happy 2 + sad 4 + angry 4 checks), shares that add up to the whole
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == "10" and sum(int(c.rstrip("%")) for c in cells[2:5]) in (99, 100, 101)


def test_the_readme_figure_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """The smoke run writes its picture beside its result, never over the docs' picture, and
    the caption view quotes the run's own probabilities."""
    picture = ROOT / "docs" / "images" / "prosody_neutral_to_angry.png"
    before = picture.read_bytes()
    smoke("readme_figure.py", tmp_path)
    assert picture.read_bytes() == before and (tmp_path / "readme_figure.png").is_file()
    recorded = json.loads((tmp_path / "readme_figure.json").read_text())["item"]
    caption = bench_views.render("readme_figure", tmp_path, "readme")
    assert f"to {recorded['target_prob']:.2f}" in caption


def test_the_grid_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("prosody_grid.py", tmp_path, "--targets", "angry")
    rows = table_rows(bench_views.render("prosody_grid", tmp_path), "| angry |")
    assert [r.split("|")[2].strip() for r in rows] == [
        "clip-wide grid", "prosody, least edit (defaults)", "prosody, most probable"]


def test_the_mask_table_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("mask_table.py", tmp_path)
    text = bench_views.render("mask_table", tmp_path)
    rows = [line for line in table_rows(text, "| ") if " / " in line]
    assert [r.split("|")[1].strip() for r in rows] == ["neutral", "happy", "sad", "angry"]
    # the clip's own class is the bold cell: the diagonal
    assert all(r.split("|")[k + 2].strip().startswith("**") for k, r in enumerate(rows))
    assert table_rows(text, "| crnn_mel | ")  # the method=input row


def test_the_speed_bench_runs_in_its_smoke_modes(tmp_path, bench_views):
    for extra, name in (([], "am_speed_cpu"), (["--prosody"], "am_speed_cpu_prosody")):
        smoke("am_speed.py", tmp_path, *extra)
        text = bench_views.render(name, tmp_path)
        rows = table_rows(text, "| 1 |") + table_rows(text, "| 2 |")
        assert len(rows) == 2, (name, rows)
        # every rate and every ratio is a positive number
        numbers = [float(cell.strip().rstrip("x")) for row in rows
                   for cell in row.split("|")[1:-1] if cell.strip()[:1].isdigit()]
        assert numbers and min(numbers) > 0, (name, rows)
    # the profile of amcli's loop against the bare one: per operator, then the totals
    smoke("am_speed.py", tmp_path, "--profile", "2")
    result = json.loads((tmp_path / "am_speed_cpu_profile.json").read_text())
    *ops, total = result["profile"]
    assert total["op"] == "total" and result["batch"] == 2
    # amcli runs every operator of the bare step and its own bookkeeping besides
    assert total["amcli_calls"] > total["bare_calls"] > 0
    assert len(ops) == 25  # the operators with the most extra time (a step has far more)
    extra = [r["amcli_cpu_us"] - r["bare_cpu_us"] for r in ops]
    assert extra == sorted(extra, reverse=True)
    assert table_rows(bench_views.render("am_speed_cpu_profile", tmp_path), "| total |")
    wrong = subprocess.run([sys.executable, "bench/am_speed.py", "--profile", "0"], cwd=ROOT,
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "--profile" in wrong.stderr.splitlines()[-1]


def test_the_memory_and_io_benches_run_in_their_smoke_modes(tmp_path, bench_views):
    smoke("prosody_memory.py", tmp_path)
    rows = table_rows(bench_views.render("prosody_memory", tmp_path), "| 1 s |")
    assert len(rows) == 1 and "failed" not in rows[0], rows
    smoke("io_speed.py", tmp_path)
    rows = [line.split("|")[1].strip() for line in
            table_rows(bench_views.render("io_speed", tmp_path), "| ") if line[2].isdigit()]
    # every common rate, TESS's 24,414 Hz included
    assert rows == ["8000", "11025", "16000", "22050", "24414", "44100", "48000"]


def test_the_cue_bench_runs_in_its_smoke_modes(tmp_path, bench_views):
    for extra, name in (([], "synth_cues"), (["--isolate", "loudness"],
                                              "synth_cues_isolate_varied")):
        smoke("synth_cues.py", tmp_path, *extra, "--workers", "2")
        text = bench_views.render(name, tmp_path)
        if extra:
            (row,) = table_rows(text, "| isolate=")
            assert row.startswith("| isolate=[loudness] | neutral, sad, angry | 0.333 |")
        else:
            assert re.search(r"Intended directions met: \d+/13\.", text)


def test_the_schedule_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("prosody_schedule.py", tmp_path)
    rows = table_rows(bench_views.render("prosody_schedule_crnn_mel", tmp_path), "| ")[1:]
    assert [r.split("|")[1].strip() for r in rows] == ["3 steps", "patience 1"]
    assert rows[0].split("|")[3].strip() == "1.00x"  # the first schedule is the reference


def test_the_ground_truth_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    smoke("ground_truth.py", tmp_path, "--name", "gt_smoke")
    text = bench_views.render("gt_smoke", tmp_path)
    (row,) = table_rows(text, "| gt_loudness | loudness | prosody attribution |")
    assert row.split("|")[4].strip().split()[0] in ("yes", "no:")


def test_the_where_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/ground_truth_where.py renders held-out stretched clips, runs every method on them
    and scores each clip; its table has a row per method with a share out of the clips."""
    smoke("ground_truth_where.py", tmp_path, "--name", "where_smoke")
    result = json.loads((tmp_path / "where_smoke.json").read_text())
    scored = result["models"]["gt_loudness_where"]["trained"]
    assert set(scored) == {"mask", "mask, blurred baseline", "prosody edits",
                           "integrated gradients", "saliency x input", "occlusion"}
    for mask in ("mask", "mask, blurred baseline"):
        assert scored[mask]["clips"][0]["verdict"] in ("reached", "not reached",
                                                       "not an explanation")
    for method, found in scored.items():
        assert found["summary"]["n"] == len(found["clips"]) == 1, method
        clip = found["clips"][0]
        assert clip["share"] == pytest.approx(0.3, abs=0.05), method  # the stretch's share
    text = bench_views.render("where_smoke", tmp_path)
    rows = table_rows(text, "| gt_loudness_where (loudness) |")
    shares = [r for r in rows if re.search(r"\| [01]/1 \(", r)]  # placed (95% CI)
    per_class = [r for r in rows if re.search(r"\| sad [01]/1 \|$", r)]  # the smoke's class
    verdicts = [r for r in rows if re.search(r"\| [01] / [01] / [01] \| ", r)]  # the masks'
    assert len(shares) == len(per_class) == 6 and len(verdicts) == 2 and len(rows) == 14


def test_the_voice_cue_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/voice_cues.py measures the voice corpus' classes and amcli's edits of its neutral
    clips on the spectrum: the low-pass of sad shows, and every edit has its row."""
    smoke("voice_cues.py", tmp_path)
    result = json.loads((tmp_path / "voice_cues.json").read_text())
    classes = result["classes"]
    assert classes["sad"]["centroid_hz"] < classes["neutral"]["centroid_hz"] - 300
    assert classes["sad"]["high_db"] < classes["neutral"]["high_db"] - 6
    rows = table_rows(bench_views.render("voice_cues", tmp_path), "| ")
    assert sum(r.startswith("| class ") for r in rows) == 3
    assert sum(r.startswith("| edit: ") for r in rows) == 7


def test_the_together_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/ground_truth_together.py edits held-out combination clips towards the class at the
    other level of both families and scores each clip's attribution row."""
    smoke("ground_truth_together.py", tmp_path, "--name", "together_smoke")
    result = json.loads((tmp_path / "together_smoke.json").read_text())
    found = result["models"]["gt_pitch_loudness"]
    clips = found["trained"]["clips"]
    assert len(clips) == found["trained"]["summary"]["names_both"]["n"] == 2
    assert {(c["clip"].split("_en")[0], c["target"]) for c in clips} == \
        {("low_soft", "high_loud"), ("low_loud", "high_soft")}
    assert all(set(c["alone"]) == {"pitch", "loudness"} for c in clips)
    text = bench_views.render("together_smoke", tmp_path)
    assert len(table_rows(text, "| gt_pitch_loudness (pitch + loudness) | trained |")) == 1


def test_the_needed_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/ground_truth_needed.py edits each clip with every family and without each true
    one (leave-one-out)."""
    smoke("ground_truth_needed.py", tmp_path, "--name", "loo_smoke")
    result = json.loads((tmp_path / "loo_smoke.json").read_text())
    clips = result["models"]["gt_pitch_loudness"]["trained"]["clips"]
    assert len(clips) == 2
    for clip in clips:
        assert set(clip["without"]) == {"pitch", "loudness"}
        assert clip["all_reaches"] == (clip["all"] >= 0.9)
        assert set(clip["needed"]) <= {"pitch", "loudness"}
    text = bench_views.render("loo_smoke", tmp_path)
    assert len(table_rows(text, "| gt_pitch_loudness (pitch + loudness) | trained |")) == 1


def test_the_which_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/ground_truth_which.py edits held-out neutral clips towards the model's other
    classes in turn and scores prosody attribution and the one-axis grid on each clip; run here
    through the ground truth's one entry (bench/ground_truth.py clips), which records the
    script's own command line."""
    from amcli.metrics.ground_truth import verdict

    bench("ground_truth.py", "clips", "--smoke", "--name", "which_smoke", "--out", str(tmp_path))
    result = json.loads((tmp_path / "which_smoke.json").read_text())
    assert result["command"].startswith("python bench/ground_truth_which.py --smoke --name")
    found = result["models"]["gt_tempo"]
    attribution = found["trained"]["prosody attribution"]["clips"]
    grid = found["trained"]["clip-wide grid"]["clips"]
    assert [c["target"] for c in attribution] == [c["target"] for c in grid] == ["sad", "angry"]
    assert all(c["clip"].startswith("neutral_en-") for c in attribution)
    assert all(set(c["strengths"]) == {"pitch", "loudness", "tempo", "voice"}
               for c in attribution)
    assert all(set(c["strengths"]) == {"pitch", "loudness", "tempo"} for c in grid)
    for clip in attribution + grid:  # the rule's verdict, recomputed from the strengths
        assert clip["named"] == verdict(clip["strengths"], "tempo").identified
    assert found["trained"]["clip-wide grid"]["named"]["placed"] == sum(c["named"] for c in grid)
    text = bench_views.render("which_smoke", tmp_path)
    assert len(table_rows(text, "| gt_tempo (tempo) |")) == 2
    # one section per question, each with the tables of the results found there
    shown = bench("ground_truth.py", "tables", "--results", str(tmp_path)).stdout
    sections = shown.split("\n## ")
    assert len(sections) == 6
    which = next(s for s in sections if s.startswith("Which family, clip after clip"))
    assert "### which_smoke" in which and len(table_rows(which, "| gt_tempo (tempo) |")) == 2
    assert sum("No result yet." in s for s in sections) == 5
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = subprocess.run([sys.executable, "bench/ground_truth.py", "tables", "--results",
                              str(empty)], cwd=ROOT, capture_output=True, text=True)
    assert nothing.returncode == 2 and "--out" in nothing.stderr
    assert "Traceback" not in nothing.stderr


def test_the_command_line_bench_runs_in_its_smoke_mode(tmp_path, bench_views):
    """bench/command_lines.py runs the real CLI and keeps what its metrics.json says."""
    import json

    smoke("command_lines.py", tmp_path)
    result = json.loads((tmp_path / "command_line_smoke.json").read_text())
    assert result["args"] == ["target=sad", "restarts=1", "steps=3"]
    assert [i["target"] for i in result["items"]] == ["sad"]
    item = result["items"][0]
    assert item["verdict"] in ("reached", "not reached", "not an explanation")
    assert (item["verdict"] == "reached") == (item["reasons"] == [])
    rows = table_rows(bench_views.render("command_line_smoke", tmp_path), "| sad | 1 |")
    assert len(rows) == 1 and f"{result['items'][0]['target_prob']:.3f}" in rows[0]


def test_the_which_bench_refuses_a_corpus_it_cannot_use_in_one_line(tmp_path):
    """Your own corpus: a folder without metadata.csv, or one without clips of the start class,
    is one line and exit 2, before anything runs."""
    from amcli.data.synth import write_corpus

    write_corpus(tmp_path / "sad_only", engine="numpy", classes=["sad"], n_per_class=2, seed=1)
    for corpus, words in ((tmp_path / "none", "has no metadata.csv"),
                          (tmp_path / "sad_only", "no clips of class 'neutral'")):
        done = subprocess.run([sys.executable, "bench/ground_truth_which.py", "--classifier",
                               "gt_tempo", "--family", "tempo", "--corpus", str(corpus)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2 and words in done.stderr
        assert "Traceback" not in done.stderr


def test_the_augmenting_script_adds_edited_copies_with_their_originals_labels(tmp_path):
    """bench/augment_gt.py: each chosen clip gets an edited copy (amcli's resynthesis, other
    families only) with its original's label and voice; the corpus it reads is left alone and an
    existing output folder is refused."""
    import csv

    import soundfile as sf

    from amcli.data.synth import write_corpus

    write_corpus(tmp_path / "c", engine="numpy", classes=["neutral", "sad"], n_per_class=2,
                 seed=1)
    bench("augment_gt.py", str(tmp_path / "c"), str(tmp_path / "aug"), "--family", "voice")
    with open(tmp_path / "aug" / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    originals, copies = rows[:4], rows[4:]
    assert len(copies) == 4
    assert (tmp_path / "c" / "metadata.csv").read_text().count("\n") == 5  # left alone
    for original, copy in zip(originals, copies, strict=True):
        assert copy["path"] == original["path"].replace(".wav", "_edit0.wav")
        assert (copy["label"], copy["speaker"]) == (original["label"], original["speaker"])
        before, _ = sf.read(tmp_path / "aug" / original["path"])
        after, _ = sf.read(tmp_path / "aug" / copy["path"])
        assert len(after) == len(before) and abs(after - before).max() > 1e-3
    refused = subprocess.run([sys.executable, "bench/augment_gt.py", str(tmp_path / "c"),
                              str(tmp_path / "aug"), "--family", "voice"], cwd=ROOT,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "exists; give a new folder" in refused.stderr
