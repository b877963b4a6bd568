"""Does prosody attribution name the families a model uses together? The combination ground truth.

gt_pitch_loudness (bench/train_gt_together.sh) was trained on a combination corpus (amcli synth
combine=[pitch,loudness]): four classes, low or high pitch x soft or loud, every other family
varied alike for every class. It needs both families and no other. On held-out clips (voices m4
and f2, which it never heard, rendered afresh with its recipe and another seed), prosody
attribution edits each clip towards the class at the other level of *both* families (low_soft ->
high_loud, ...), so that neither family alone should reach it. Each clip's attribution row is
scored by amcli.metrics.together (fixed before measuring): it names both families when both,
and no other, count above the no-edit baseline (amcli's own reading); and whether neither
family alone reaches the target (p >= 0.9) while all of them together do.

The same runs on a copy of the model with every layer re-initialized give the floor. Per copy:
the share of clips whose attribution names both families, and the share where neither alone
reaches the target while all together do, each with its 95% Wilson interval.

    python bench/ground_truth_together.py
    python bench/ground_truth_together.py --classifier my.json --corpus held_out/ \
        --families pitch loudness
    python bench/ground_truth_together.py --smoke             # seconds: the script runs

The second form scores your model on your own combination corpus (amcli synth combine=[A,B],
voices your model never heard). Writes bench/results/<--name>.json (default
ground_truth_together).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from ground_truth import question_options, randomized
from ground_truth_where import run_optimize
from pipeline import OPTIMIZE
from results_file import write_result  # bench/ is the script's own folder

from amcli.metrics.attribution import attribution_table
from amcli.metrics.together import together_verdict
from amcli.metrics.where import placed_share

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, "module:amcli.data.synth.combine", ":(exclude)amcli/__init__.py",
            "amcli/metrics/together.py", "amcli/metrics/where.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)


TOGETHER_MODELS = {"gt_pitch_loudness": ("pitch", "loudness")}
#: the probability at which a target counts as reached (amcli.metrics.together's default)
REACHED = 0.9
#: the held-out voice variants of bench/train_gt_together.sh, and the corpus seed
HELD_OUT = ["en-m4", "en-us-m4", "en-f2", "en-us-f2"]
CORPUS_SEED = 7002


def held_out_clips(families: list[str], n: int, seconds: float, folder: Path
                   ) -> list[dict[str, Any]]:
    """``n`` clips per class no longer than the model hears, on voices it never heard."""
    from amcli.data.synth.combine import write_combined_corpus

    write_combined_corpus(folder, families, n_per_class=2 * n + 2, speakers=HELD_OUT,
                          seed=CORPUS_SEED)
    return corpus_clips(folder, n, seconds)


def corpus_clips(folder: Path, n: int, seconds: float) -> list[dict[str, Any]]:
    """The first ``n`` clips of every class of a corpus that fit in ``seconds``."""
    with open(folder / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    clips = []
    for label in dict.fromkeys(r["label"] for r in rows):
        fitting = [r for r in rows if r["label"] == label and float(r["duration_s"]) <= seconds]
        clips += [{"path": str(folder / r["path"]), "label": label} for r in fitting[:n]]
    return clips


def opposite(label: str) -> str:
    """The class at the other level of both families (low_soft -> high_loud)."""
    from amcli.data.synth.combine import LEVELS

    flipped = []
    for level in label.split("_"):
        (pair,) = [p for p in LEVELS.values() if level in p]
        flipped.append(next(other for other in pair if other != level))
    return "_".join(flipped)


def attribute(classifier: str, clips: list[dict[str, Any]], families: list[str],
              args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Prosody attribution of every clip towards its opposite class; each clip's verdict."""
    verdicts = []
    for label in dict.fromkeys(c["label"] for c in clips):
        chosen = [c for c in clips if c["label"] == label]
        target = opposite(label)
        extra = ["prosody.init_candidates=4"] if args.smoke else []
        items = run_optimize(work / label, classifier, chosen, target, args, "method=prosody",
                             "prosody.attribution=true", f"restarts={args.restarts}", *extra)
        for clip in chosen:
            own = [i for i in items if i["clip"] is clip]
            row = attribution_table(own)[target]
            verdict = together_verdict(row, families)
            verdicts.append({"clip": Path(clip["path"]).name, "target": target,
                             "baseline": row["baseline"], "counted": row["counted"],
                             "reading": row["reading"], **verdict})
    return verdicts


def summarize(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"names_both": placed_share([v["names_both"] for v in verdicts]),
            "neither_alone_reaches": placed_share([bool(v["neither_alone_reaches"])
                                                   for v in verdicts]),
            "extra": sorted({f for v in verdicts for f in v["extra"]})}


