"""Which families does a target need? Leave-one-out on the combination ground truth.

Attribution one family at a time (bench/ground_truth_together.py) cannot name families that a
model needs together: each alone reaches next to nothing. This bench asks the other way round.
On the same held-out clips of gt_pitch_loudness, each clip is edited towards the class at the
other level of both families (low_soft -> high_loud, ...) with every family, then with every
family but pitch, and with every family but loudness (``prosody.families``). By
amcli.metrics.necessity a family is needed when the edit with all of them reaches the target
(p 0.9) and the edit without it does not. Per copy (trained, randomized): the clips where all
families together reach the target, and those where both true families are needed, with 95%
Wilson intervals.

    python bench/ground_truth_needed.py
    python bench/ground_truth_needed.py --classifier my.json --corpus held_out/ \
        --families pitch loudness
    python bench/ground_truth_needed.py --smoke               # seconds: the script runs

Writes bench/results/<--name>.json (default ground_truth_needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ground_truth_together import (
    REACHED,
    cell,
    command_line,
    medians_by_target,
    opposite,
    run_models,
)
from ground_truth_where import run_optimize
from pipeline import OPTIMIZE

from amcli.families import FAMILIES
from amcli.metrics.necessity import needed_families
from amcli.metrics.where import placed_share

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, "module:amcli.data.synth.combine", ":(exclude)amcli/__init__.py",
            "amcli/metrics/necessity.py", "amcli/metrics/where.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)


def leave_one_out(classifier: str, clips: list[dict[str, Any]], families: list[str],
                  args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Each clip edited towards its opposite class with every family, then with every family
    but each true one (amcli.metrics.necessity): which families the target needs."""
    verdicts = []
    for label in dict.fromkeys(c["label"] for c in clips):
        chosen = [c for c in clips if c["label"] == label]
        target = opposite(label)
        extra = ["prosody.init_candidates=4"] if args.smoke else []

        def best(items: list[dict[str, Any]], clip: dict[str, Any]) -> float:
            return max(i["target_prob"] for i in items if i["clip"] is clip)

        runs = {"all": run_optimize(work / label / "all", classifier, chosen, target, args,
                                    "method=prosody", f"restarts={args.restarts}", *extra)}
        for family in families:
            kept = ",".join(f for f in FAMILIES if f != family)
            runs[family] = run_optimize(work / label / f"without_{family}", classifier, chosen,
                                        target, args, "method=prosody",
                                        f"prosody.families=[{kept}]",
                                        f"restarts={args.restarts}", *extra)
        for clip in chosen:
            without = {f: best(runs[f], clip) for f in families}
            found = needed_families(best(runs["all"], clip), without, REACHED)
            verdicts.append({"clip": Path(clip["path"]).name, "target": target,
                             "all": best(runs["all"], clip), "without": without, **found,
                             "names_both": found["needed"] == sorted(families)})
    return verdicts


def table(result: dict[str, Any]) -> list[str]:
    """Leave-one-out: per model and copy, the clips where every family together reaches the
    target, and those where each true family is needed (the target is lost without it)."""
    lines = ["| model (families) | copy | all together reach the target (95% CI) | both "
             "needed: lost without either (95% CI) |", "|---|---|---|---|"]
    for name, found in result["models"].items():
        for copy in ("trained", "randomized"):
            clips = (found.get(copy) or {}).get("clips")
            if not clips:
                continue
            lines.append(f"| {name} ({' + '.join(found['families'])}) | {copy} | "
                         f"{cell(placed_share([c['all_reaches'] for c in clips]))} | "
                         f"{cell(placed_share([c['names_both'] for c in clips]))} |")
    return [*lines, "", "The trained models' target probability, median over the clips of each "
            "target:", "", *by_target(result)]


def by_target(result: dict[str, Any]) -> list[str]:
    """The trained models' target probability per target (median over its clips): every family
    together, and without each true family."""
    return medians_by_target(result, lambda families: {
        "all together": lambda c: c["all"],
        **{f"without {f}": (lambda c, f=f: c["without"][f]) for f in families}})


def main(argv: list[str] | None = None) -> int:
    args = command_line("ground_truth_needed", __doc__, argv)

    def score(classifier: str, clips: list[dict[str, Any]], families: list[str],
              args: argparse.Namespace, work: Path) -> dict[str, Any]:
        return {"clips": leave_one_out(classifier, clips, families, args, work)}

    return run_models(args, argv, score, table)


if __name__ == "__main__":
    sys.exit(main())
