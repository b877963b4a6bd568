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
import tempfile
from pathlib import Path
from typing import Any

from ground_truth import randomized
from ground_truth_together import (
    REACHED,
    TOGETHER_MODELS,
    cell,
    corpus_clips,
    held_out_clips,
    opposite,
)
from ground_truth_where import run_optimize
from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

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
    from statistics import median

    lines = []
    for name, found in result["models"].items():
        families = found["families"]
        lines += [f"| {name}: target (from) | clips | all together | "
                  + " | ".join(f"without {f}" for f in families) + " |",
                  "|---|---|---|" + "---|" * len(families)]
        targets: dict[str, list[dict[str, Any]]] = {}
        for clip in found["trained"]["clips"]:
            targets.setdefault(clip["target"], []).append(clip)
        for target, clips in targets.items():
            start = clips[0]["clip"].split("_en-")[0].split("_np-")[0]
            lines.append(f"| {target} ({start}) | {len(clips)} | "
                         f"{median(c['all'] for c in clips):.2f} | " + " | ".join(
                             f"{median(c['without'][f] for c in clips):.2f}" for f in families)
                         + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", help="your model (a checkpoint or folder), with "
                        "--families and --corpus")
    parser.add_argument("--families", nargs=2, help="the two families your classes combine")
    parser.add_argument("--corpus", type=Path, help="a combination corpus of held-out clips "
                        "(default: rendered for the shipped model)")
    parser.add_argument("--clips", type=int, default=3, help="clips per class")
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="default: the method's own")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-randomized", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="one clip of two classes, 2 steps, one restart, no randomized copy")
    parser.add_argument("--name", default="ground_truth_needed", help="result file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")
    args = parser.parse_args(argv)
    if bool(args.classifier) != bool(args.families):
        parser.error("--classifier and --families go together")
    models = {args.classifier: tuple(args.families)} if args.classifier else TOGETHER_MODELS
    if args.smoke:
        args.clips, args.steps, args.restarts, args.no_randomized = 1, 2, 1, True

    from amcli.models import load_classifier

    result: dict[str, Any] = {"clips_per_class": args.clips, "restarts": args.restarts,
                              "seed": args.seed, "steps": args.steps, "smoke": args.smoke,
                              "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, families in models.items():
            model = load_classifier(name)
            seconds = float(model.checkpoint["meta"].get("clip_seconds") or 3.0)
            work = Path(tmp) / Path(name).stem
            clips = corpus_clips(args.corpus, args.clips, seconds) if args.corpus \
                else held_out_clips(list(families), args.clips, seconds, work / "corpus")
            if args.smoke:
                clips = clips[:2]
            found: dict[str, Any] = {"families": list(families), "clips": len(clips)}
            copies = {"trained": name}
            if not args.no_randomized:
                copies["randomized"] = randomized(name, work)
            for copy, classifier in copies.items():
                found[copy] = {"clips": leave_one_out(classifier, clips, list(families), args,
                                                      work / copy)}
            result["models"][Path(name).stem] = found
            print("\n".join(table({"models": {Path(name).stem: found}})), flush=True)
    print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
