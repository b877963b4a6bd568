"""Did a re-run change a result's figures? Compare results value by value, and take in re-runs.

A re-measure (after a change to measured code) ends in one question per result: are the figures
the same? This compares a re-run's result files with the committed ones, key by key and element by
element, leaving out where the result comes from (command, date, commit, machine, versions) and
reporting run times apart from figures, since those always differ.

    python bench/compare.py --from /tmp/wt/bench/results command_line_mask ground_truth_others
    python bench/compare.py --from /tmp/wt/bench/results --accept command_line_mask

``--accept`` copies the re-runs into bench/results and takes them off pending.json (the list of
results older than the code they measure), whether or not their figures changed: say which did
in the commit. Exit status 0 when every figure is the same, 3 when any differs, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

from results_file import PROVENANCE, RESULTS  # bench/ is the script's own folder


def is_timing(key: str) -> bool:
    """A run time (seconds or milliseconds), which differs from run to run by design."""
    return key in ("seconds", "wall_s") or key.endswith(("_s", "_ms", "_seconds"))


def differences(old: Any, new: Any, path: str = "") -> tuple[list[str], list[str]]:
    """(figures that differ, run times that differ), each as "path: old -> new"."""
    figures: list[str] = []
    timings: list[str] = []

    def walk(a: Any, b: Any, where: str, timing: bool) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                if not where and key in PROVENANCE:
                    continue
                if key not in a or key not in b:
                    figures.append(f"{where}/{key}: only in the {'re-run' if key in b else 'old'}")
                    continue
                walk(a[key], b[key], f"{where}/{key}", timing or is_timing(str(key)))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]", timing)
        elif not same(a, b):
            (timings if timing else figures).append(f"{where}: {short(a)} -> {short(b)}")

    walk(old, new, path, False)
    return figures, timings


def same(a: Any, b: Any) -> bool:
    """Equal values (1 and 1.0 alike), NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="result names (bench/results/<name>.json)")
    parser.add_argument("--from", dest="source", type=Path, required=True,
                        help="the folder holding the re-runs' result files")
    parser.add_argument("--accept", action="store_true",
                        help="copy the re-runs in and take them off pending.json")
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    parser.add_argument("--show", type=int, default=12, help="differences shown per result")
    args = parser.parse_args(argv)
    missing = [n for n in args.names for folder in (args.results, args.source)
               if not (folder / f"{n}.json").is_file()]
    if missing:
        parser.error(f"no result file for {', '.join(sorted(set(missing)))} in "
                     f"{args.results} or {args.source}")
    changed = 0
    for name in args.names:
        old = json.loads((args.results / f"{name}.json").read_text())
        new = json.loads((args.source / f"{name}.json").read_text())
        figures, timings = differences(old, new)
        changed += bool(figures)
        verdict = "the same figures" if not figures else f"{len(figures)} figure(s) differ"
        print(f"{name}: {verdict} ({len(timings)} run time(s) differ)")
        for line in figures[:args.show]:
            print(f"    {line}")
        if len(figures) > args.show:
            print(f"    ... and {len(figures) - args.show} more")
    if args.accept:
        pending_file = args.results / "pending.json"
        pending = json.loads(pending_file.read_text()) if pending_file.is_file() else {}
        for name in args.names:
            shutil.copy(args.source / f"{name}.json", args.results / f"{name}.json")
            pending.pop(name, None)
        pending_file.write_text(json.dumps(dict(sorted(pending.items())), indent=1) + "\n")
        print(f"accepted {len(args.names)}; {len(pending)} result(s) still pending")
    return 3 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
