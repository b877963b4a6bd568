"""Published bench figures come from result files: every ``<!-- amcli:bench NAME -->`` in the
docs names a committed result that renders, and a result file's view recomputes its reading
from the restarts it recorded (so a change of the rule shows in the docs, not only in new runs).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_MARKER = re.compile(r"<!-- amcli:bench\s+([\w-]+)\s*-->")


def views():
    spec = importlib.util.spec_from_file_location("amcli_bench_views", ROOT / "bench" /
                                                  "views.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def markers() -> list[tuple[str, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [(page.name, name) for page in pages
            for name in BENCH_MARKER.findall(page.read_text())]


def test_the_docs_render_bench_tables_from_result_files():
    found = markers()
    assert found, "no page renders a bench result"
    for page, name in found:
        text = views().render(name)
        assert "\n|---|" in text and f"bench/results/{name}.json" in text, (page, name)


def test_the_readme_tables_are_what_their_result_files_give():
    """README blocks are rewritten by `python bench/views.py --update README.md`; a block that
    differs from its result file (typed by hand, or left behind by a new measurement) fails."""
    module = views()
    text = (ROOT / "README.md").read_text()
    assert module.BLOCK.search(text), "the README renders no bench result"
    assert module.update_blocks(text) == text, "run: python bench/views.py --update README.md"


def test_a_readme_block_is_rewritten_from_its_result(tmp_path):
    import json

    result = attribution_result(**{"0": {"voice": [0.64, 0.63], "loudness": [0.56, 0.55]},
                                   "1": {"voice": [0.07, 0.64], "loudness": [0.56, 0.56]}})
    (tmp_path / "r.json").write_text(json.dumps(result))
    text = "before\n<!-- bench:r:begin -->\ntyped by hand\n<!-- bench:r:end -->\nafter\n"
    updated = views().update_blocks(text, tmp_path)
    assert "typed by hand" not in updated and updated.startswith("before\n<!-- bench:r:begin")
    assert "| angry | voice 0.64 † |" in updated
    assert updated.endswith("<!-- bench:r:end -->\nafter\n")


def attribution_result(**seeds: dict[str, list[float]]) -> dict:
    return {"command": "python bench/attribution.py --restarts 4", "date": "2026-12-03T00:00",
            "commit": "abc1234", "cores": 2, "device": "cpu", "targets": ["angry"],
            "restarts": 4, "seeds": list(seeds), "extra": [], "labels": {},
            "runs": {"crnn_raw": {seed: {"angry": {"baseline": 0.01, "values": values}}
                                  for seed, values in seeds.items()}}}


def test_the_attribution_view_reads_the_recorded_restarts(tmp_path):
    import json

    # two voice restarts stuck on seed 1: the median would hand the lead to loudness there
    result = attribution_result(**{
        "0": {"voice": [0.64, 0.63, 0.64, 0.63], "loudness": [0.56] * 4, "all": [0.9] * 4},
        "1": {"voice": [0.07, 0.64, 0.08, 0.63], "loudness": [0.56] * 4, "all": [0.9] * 4}})
    (tmp_path / "stuck.json").write_text(json.dumps(result))
    text = views().render("stuck", tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| crnn_raw"))
    assert "| 0.64 (0.64) |" in row and "| voice / voice | yes |" in row
    assert "The same reading on every seed in 1 of 1 rows (100%)." in text
    assert "commit abc1234: `python bench/attribution.py --restarts 4`" in text


def test_a_missing_result_is_named():
    with pytest.raises(FileNotFoundError, match="no bench result .*nothing_here.json"):
        views().render("nothing_here")


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


def result_files() -> list[Path]:
    return sorted((ROOT / "bench" / "results").glob("*.json"))


def without_environment(words: list[str]) -> list[str]:
    """A command line without its leading ``env NAME=value ...``."""
    while words and (words[0] == "env" or re.fullmatch(r"[A-Z_]+=.*", words[0])):
        words = words[1:]
    return words


def test_every_result_is_remeasured_by_run_all():
    """bench/run_all.sh re-runs exactly the command each committed result records."""
    import json
    import shlex

    listed = subprocess.run(["bash", "bench/run_all.sh", "--list"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    commands = [without_environment(shlex.split(line)) for line in listed]
    for path in result_files():
        recorded = shlex.split(json.loads(path.read_text())["command"])
        assert recorded in commands, (path.name, "add its command to bench/run_all.sh")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_no_result_is_older_than_the_code_it_measures():
    """The rule: a result is stale when a commit after the one it was measured at (a "+dirty"
    result counts as measured at its commit) changed a path its bench MEASURES (the package
    modules, checkpoints and configs its figures depend on; a view's formatting is not among
    them). Re-run the result's line of bench/run_all.sh and commit the file."""
    import json

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the results' commits cannot be compared")
    stale = []
    for path in result_files():
        result = json.loads(path.read_text())
        measured_at = (result.get("commit") or "").split("+")[0]
        assert measured_at, (path.name, "the result records no commit")
        module = views().bench_module(views().script_of(result))
        measures = getattr(module, "MEASURES", None)
        assert measures, (module.__name__, "declares no MEASURES")
        changed = git("log", "--format=%h %s", f"{measured_at}..HEAD", "--", *measures)
        if changed:
            stale.append(f"{path.name} (measured at {measured_at}; since: "
                         f"{changed.splitlines()[0][:70]}...)")
    assert not stale, "stale bench results: " + "; ".join(stale)


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