def cell(share: dict[str, Any] | None) -> str:
    if not share or not share["n"]:
        return "-"
    return (f"{share['placed']}/{share['n']} ({share['share']:.0%}; "
            f"{share['low']:.0%}-{share['high']:.0%})")


def table(result: dict[str, Any]) -> list[str]:
    """Per model and copy: how many clips' attribution names both families (and no other), and
    how many show that neither family alone reaches the target while together they do."""
    lines = ["| model (families) | copy | names both, no other (95% CI) | all together reach "
             "the target (95% CI) | neither alone reaches, together does (95% CI) | "
             "other families counted |", "|---|---|---|---|---|---|"]
    for name, found in result["models"].items():
        for copy in ("trained", "randomized"):
            summary = (found.get(copy) or {}).get("summary")
            if not summary:
                continue
            reached = placed_share([(c["all"] or 0.0) >= REACHED for c in found[copy]["clips"]])
            lines.append(f"| {name} ({' + '.join(found['families'])}) | {copy} | "
                         f"{cell(summary['names_both'])} | {cell(reached)} | "
                         f"{cell(summary['neither_alone_reaches'])} | "
                         f"{', '.join(summary['extra']) or 'none'} |")
    return [*lines, "", "The trained models' target probability, median over the clips of each "
            "target:", "", *by_target(result)]


def medians_by_target(result: dict[str, Any],
                      columns: Callable[[list[str]], dict[str, Callable[[dict], float]]]
                      ) -> list[str]:
    """Per model, one row per target of the trained model's clips: the median over those clips
    of each column (``columns(families)``: header -> the figure of one clip)."""
    lines = []
    for name, found in result["models"].items():
        figures = columns(found["families"])
        lines += [f"| {name}: target (from) | clips | " + " | ".join(figures) + " |",
                  "|---|---|" + "---|" * len(figures)]
        targets: dict[str, list[dict[str, Any]]] = {}
        for clip in found["trained"]["clips"]:
            targets.setdefault(clip["target"], []).append(clip)
        for target, clips in targets.items():
            start = clips[0]["clip"].split("_en-")[0].split("_np-")[0]
            lines.append(f"| {target} ({start}) | {len(clips)} | " + " | ".join(
                f"{median(figure(c) for c in clips):.2f}" for figure in figures.values())
                + " |")
    return lines


def by_target(result: dict[str, Any]) -> list[str]:
    """The trained models' probabilities per target (median over its clips): all families
    together, and each true family alone."""
    return medians_by_target(result, lambda families: {
        "all together": lambda c: c["all"] or 0.0,
        **{f"{f} alone": (lambda c, f=f: c["alone"][f]) for f in families}})


def command_line(name: str, doc: str, argv: list[str] | None) -> argparse.Namespace:
    """The options of the combination benches (this one and bench/ground_truth_needed.py)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    question_options(parser, name=name, pairs="--families and --corpus",
                     corpus="a combination corpus of held-out clips (default: rendered for the "
                     "shipped model)", clips=3, clips_help="clips per class",
                     smoke="one clip of two classes, 2 steps, one restart, no randomized copy")
    parser.add_argument("--families", nargs=2, help="the two families your classes combine")
    args = parser.parse_args(argv)
    if bool(args.classifier) != bool(args.families):
        parser.error("--classifier and --families go together")
    if args.smoke:
        args.clips, args.steps, args.restarts, args.no_randomized = 1, 2, 1, True
    return args


def run_models(args: argparse.Namespace, argv: list[str] | None,
               score: Callable[..., dict[str, Any]],
               view: Callable[[dict[str, Any]], list[str]]) -> int:
    """Held-out clips for every model (or the user's corpus), ``score(classifier, clips,
    families, args, work)`` on the trained model and its randomized copy, each model's ``view``
    printed as it finishes, and the result file."""
    from amcli.models import load_classifier

    models = {args.classifier: tuple(args.families)} if args.classifier else TOGETHER_MODELS
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
                found[copy] = score(classifier, clips, list(families), args, work / copy)
            result["models"][Path(name).stem] = found
            print("\n".join(view({"models": {Path(name).stem: found}})), flush=True)
    print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = command_line("ground_truth_together", __doc__, argv)

    def score(classifier: str, clips: list[dict[str, Any]], families: list[str],
              args: argparse.Namespace, work: Path) -> dict[str, Any]:
        verdicts = attribute(classifier, clips, families, args, work)
        return {"summary": summarize(verdicts), "clips": verdicts}

    return run_models(args, argv, score, table)


if __name__ == "__main__":
    sys.exit(main())
