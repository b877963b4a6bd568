"""Published bench figures come from result files: every ``<!-- amcli:bench NAME -->`` in the
docs names a committed result that renders, and a result file's view recomputes its reading
from the restarts it recorded (so a change of the rule shows in the docs, not only in new runs).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_MARKER = re.compile(r"<!-- amcli:bench\s+([\w:-]+)\s*-->")




def markers() -> list[tuple[str, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [(page.name, name) for page in pages
            for name in BENCH_MARKER.findall(page.read_text())]


def test_the_docs_render_bench_tables_from_result_files(bench_views):
    found = markers()
    assert found, "no page renders a bench result"
    for page, name in found:
        text = bench_views.render(name)
        file, _, view = name.partition(":")
        assert f"bench/results/{file}.json" in text, (page, name)
        if not view:  # a bench's main view is its table; a named view may be a sentence
            assert "\n|---|" in text, (page, name)
        assert not text.startswith("\nMeasured"), (page, name, "the view rendered nothing")


def test_the_readme_tables_are_what_their_result_files_give(bench_views):
    """README blocks are rewritten by `python bench/views.py --update README.md`; a block that
    differs from its result file (typed by hand, or left behind by a new measurement) fails."""
    module = bench_views
    text = (ROOT / "README.md").read_text()
    assert module.BLOCK.search(text), "the README renders no bench result"
    assert module.update_blocks(text) == text, "run: python bench/views.py --update README.md"


def test_a_readme_block_is_rewritten_from_its_result(tmp_path, bench_views):
    import json

    result = attribution_result(**{"0": {"voice": [0.64, 0.63], "loudness": [0.56, 0.55]},
                                   "1": {"voice": [0.07, 0.64], "loudness": [0.56, 0.56]}})
    (tmp_path / "r.json").write_text(json.dumps(result))
    text = "before\n<!-- bench:r:begin -->\ntyped by hand\n<!-- bench:r:end -->\nafter\n"
    updated = bench_views.update_blocks(text, tmp_path)
    assert "typed by hand" not in updated and updated.startswith("before\n<!-- bench:r:begin")
    assert "| angry | voice 0.64 † |" in updated
    assert updated.endswith("<!-- bench:r:end -->\nafter\n")


def attribution_result(**seeds: dict[str, list[float]]) -> dict:
    return {"command": "python bench/attribution.py --restarts 4", "date": "2026-12-03T00:00",
            "commit": "abc1234", "cores": 2, "device": "cpu", "targets": ["angry"],
            "restarts": 4, "seeds": list(seeds), "extra": [], "labels": {},
            "runs": {"crnn_raw": {seed: {"angry": {"baseline": 0.01, "values": values}}
                                  for seed, values in seeds.items()}}}


def test_the_attribution_view_reads_the_recorded_restarts(tmp_path, bench_views):
    import json

    # two voice restarts stuck on seed 1: the median would hand the lead to loudness there
    result = attribution_result(**{
        "0": {"voice": [0.64, 0.63, 0.64, 0.63], "loudness": [0.56] * 4, "all": [0.9] * 4},
        "1": {"voice": [0.07, 0.64, 0.08, 0.63], "loudness": [0.56] * 4, "all": [0.9] * 4}})
    (tmp_path / "stuck.json").write_text(json.dumps(result))
    text = bench_views.render("stuck", tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| crnn_raw"))
    assert "| 0.64 (0.64) |" in row and "| voice / voice | yes |" in row
    assert "The same reading on every seed in 1 of 1 rows (100%)." in text
    assert "commit abc1234: `python bench/attribution.py --restarts 4`" in text


def test_a_missing_result_is_named(bench_views):
    with pytest.raises(FileNotFoundError, match="no bench result .*nothing_here.json"):
        bench_views.render("nothing_here")


def result_files() -> list[Path]:
    """The committed results (pending.json is the list of stale ones, not a result)."""
    return sorted(p for p in (ROOT / "bench" / "results").glob("*.json")
                  if p.name != "pending.json")


def pending_results() -> dict[str, str]:
    """Stale results whose re-measurement is still to come: name -> reason."""
    import json

    path = ROOT / "bench" / "results" / "pending.json"
    return json.loads(path.read_text()) if path.is_file() else {}


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
    pending = pending_results()
    for path in result_files():
        if path.stem in pending:  # its re-run records the command of its run_all.sh line
            continue
        recorded = shlex.split(json.loads(path.read_text())["command"])
        assert recorded in commands, (path.name, "add its command to bench/run_all.sh")


def test_no_result_is_older_than_the_code_it_measures(bench_views):
    """The rule: a result is stale when the commits after the one it was measured at (a
    "+dirty" result counts as measured at its commit) changed, in substance (bench/substance.py),
    a path its bench MEASURES (the package modules, checkpoints and configs its figures depend
    on; a view's formatting is not among them). Re-run the result's line of bench/run_all.sh
    and commit the file. A result whose re-measurement is still to come is listed, with the
    reason, in bench/results/pending.json, and its table carries an "Out of date" line wherever
    it is rendered; a listed result that is fresh again must leave the list."""
    import json

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the results' commits cannot be compared")
    module = bench_views
    pending = pending_results()
    stale, fresh_but_listed = [], []
    for path in result_files():
        result = json.loads(path.read_text())
        assert (result.get("commit") or "").split("+")[0], (path.name, "no commit recorded")
        bench = module.bench_module(module.script_of(result))
        assert getattr(bench, "MEASURES", None), (bench.__name__, "declares no MEASURES")
        changes = module.changed_since(result, module.measures_of(bench, result))
        if changes and path.stem not in pending:
            stale.append(f"{path.name} (measured at {result['commit']}; since: "
                         f"{changes[0][:60]})")
        if not changes and path.stem in pending:
            fresh_but_listed.append(path.stem)
    assert not stale, "stale bench results: " + "; ".join(stale)
    assert not fresh_but_listed, f"fresh again, remove from pending.json: {fresh_but_listed}"
    assert set(pending) <= {p.stem for p in result_files()}, "pending.json names no result"


def test_a_stale_result_says_so_where_it_is_rendered(bench_views):
    """A result measured before a commit that changed what its bench measures renders with an
    "Out of date" line naming that commit and the command to re-run."""
    module = bench_views
    first = git("rev-list", "--max-parents=0", "HEAD").splitlines()[0]
    result = {"command": "python bench/prosody_fidelity.py --smoke", "date": "2026-01-01",
              "commit": first, "cores": 2, "device": "cpu", "classifiers": ["crnn_mel"],
              "rows": []}
    line = module.stale_line(result, module.bench_module("prosody_fidelity"))
    assert line and line.startswith("**Out of date:**")
    assert "re-run `python bench/prosody_fidelity.py --smoke`" in line
    result["commit"] = git("rev-parse", "--short", "HEAD")
    assert module.stale_line(result, module.bench_module("prosody_fidelity")) is None


def test_a_change_to_one_methods_files_leaves_the_other_methods_results_current(bench_views):
    """The rule is scoped by method: a commit that changed only prosody's own files (its
    module and its YAML) makes the results of prosody runs stale and leaves those of mask runs
    current, for benches that say which methods a result ran."""
    module = bench_views
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the results' commits cannot be compared")
    prosody_only = git("log", "--format=%h", "-1", "--grep",
                       "each item starts from the best of 64 one-family candidates")
    assert prosody_only, "the commit this test names is in main's history"
    touched = git("show", "--name-only", "--format=", prosody_only).split()
    assert "conf/method/prosody.yaml" in touched
    assert not {"amcli/am/methods/mask.py", "conf/method/mask.yaml"} & set(touched)
    bench = module.bench_module("command_lines")
    before = git("rev-parse", "--short", f"{prosody_only}^")

    def changed(method: str) -> list[str]:
        result = {"command": "python bench/command_lines.py", "commit": before,
                  "method": method}
        return [line.split()[0] for line in
                module.changed_since(result, module.measures_of(bench, result))]

    assert prosody_only in changed("prosody")
    assert prosody_only not in changed("mask")
    # a bench that does not say which methods it ran keeps its MEASURES whole
    fidelity = module.bench_module("prosody_fidelity")
    assert module.measures_of(fidelity, {}) == fidelity.MEASURES


def test_the_benches_that_run_optimize_measure_every_module_it_imports(bench_views):
    """The optimize command's import closure (bench/closure.py: lazy imports and the method
    plug-ins included), less the modules bench/pipeline.py names figure-free, lies under the
    paths the benches that run it measure; so does what a method alone imports, for the
    results of that method."""
    import pipeline
    import substance

    figure_free = tuple(f":(exclude){p}" for p in pipeline.FIGURE_FREE)
    imported = substance.files("HEAD", ("module:amcli.commands.optimize", *figure_free))
    measured = substance.files("HEAD", pipeline.OPTIMIZE)
    assert not sorted(set(imported) - set(measured)), "add to bench/pipeline.OPTIMIZE"
    for path in ("amcli/commands/optimize.py", "amcli/features.py", "amcli/metrics/masks.py",
                 "amcli/am/prosody/synthesis.py", "amcli/activity.py"):
        assert path in imported, path
    assert "conf/optimize.yaml" in measured
    assert not any(p.startswith(("amcli/cli/", "amcli/api.py")) for p in imported)
    for name in ("attribution", "command_lines", "ground_truth", "mask_table", "prosody_grid",
                 "prosody_schedule", "readme_figure", "validity"):
        assert set(pipeline.OPTIMIZE) <= set(bench_views.bench_module(name).MEASURES), name


def test_a_bench_naming_an_unknown_method_is_refused(bench_views):
    import types

    bench = types.ModuleType("bench_x")
    bench.MEASURES = ("amcli/am",)
    bench.methods = lambda result: ("masks",)
    with pytest.raises(ValueError, match="names no AM method: \\['masks'\\]"):
        bench_views.measures_of(bench, {})


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_bench_refuses_a_mistyped_condition_in_one_line():
    done = subprocess.run([sys.executable, "bench/prosody_fidelity.py", "--conditions", "loud",
                           "--out", "/nonexistent"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        "unknown condition 'loud': give 'as is', '-20 dB' (a level) or 'noise 20 dB' (white "
        "noise at that SNR)")


def test_the_checkpoint_tables_are_the_sidecars_figures(tmp_path, bench_views):
    """bench/checkpoints.py copies each shipped checkpoint's training figures from its sidecar
    and counts its parameters; the docs render three tables from it."""
    import json

    from amcli.models import load_classifier
    from amcli.resources import checkpoints_dir

    subprocess.run([sys.executable, "bench/checkpoints.py", "--out", str(tmp_path), "--name",
                    "c"], cwd=ROOT, check=True, capture_output=True)
    result = json.loads((tmp_path / "c.json").read_text())
    sidecar = json.loads((checkpoints_dir() / "gt_voice.json").read_text())
    row = next(r for r in result["ground_truth"] if r["name"] == "gt_voice")
    assert row["family"] == "voice" and row["metrics"] == sidecar["metrics"]
    model = load_classifier("cnn_mel")
    counted = sum(p.numel() for p in model.parameters())
    assert next(r for r in result["demo"] if r["name"] == "cnn_mel")["parameters"] == counted
    for view, first in (("demo_table", "| `cnn_mel` |"), ("ground_truth_table", "| `gt_pitch` |"),
                        ("priors_table", "| `gan_mel` |")):
        text = bench_views.render(f"c:{view}", tmp_path)
        assert table_rows_starting(text, first), view
    with pytest.raises(AttributeError, match="no view 'nothing'"):
        bench_views.render("c:nothing", tmp_path)


def table_rows_starting(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


def test_the_index_lists_every_result_with_its_state(tmp_path, bench_views):
    """The benchmarks page's index has a row per result file, pending ones marked so, and a
    total that counts a bench writing several files once."""
    import json

    head = git("rev-parse", "--short", "HEAD")
    base = {"date": "2026-12-04T00:00", "commit": head, "cores": 2, "device": "cpu"}
    runs = {"a": ("python bench/io_speed.py --clips 2", 600.0),
            "b": ("python bench/command_lines.py", 1800.0),
            "c": ("python bench/command_lines.py", 3600.0)}
    for name, (command, seconds) in runs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({**base, "command": command,
                                                           "wall_s": seconds,
                                                           "method": "mask"}))
    (tmp_path / "pending.json").write_text(json.dumps({"a": "re-run later"}))
    text = bench_views.index(tmp_path)
    rows = table_rows_starting(text, "| `")
    assert [row.split(" | ")[0] for row in rows] == ["| `a`", "| `b`", "| `c`"]
    assert "pending re-run" in rows[0] and "| current |" in rows[2]
    assert "ran for 1.2 h" in text  # 10 min + the longer of the two command_lines files


def test_the_benchmarks_page_has_no_typed_table():
    """Every table of docs/benchmarks.md comes from a result file (an ``amcli:bench`` marker the
    docs build renders); a Markdown table row in the page's source was typed by hand."""
    page = ROOT / "docs" / "benchmarks.md"
    typed = [f"line {i}: {line[:60]}" for i, line in enumerate(page.read_text().splitlines(), 1)
             if line.lstrip().startswith("|")]
    assert not typed, "tables typed into docs/benchmarks.md: " + "; ".join(typed[:5])
    assert page.read_text().count("<!-- amcli:bench ") >= 10


