"""Every bench script keeps working: each runs in its smoke mode (tiny sizes, seconds) and
writes a result file that its view renders. Slow tier: each starts a Python process that
imports torch and runs amcli."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def views():
    import importlib.util

    spec = importlib.util.spec_from_file_location("amcli_bench_views", ROOT / "bench" /
                                                  "views.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_attribution_bench_writes_a_result_its_view_renders(tmp_path):
    """bench/attribution.py in a smoke size: the file it writes renders as its printed table."""
    result = subprocess.run(
        [sys.executable, "bench/attribution.py", "--classifiers", "crnn_mel", "--targets",
         "sad", "--seeds", "0", "1", "--restarts", "1", "--extra", "steps=2", "min_steps=1",
         "prosody.families=[loudness,voice]", "--out", str(tmp_path), "--name", "smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rendered = views().render("smoke", tmp_path)
    table = [line for line in rendered.splitlines() if line.startswith("|")]
    assert table == [line for line in result.stdout.splitlines() if line.startswith("| ")
                     or line.startswith("|---")]
    assert len(table) == 3 and table[2].startswith("| crnn_mel | sad |")
    reprint = subprocess.run([sys.executable, "bench/attribution.py", "--from",
                              str(tmp_path / "smoke.json")], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert [line for line in reprint.stdout.splitlines() if line.startswith("|")] == table


@pytest.mark.slow
def test_the_real_size_bench_runs_in_its_smoke_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/real_size.py", "--smoke", "--models", "wav2vec2-base",
         "ast-base", "--batches", "1", "2", "--out", str(tmp_path)], cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rendered = views().render("real_size", tmp_path)
    assert "smoke run: test sizes" in rendered
    rows = [line for line in rendered.splitlines() if line.startswith("| ")][1:]
    assert [r.split("|")[1].strip() for r in rows] == ["wav2vec2-base", "ast-base"]


@pytest.mark.slow
def test_the_fidelity_bench_runs_in_its_smoke_mode(tmp_path):
    result = subprocess.run([sys.executable, "bench/prosody_fidelity.py", "--smoke", "--out",
                             str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rendered = views().render("prosody_fidelity", tmp_path)
    assert "smoke run: one clip" in rendered
    row = next(line for line in rendered.splitlines() if line.startswith("| example clips"))
    # the unedited resynthesis gives the clip back, so the change is far under the warning level
    assert row.startswith("| example clips (1) | noise 10 dB | ")
    assert float(row.split("|")[3]) < 0.005


@pytest.mark.slow
def test_the_validity_bench_runs_in_its_smoke_mode(tmp_path):
    result = subprocess.run([sys.executable, "bench/validity.py", "--smoke", "--out",
                             str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rendered = views().render("validity", tmp_path)
    row = next(line for line in rendered.splitlines() if line.startswith("| mask |"))
    # 1 restart x (happy 2 + sad 4 + angry 4 checks), shares that add up to the whole
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == "10" and sum(int(c.rstrip("%")) for c in cells[2:5]) in (99, 100, 101)


@pytest.mark.slow
def test_the_readme_figure_bench_runs_in_its_smoke_mode(tmp_path):
    """The smoke run writes its picture beside its result, never over the docs' picture, and
    the caption view quotes the run's own probabilities."""
    import json

    picture = ROOT / "docs" / "images" / "prosody_neutral_to_angry.png"
    before = picture.read_bytes()
    result = subprocess.run([sys.executable, "bench/readme_figure.py", "--smoke", "--out",
                             str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert picture.read_bytes() == before and (tmp_path / "readme_figure.png").is_file()
    recorded = json.loads((tmp_path / "readme_figure.json").read_text())["item"]
    caption = views().render("readme_figure", tmp_path, "readme")
    assert f"to {recorded['target_prob']:.2f}" in caption


@pytest.mark.slow
def test_the_grid_bench_runs_in_its_smoke_mode(tmp_path):
    result = subprocess.run([sys.executable, "bench/prosody_grid.py", "--smoke", "--targets",
                             "angry", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in views().render("prosody_grid", tmp_path).splitlines()
            if line.startswith("| angry |")]
    assert [r.split("|")[2].strip() for r in rows] == [
        "clip-wide grid", "prosody, least edit (defaults)", "prosody, most probable"]


@pytest.mark.slow
def test_the_mask_table_bench_runs_in_its_smoke_mode(tmp_path):
    result = subprocess.run([sys.executable, "bench/mask_table.py", "--smoke", "--out",
                             str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = views().render("mask_table", tmp_path).splitlines()
    rows = [line for line in lines if line.startswith("| ") and " / " in line]
    assert [r.split("|")[1].strip() for r in rows] == ["neutral", "happy", "sad", "angry"]
    # the clip's own class is the bold cell: the diagonal
    assert all(r.split("|")[k + 2].strip().startswith("**") for k, r in enumerate(rows))
    assert any(line.startswith("| crnn_mel | ") for line in lines)  # the method=input row


@pytest.mark.slow
def test_the_speed_bench_runs_in_its_smoke_modes(tmp_path):
    for extra, name in (([], "am_speed_cpu"), (["--prosody"], "am_speed_cpu_prosody")):
        result = subprocess.run([sys.executable, "bench/am_speed.py", "--smoke", *extra,
                                 "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        rows = [line for line in views().render(name, tmp_path).splitlines()
                if line.startswith("| 1 |") or line.startswith("| 2 |")]
        assert len(rows) == 2, (name, rows)
        # every rate and every ratio is a positive number
        numbers = [float(cell.strip().rstrip("x")) for row in rows
                   for cell in row.split("|")[1:-1] if cell.strip()[:1].isdigit()]
        assert numbers and min(numbers) > 0, (name, rows)


@pytest.mark.slow
def test_the_memory_and_io_benches_run_in_their_smoke_modes(tmp_path):
    for script, name, first in (("prosody_memory.py", "prosody_memory", "| 1 s |"),
                                ("io_speed.py", "io_speed", "| 8000 |")):
        result = subprocess.run([sys.executable, f"bench/{script}", "--smoke", "--out",
                                 str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        rows = [line for line in views().render(name, tmp_path).splitlines()
                if line.startswith(first)]
        assert len(rows) == 1 and "failed" not in rows[0], (name, rows)


@pytest.mark.slow
def test_the_cue_bench_runs_in_its_smoke_modes(tmp_path):
    for extra, name in (([], "synth_cues"), (["--isolate", "loudness"],
                                              "synth_cues_isolate_varied")):
        result = subprocess.run([sys.executable, "bench/synth_cues.py", "--smoke", *extra,
                                 "--workers", "2", "--out", str(tmp_path)], cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        text = views().render(name, tmp_path)
        if extra:
            row = next(line for line in text.splitlines() if line.startswith("| isolate="))
            assert row.startswith("| isolate=[loudness] | neutral, sad, angry | 0.333 |")
        else:
            assert re.search(r"Intended directions met: \d+/13\.", text)
