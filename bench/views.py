"""Tables from bench result files: what the docs show is rendered from bench/results/*.json,
never typed. Each bench script that writes a result file has a ``table(result) -> list[str]``
function (its view); the result file names the script that wrote it (its ``command``).

The MkDocs hook replaces ``<!-- amcli:bench NAME -->`` (or ``NAME:VIEW``) with :func:`render`
of bench/results/NAME.json: the table and a line saying when, where and by which command it was
measured. The README is not built, so its tables live in the file between
``<!-- bench:NAME:begin -->`` and ``<!-- bench:NAME:end -->``, written by
``python bench/views.py --update README.md`` from the bench's ``readme(result)`` view (or its
table); a test fails when a block differs from what its result file gives.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
if str(BENCH) not in sys.path:  # bench/ is not a package: the scripts import their siblings
    sys.path.insert(0, str(BENCH))
import substance  # noqa: E402


def load_result(name: str, folder: Path = RESULTS) -> dict[str, Any]:
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no bench result {path}: run the bench that writes it")
    return json.loads(path.read_text())


def script_of(result: dict[str, Any]) -> str:
    """The bench script that wrote a result (its file stem), from the recorded command."""
    return next(Path(word).stem for word in result["command"].split() if word.endswith(".py"))


def bench_module(stem: str) -> ModuleType:
    """A bench script as a module (the scripts import their siblings, as when run)."""
    name = f"amcli_bench_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{stem}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def provenance_line(result: dict[str, Any]) -> str:
    cores = result.get("cores")
    device = result.get("device", "cpu")
    where = f"{cores} CPU cores" if device == "cpu" else f"{device} ({cores} CPU cores)"
    took = f" in {_duration(result['wall_s'])}" if result.get("wall_s") else ""
    return (f"Measured {result['date'][:10]} on {where}{took}, commit "
            f"{result.get('commit') or '?'}: `{result['command']}` (result file "
            f"`bench/results/{result['_name']}.json`).")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


#: a method's own files beside its module and YAML: code that only that method runs (the mask's
#: parameterization is imported with amcli.am.params by every method, but only a mask run
#: builds one, and only it computes the mask's controls and faithfulness)
METHOD_PACKAGES: dict[str, tuple[str, ...]] = {
    "prosody": ("amcli/am/prosody",),
    "mask": ("amcli/am/params/mask.py", "amcli/metrics/masks.py",
             "amcli/metrics/faithfulness.py"),
}
#: The files that run one AM method only. A result whose bench says which methods it ran (a
#: ``methods(result)`` function beside its MEASURES) does not go stale when another method's
#: own files change: the methods are plug-ins that never import one another. (The cue
#: measurement borrows only the pyworld import from amcli/am/prosody; it changes no figure.)
METHOD_FILES: dict[str, tuple[str, ...]] = {
    yaml.stem: (f"amcli/am/methods/{yaml.stem}.py", f"conf/method/{yaml.stem}.yaml",
                *METHOD_PACKAGES.get(yaml.stem, ()))
    for yaml in sorted((BENCH.parent / "conf" / "method").glob("*.yaml"))}


def measures_of(module: ModuleType, result: dict[str, Any]) -> tuple[str, ...]:
    """The paths one result depends on: its bench's MEASURES, less the own files of every
    method the result did not run (as git pathspec exclusions), when the bench says which
    methods it ran."""
    measures = tuple(getattr(module, "MEASURES", ()))
    ran = getattr(module, "methods", None)
    if ran is None or not measures:
        return measures
    used = set(ran(result))
    unknown = used - set(METHOD_FILES)
    if unknown:
        raise ValueError(f"{module.__name__}.methods names no AM method: {sorted(unknown)}")
    others = [path for method, paths in METHOD_FILES.items() if method not in used
              for path in paths]
    return (*measures, *(f":(exclude){path}" for path in others))


def changed_since(result: dict[str, Any], measures: tuple[str, ...]) -> list[str]:
    """The commits after the result's own ("+dirty" counts as its commit) that changed a path
    the bench measures, newest first ("<hash> <subject>"), when together they changed that code
    in substance (bench/substance.py: not only docstrings, comments, layout, imports or which
    measured file holds a definition); [] when they did not, or when git cannot tell."""
    measured_at = (result.get("commit") or "").split("+")[0]
    if not measured_at or not measures:
        return []
    try:
        paths = sorted(set(substance.files(measured_at, measures)) |
                       set(substance.files("HEAD", measures)))
        done = subprocess.run(["git", "log", "--format=%h %s", f"{measured_at}..HEAD", "--",
                               *paths], cwd=BENCH.parent, capture_output=True, text=True,
                              check=True) if paths else None
        commits = done.stdout.splitlines() if done else []
        if commits and not substance.changed(measured_at, "HEAD", measures):
            return []
    except (OSError, subprocess.CalledProcessError):
        return []
    return commits


def stale_line(result: dict[str, Any], module: ModuleType) -> str | None:
    """A warning for a result older than the code it measures (see bench/run_all.sh)."""
    changes = changed_since(result, measures_of(module, result))
    if not changes:
        return None
    latest = changes[0] if len(changes[0]) <= 90 else changes[0][:87] + "..."
    return (f"**Out of date:** {len(changes)} later commit(s) changed what this measures "
            f"(latest: {latest}); re-run `{result['command']}`.")


def render(name: str, folder: Path = RESULTS, view: str = "table") -> str:
    """The Markdown of one result: the bench's ``view`` of it (its ``table``, or another view
    such as ``readme``, falling back to the table), then where it comes from, and a warning
    when the code it measures changed since. ``name`` may name its view, as "NAME:VIEW" (one
    result file with several tables, shown in different places)."""
    name, _, named_view = name.partition(":")
    if named_view:
        view = named_view
    result = load_result(name, folder)
    result["_name"] = name
    module = bench_module(script_of(result))
    if named_view and not hasattr(module, named_view):
        raise AttributeError(f"bench/{script_of(result)}.py has no view {named_view!r}")
    lines = (getattr(module, view, None) or module.table)(result)
    stale = stale_line(result, module) if folder == RESULTS else None
    return "\n".join([*lines, "", provenance_line(result), *(["", stale] if stale else []), ""])


def index(folder: Path = RESULTS) -> str:
    """Every result file in one table: what wrote it, when, at which commit, how long it ran,
    and whether the code it measures changed since; then the total time of a re-measurement
    (the sum of the results' own run times; a bench that writes several files counts once)."""
    pending = json.loads((folder / "pending.json").read_text()) \
        if (folder / "pending.json").is_file() else {}
    lines = ["| result | measured | commit | ran for | state | command |",
             "|---|---|---|---|---|---|"]
    runs: dict[str, float] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name == "pending.json":
            continue
        result = json.loads(path.read_text())
        module = bench_module(script_of(result))
        changes = changed_since(result, measures_of(module, result))
        state = "pending re-run" if path.stem in pending else \
            (f"out of date ({len(changes)} commits)" if changes else "current")
        seconds = result.get("wall_s")
        if seconds:  # one process, several files: its last file has its whole time
            runs[result["command"]] = max(runs.get(result["command"], 0.0), seconds)
        lines.append(f"| `{path.stem}` | {result['date'][:10]} | {result.get('commit') or '?'} | "
                     f"{_duration(seconds) if seconds else '-'} | {state} | "
                     f"`{result['command']}` |")
    total = sum(runs.values())
    untimed = sum(1 for line in lines[2:] if "| - |" in line)
    note = f" ({untimed} results measured before run times were recorded are not in it)" \
        if untimed else ""
    return "\n".join([*lines, "", f"Together they ran for {total / 3600:.1f} h (each bench's own "
                       f"run time, some while other benches shared the machine){note}.", ""])


BLOCK = re.compile(r"(<!-- bench:([\w-]+):begin -->\n)(.*?)(<!-- bench:\2:end -->)", re.S)


def update_blocks(text: str, folder: Path = RESULTS) -> str:
    """``text`` with every bench block rewritten from its result file."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group(2), folder, "readme") + m.group(4),
                     text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the bench blocks of Markdown files "
                                                 "from bench/results.")
    parser.add_argument("--update", nargs="+", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in args.update:
        text = path.read_text()
        updated = update_blocks(text)
        if updated != text:
            path.write_text(updated)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