def test_compare_tells_changed_figures_from_run_times_and_takes_reruns_in(tmp_path):
    """bench/compare.py: the check after a re-measure, value by value."""
    import json
    import subprocess
    import sys

    committed, rerun = tmp_path / "results", tmp_path / "rerun"
    committed.mkdir()
    rerun.mkdir()
    old = {"command": "x", "date": "then", "commit": "aaa", "wall_s": 10.0, "seconds": 9.0,
           "rows": [{"p": 0.5, "step_ms": 3.0, "leader": "pitch"}], "nan": float("nan")}
    same = {**old, "date": "now", "commit": "bbb", "wall_s": 12.0,
            "rows": [{"p": 0.5, "step_ms": 4.0, "leader": "pitch"}]}
    moved = {**old, "rows": [{"p": 0.6, "step_ms": 3.0, "leader": "voice"}]}
    for folder, results in ((committed, {"a": old, "b": old}), (rerun, {"a": same, "b": moved})):
        for name, result in results.items():
            (folder / f"{name}.json").write_text(json.dumps(result))
    (committed / "pending.json").write_text(json.dumps({"a": "why", "b": "why", "c": "why"}))

    def compare(*args):
        return subprocess.run([sys.executable, "bench/compare.py", "--results", str(committed),
                               "--from", str(rerun), *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)

    one = compare("a")
    assert one.returncode == 0
    assert "a: the same figures (1 run time(s) differ)" in one.stdout  # step_ms
    both = compare("a", "b", "--accept")
    assert both.returncode == 3
    assert "b: 2 figure(s) differ" in both.stdout
    assert "/rows[0]/p: 0.5 -> 0.6" in both.stdout and '"pitch" -> "voice"' in both.stdout
    assert json.loads((committed / "pending.json").read_text()) == {"c": "why"}
    assert json.loads((committed / "b.json").read_text())["rows"][0]["leader"] == "voice"
    bad = compare("nope")
    assert bad.returncode == 2 and "no result file for nope" in bad.stderr.splitlines()[-1]
