"""Which prosodic cues move each classifier? `method=prosody attribution=true` per model.

For every classifier, from the neutral example clip, each target is optimized with each control
family alone (pitch, loudness, tempo, voice) and with all of them, in one batch (amcli's
defaults otherwise). The table gives per family the best restart's target probability with the
second best in brackets, the no-edit baseline and amcli's reading (the leader, or a tie). With
two or more ``--seeds`` it also says whether the reading is the same for every seed
(stability).

    python bench/attribution.py --classifiers crnn_mel cnn_mel --restarts 2 --seeds 0 1

Every restart's probability is kept in bench/results/<--name>.json (default
attribution_<classifiers>_r<restarts>), so the readings can be recomputed from the file:
``python bench/attribution.py --from bench/results/attribution_crnn_mel_r2.json`` prints the
table again with the current rule, without running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.cli import main as amcli
from amcli.families import FAMILIES
from amcli.metrics.attribution import reading_label, restarts_row, stats_cell
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = OPTIMIZE


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)


def run(classifier: str, targets: list[str], restarts: int, folder: Path, seed: int = 0,
        extra: list[str] | None = None) -> dict[str, Any]:
    """One attribution run: per target the no-edit baseline and every restart's probability per
    variant ({"baseline": p, "values": {variant: [p, ...]}})."""
    argv = ["optimize", "method=prosody", "prosody.attribution=true", f"classifier={classifier}",
            f"input={example_clip('neutral')}", f"target=[{','.join(targets)}]",
            f"restarts={restarts}", f"seed={seed}", "quiet=true", "cues=false", "judge=null",
            f"hydra.run.dir={folder}", *(extra or [])]
    if amcli(argv) != 0:
        raise SystemExit(f"amcli {' '.join(argv)} failed")
    metrics = json.loads((folder / "metrics.json").read_text())
    table = metrics["summary"]["attribution"]
    found: dict[str, Any] = {t: {"baseline": table[t]["baseline"], "values": {}}
                             for t in targets}
    for item in metrics["items"]:
        variant = item.get("variant") or "all"
        found[item["target"]]["values"].setdefault(variant, []).append(
            item.get("attribution_prob", item["target_prob"]))
    return found


def row_of(measured: dict[str, Any]) -> dict[str, Any]:
    """An attribution row (amcli.metrics.attribution) from one target's recorded restarts."""
    return restarts_row(measured["baseline"], measured["values"])


def table(results: dict[str, Any]) -> list[str]:
    """The result as a Markdown table (and, with two or more seeds, the share of rows whose
    reading is the same on every seed); the view the docs render from the result file."""
    lines = ["| classifier | target | no edit | pitch alone | loudness alone | tempo alone | "
             "voice alone | all | reading (per seed) | same |", "|---|---|---|---|---|---|---|"
             "---|---|---|"]
    same = total = 0
    for name, seeds in results["runs"].items():
        for target in results["targets"]:
            rows = [row_of(found[target]) for found in seeds.values()]
            first = rows[0]
            cells = " | ".join(stats_cell(first["variants"].get(f)) for f in FAMILIES)
            readings = [reading_label(r) for r in rows]
            agree = len(set(readings)) == 1
            same, total = same + agree, total + 1
            base = first["baseline"]
            lines.append(f"| {results['labels'].get(name, name)} | {target} | "
                         f"{'-' if base is None else f'{base:.2f}'} | {cells} | "
                         f"{stats_cell(first['variants'].get('all'))} | "
                         f"{' / '.join(readings)} | {'yes' if agree else 'no'} |")
    if len(results["seeds"]) > 1:
        lines += ["", f"The same reading on every seed in {same} of {total} rows "
                      f"({same / total:.0%})."]
    return lines


def readme(results: dict[str, Any]) -> list[str]:
    """The README's view: per target and classifier, the first seed's reading with the figure
    of its leader (or of each family in a tie); a dagger where another seed reads otherwise."""
    names = list(results["runs"])
    lines = ["| target | " + " | ".join(results["labels"].get(n, n) for n in names) + " |",
             "| --- |" + " --- |" * len(names)]
    for target in results["targets"]:
        cells = []
        for name in names:
            rows = [row_of(found[target]) for found in results["runs"][name].values()]
            first = rows[0]
            best = {v: s["best"] for v, s in first["variants"].items()}
            if first["leader"]:
                cell = f"{first['leader']} {best[first['leader']]:.2f}"
            elif first["tie"]:
                cell = "tie: " + ", ".join(f"{v} {best[v]:.2f}" for v in first["tie"])
            else:
                cell = "none"
            if len({reading_label(r) for r in rows}) > 1:
                cell += " †"
            cells.append(cell)
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+",
                        default=["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw"])
    parser.add_argument("--targets", nargs="+", default=["happy", "sad", "angry"])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--extra", nargs="*", default=[],
                        help="more amcli overrides, e.g. clip_seconds=0 or custom.* keys")
    parser.add_argument("--label", default=None,
                        help="the classifier's name in the table (e.g. pesto for custom)")
    parser.add_argument("--name", default=None,
                        help="result file name (default attribution_<classifiers>_r<restarts>)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="print the table from a result file instead of running")
    args = parser.parse_args(argv)
    if args.source is not None:
        print("\n".join(table(json.loads(args.source.read_text()))))
        return 0
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as work:
        for name in args.classifiers:
            runs[name] = {str(seed): run(name, args.targets, args.restarts,
                                         Path(work) / f"{name}_{seed}", seed, args.extra)
                          for seed in args.seeds}
    labels = {n: args.label for n in args.classifiers} if args.label else {}
    results = {"targets": args.targets, "restarts": args.restarts, "seeds": args.seeds,
               "extra": args.extra, "labels": labels, "runs": runs}
    print("\n".join(table(results)))
    name = args.name or f"attribution_{'_'.join(args.classifiers)}_r{args.restarts}"
    print(f"wrote {write_result(name, results, argv, folder=args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
