"""The documented command lines, run as a user runs them: what `amcli optimize` gives with its
defaults on the shipped models, per target, with the run's verdicts, controls and judge.

Each run is the real CLI (`amcli optimize ARGS hydra.run.dir=<scratch>`) in a scratch folder;
the bench keeps what the run wrote to metrics.json and summary.csv (per item: target, restart,
verdict, target p, judge p, the method's controls and its edits in words; per run: the verdict
counts, transfer rate, faithfulness and sanity figures) and its wall time.

    python bench/command_lines.py                      # every run below (about 30 min, 2 cores)
    python bench/command_lines.py --runs mask prosody  # some of them
    python bench/command_lines.py --smoke              # one mask item, 3 steps

Writes bench/results/command_line_<run>.json per run (--out for another folder) and prints each
run's table.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli import am

#: what the figures depend on: a change here after the result's commit makes it stale. The
#: optimize command and every module it imports (bench/pipeline.py); not the dispatcher
#: (amcli/cli/), the Python API, the plots or the HTML report, which write no figure recorded here
MEASURES = OPTIMIZE


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return (result["method"],)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = "checkpoints/examples"
#: the command lines the docs quote, by name: `amcli optimize` and these arguments
RUNS: dict[str, list[str]] = {
    "mask": ["target=all", "restarts=4"],
    "input": ["method=input", "target=all", "restarts=4"],
    "prosody": ["method=prosody", f"input={EXAMPLES}/neutral.wav", "target=[happy,sad,angry]",
                "restarts=4"],
    "mask_sanity": ["target=all", "restarts=2", "sanity=true"],
    "latent_gan": ["method=latent", "prior=gan", "target=all", "restarts=4"],
    "latent_cgan": ["method=latent", "prior=cgan", "target=all", "restarts=4"],
    "latent_cgan_told_neutral": ["method=latent", "prior=cgan", "latent.condition=neutral",
                                 "target=all", "restarts=4"],
    "latent_gan_raw": ["classifier=cnn_raw", "method=latent", "prior=gan", "target=all",
                       "restarts=4"],
    "latent_cgan_raw": ["classifier=cnn_raw", "method=latent", "prior=cgan", "target=all",
                        "restarts=4"],
    "w2v2_mask": ["classifier=w2v2_tiny", "target=all", "restarts=4"],
    "w2v2_input": ["classifier=w2v2_tiny", "method=input", "target=all", "restarts=4"],
}
SMOKE = ["target=sad", "restarts=1", "steps=3"]

#: summary.csv columns kept per item (when the method fills them), and how the table calls them
CONTROLS = {"binarized_prob": "binarized p", "uniform_gain_prob": "uniform-gain p",
            "shifted_prob": "shifted p", "baseline_prob": "p of the input"}


def run(args: list[str], folder: Path) -> tuple[dict, list[dict], float]:
    """One `amcli optimize` run: its metrics.json, its summary.csv rows and its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "amcli", "optimize", *args,
                           f"hydra.run.dir={folder}"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:  # its own one-line error, and its exit code (2: a usage error)
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        print(f"amcli optimize {shlex.join(args)} failed: {last}", file=sys.stderr)
        raise SystemExit(done.returncode)
    metrics = json.loads((folder / "metrics.json").read_text())
    with open(folder / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return metrics, rows, seconds


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def record(args: list[str], metrics: dict, rows: list[dict], seconds: float) -> dict:
    """What a run's result file keeps: the answers per item, the run's summary, the controls."""
    method = am.get_method(metrics["run"]["method"])
    by_item = {(item["target"], item["restart"]): item for item in metrics["items"]}
    items = []
    for row in rows:
        if row.get("answer") not in ("True", "true", "1"):
            continue
        restart = int(row["restart"])
        items.append({"target": row["target"], "restart": restart, "verdict": row["verdict"],
                      "target_prob": _number(row["target_prob"]),
                      "judge_prob": _number(row.get("judge_prob")),
                      **{key: _number(row.get(key)) for key in CONTROLS},
                      "in_words": method.headline(by_item.get((row["target"], restart), {})),
                      "reasons": by_item.get((row["target"], restart), {}).get(
                          "verdict_reasons", [])})
    summary = metrics.get("summary", {})
    sanity = {level: {"median_profile_spearman": found.get("median_profile_spearman"),
                      "median_target_prob": statistics.median(
                          [i["target_prob"] for i in found.get("items", [])] or [float("nan")])}
              for level, found in (metrics.get("sanity") or {}).items()}
    return {"args": args, "method": metrics["run"]["method"], "seconds": round(seconds, 1),
            "classifier": metrics["run"]["classifier"]["name"], "items": items,
            "verdicts": summary.get("verdicts"), "transfer_rate": summary.get("transfer_rate"),
            "faithfulness": summary.get("faithfulness"), "sanity": sanity,
            "note": metrics.get("note")}


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(result: dict) -> list[str]:
    """Per target: how many items reached it, the median and range of p, the judge, the
    controls the method has; then the run's figures in one paragraph."""
    smoke = ["Smoke run: one item of a few steps, not a measurement.", ""] \
        if result.get("smoke") else []
    items = result["items"]
    controls = [key for key in CONTROLS if any(i.get(key) is not None for i in items)]
    header = ["target", "items", "reached", "median p (min-max)", "median judge p",
              *(f"median {CONTROLS[key]}" for key in controls)]
    # the items in words, where the controls do not already say it all (edits, not masks)
    with_words = any(i["in_words"] for i in items) and set(controls) <= {"baseline_prob"}
    if with_words:
        header.append("each item (best state)")
    lines = [f"`amcli optimize {shlex.join(result['args'])}` ({result['classifier']}, "
             f"{result['method']}; {len(items)} items in {result['seconds']:.0f} s):", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for target in dict.fromkeys(i["target"] for i in items):
        mine = [i for i in items if i["target"] == target]
        probs = [i["target_prob"] for i in mine]
        cells = [target, str(len(mine)), str(sum(i["verdict"] == "reached" for i in mine)),
                 f"{_median(probs):.3f} ({min(probs):.3f}-{max(probs):.3f})",
                 _cell(_median([i["judge_prob"] for i in mine])),
                 *(_cell(_median([i[key] for i in mine])) for key in controls)]
        if with_words:
            cells.append("; ".join(f"{i['target_prob']:.2f}: {i['in_words']}" for i in mine))
        lines.append("| " + " | ".join(cells) + " |")
    return [*smoke, *lines, "", *_run_figures(result)]


def _run_figures(result: dict) -> list[str]:
    parts = []
    if result.get("verdicts"):
        parts.append("verdicts: " + ", ".join(f"{n} {v}" for v, n in result["verdicts"].items()))
    reasons = Counter(re.sub(r" = [-+\d.]+", "", reason.split(" (")[0])  # "p(sad) < 0.9"
                      for item in result["items"] for reason in item.get("reasons") or [])
    if reasons:
        parts.append("why: " + ", ".join(f"{reason} ({n} items)"
                                         for reason, n in reasons.most_common()))
    if result.get("transfer_rate") is not None:
        parts.append(f"judge transfer rate {result['transfer_rate']:.2f}")
    faith = result.get("faithfulness")
    if faith:
        parts.append(f"L-MAC faithfulness over {faith['n']} items: " + ", ".join(
                         f"{k} {faith[k]:.2f}" for k in ("AI", "AD", "AG", "FF", "Fid_In")
                         if faith.get(k) is not None))
    for level, found in (result.get("sanity") or {}).items():
        rho = found.get("median_profile_spearman")
        parts.append(f"sanity, {level} randomized: median target p "
                     f"{found['median_target_prob']:.2f}, median Spearman with the trained "
                     f"model's explanation {'-' if rho is None else f'{rho:.2f}'}")
    if result.get("note"):
        parts.append(f"the run's note: {result['note']}")
    return ["; ".join(parts) + "." if parts else ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the documented `amcli optimize` command "
                                                 "lines and keep what they report.")
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--smoke", action="store_true", help="one mask item of 3 steps")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result files")
    args = parser.parse_args(argv)
    runs = {"smoke": SMOKE} if args.smoke else {name: RUNS[name] for name in args.runs}
    with tempfile.TemporaryDirectory(prefix="amcli_command_lines_") as scratch:
        for name, run_args in runs.items():
            metrics, rows, seconds = run(run_args, Path(scratch) / name)
            result = {**record(run_args, metrics, rows, seconds), "smoke": args.smoke}
            out = write_result(f"command_line_{name}", result, argv, folder=args.out)
            print("\n".join(["", *table(result), f"written: {out}"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
