"""Fewer steps for the same answer? Prosody attribution of the neutral example clip, every
step (300) against shorter schedules, in one run (side by side, same machine).

For each schedule and each seed: `amcli optimize method=prosody prosody.attribution=true` on
the neutral example clip for happy, sad and angry; the wall time, the mean steps an item ran, and
each target's reading (the leading family, or the families that tie). Two seeds per schedule say
whether the reading is stable; the last columns say whether it agrees with every step's.

    python bench/prosody_schedule.py --classifier crnn_mel --seeds 0 1 --restarts 2
    python bench/prosody_schedule.py --smoke   # seconds: the script runs

Writes bench/results/prosody_schedule_<classifier>.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.cli import main as amcli
from amcli.metrics.attribution import reading_label
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = OPTIMIZE


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)

#: name -> overrides; the first is the reference the others are compared with (every step, as
#: the prosody method ran before it stopped items whose best state had stopped improving)
SCHEDULES = {
    "300 steps": ["patience=null"],
    "patience 40": ["patience=40", "min_steps=60"],
    "patience 20": ["patience=20", "min_steps=40"],
}


#: --smoke: two schedules of a few steps, to check that the script runs
SMOKE_SCHEDULES = {"3 steps": ["steps=3", "min_steps=1", "prosody.families=[loudness,voice]",
                               "prosody.init_candidates=4"],
                   "patience 1": ["steps=3", "min_steps=1", "patience=1",
                                  "prosody.families=[loudness,voice]",
                                  "prosody.init_candidates=4"]}


def run(classifier: str, targets: list[str], restarts: int, seed: int, extra: list[str],
        folder: Path) -> dict:
    argv = ["optimize", "method=prosody", "prosody.attribution=true", f"classifier={classifier}",
            f"input={example_clip('neutral')}", f"target=[{','.join(targets)}]",
            f"restarts={restarts}", f"seed={seed}", "quiet=true", "cues=false", "judge=null",
            f"hydra.run.dir={folder}", *extra]
    started = time.perf_counter()
    if amcli(argv) != 0:
        raise SystemExit(f"amcli {' '.join(argv)} failed")
    wall = time.perf_counter() - started
    metrics = json.loads((folder / "metrics.json").read_text())
    steps = [i["steps"] for i in metrics["items"]]
    table = metrics["summary"]["attribution"]
    return {"wall_s": wall, "mean_steps": sum(steps) / len(steps), "max_steps": max(steps),
            "readings": {t: reading_label(table[t]) for t in targets},
            "leaders": {t: table[t]["variants"] for t in targets}}


def table(result: dict) -> list[str]:
    """The schedules side by side (the view the docs render from the result file)."""
    targets = result["targets"]
    smoke = " Smoke run: not a measurement." if result.get("smoke") else ""
    lines = [f"{result['classifier']}, neutral example clip, targets {', '.join(targets)}, "
             f"{result['restarts']} restarts, seeds {', '.join(map(str, result['seeds']))}."
             f"{smoke}", "",
             "| schedule | wall s (per seed) | speed-up | mean / max steps per item | "
             "readings (first seed) | same across seeds | same as the first schedule |",
             "|---|---|---|---|---|---|---|"]
    for name, found in result["schedules"].items():
        runs = found["runs"]
        walls = " / ".join(f"{r['wall_s']:.0f}" for r in runs)
        steps = sum(r["mean_steps"] for r in runs) / len(runs)
        readings = ", ".join(f"{t} {runs[0]['readings'][t]}" for t in targets)
        lines.append(f"| {name} | {walls} | {found['speed_up']:.2f}x | {steps:.0f} / "
                     f"{max(r['max_steps'] for r in runs)} | {readings} | "
                     f"{found['stable']:.0%} | {found['agree_with_today']:.0%} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--targets", nargs="+", default=["happy", "sad", "angry"])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--schedules", nargs="+", default=list(SCHEDULES))
    parser.add_argument("--smoke", action="store_true",
                        help="two 3-step schedules, one target, one restart: the script runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    schedules = {name: SCHEDULES[name] for name in args.schedules}
    if args.smoke:
        schedules, args.targets, args.restarts, args.seeds = SMOKE_SCHEDULES, ["sad"], 1, [0]
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as work:
        for name, overrides in schedules.items():
            results[name] = [run(args.classifier, args.targets, args.restarts, seed,
                                 overrides, Path(work) / f"{len(results)}_{seed}")
                             for seed in args.seeds]
    today = next(iter(results.values()))
    base = sum(r["wall_s"] for r in today) / len(today)
    summary = {}
    for name, runs in results.items():
        wall = sum(r["wall_s"] for r in runs) / len(runs)
        stable = sum(runs[0]["readings"][t] == r["readings"][t] for r in runs[1:]
                     for t in args.targets) / max(1, (len(runs) - 1) * len(args.targets))
        agree = sum(a["readings"][t] == b["readings"][t] for a, b in zip(runs, today,
                                                                        strict=True)
                    for t in args.targets) / (len(runs) * len(args.targets))
        summary[name] = {"wall_s": wall, "speed_up": base / wall, "stable": stable,
                         "agree_with_today": agree, "runs": runs}
    out = write_result(f"prosody_schedule_{args.classifier}",
                       {"classifier": args.classifier, "targets": args.targets,
                        "restarts": args.restarts, "seeds": args.seeds, "smoke": args.smoke,
                        "schedules": summary},
                       argv, folder=args.out)
    print("\n".join(table(json.loads(out.read_text()))))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
