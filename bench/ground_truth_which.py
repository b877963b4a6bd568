"""Which family does an explanation name, clip after clip? "Which" on held-out clips.

Each ground-truth model was trained on a cue-isolated corpus (amcli synth isolate=[family]), so
it can only use that family: the cnn_mel models gt_pitch, gt_loudness, gt_tempo and gt_voice
(bench/train_gt.sh) and the transformers gt_pitch_w2v2, gt_tempo_w2v2 and gt_voice_w2v2 (the
w2v2_tiny architecture, bench/train_gt_w2v2.sh). Their neutral clips on held-out voices (m4 and
f2, which no model heard, rendered afresh with the models' recipe and another seed) are each
edited towards one of the model's other classes, in turn, and two explainers are scored per
clip by the rule of amcli.metrics.ground_truth (fixed before measuring): a family's strength is
the target probability it reaches alone, and the explainer names the family when the true one is
the strongest by more than a tie.

- prosody attribution: ``amcli optimize method=prosody prosody.attribution=true`` (every
  family alone, the best restart); beside the rule, amcli's own reading (the leader above the
  no-edit baseline) is counted too;
- the clip-wide edit grid of paralinguistic explainers (bench/prosody_grid.py's edits, one axis
  at a time: pitch shift -4..+4 semitones, rate 0.8..1.25, gain -9..+12 dB): a family's
  strength is the highest target probability its axis reaches. The grid has no voice axis, so it
  cannot name voice.

The same runs on a copy of each model with every layer re-initialized give the chance level.
Per model, copy and explainer: the share of clips named, with its 95% Wilson interval.

    python bench/ground_truth_which.py --models gt_tempo_w2v2 gt_voice_w2v2 gt_pitch_w2v2
    python bench/ground_truth_which.py --classifier my.json --family tempo --corpus held_out/
    python bench/ground_truth_which.py --smoke                # seconds: the script runs

The second form scores your model on your own corpus (its clips of --start, default neutral,
on voices your model never heard). Writes bench/results/<--name>.json (default
ground_truth_which).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from ground_truth import question_options, randomized
from ground_truth_together import cell, corpus_clips
from ground_truth_where import run_optimize
from pipeline import CORPUS, OPTIMIZE
from prosody_grid import edit
from results_file import write_result  # bench/ is the script's own folder

from amcli.metrics import ground_truth as gt
from amcli.metrics.attribution import attribution_table
from amcli.metrics.where import placed_share

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, *CORPUS, "amcli/metrics/ground_truth.py", "amcli/metrics/where.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)


WHICH_MODELS = {"gt_pitch": "pitch", "gt_loudness": "loudness", "gt_tempo": "tempo",
                "gt_voice": "voice", "gt_pitch_w2v2": "pitch", "gt_tempo_w2v2": "tempo",
                "gt_voice_w2v2": "voice"}
EXPLAINERS = ("prosody attribution", "clip-wide grid")
#: the held-out voice variants of bench/train_gt.sh, and the corpus seed
HELD_OUT = ["en-m4", "en-us-m4", "en-f2", "en-us-f2"]
CORPUS_SEED = 7003
#: the grid's axes (bench/prosody_grid.py's values), one family each; 0, 1 and 0 are no edit
AXES = {"pitch": ("pitch_st", (-4, -3, -2, -1, 1, 2, 3, 4)),
        "tempo": ("rate", (0.8, 0.9, 1.1, 1.25)),
        "loudness": ("gain_db", (-9, -6, -3, 3, 6, 9, 12))}


def held_out_clips(family: str, n: int, seconds: float, folder: Path
                   ) -> list[dict[str, Any]]:
    """``n`` neutral clips no longer than the model hears, on voices it never heard, rendered
    with its corpus' recipe (only ``family`` differs between ``classes``)."""
    from amcli.data.synth import write_corpus

    write_corpus(folder, classes=["neutral"], n_per_class=2 * n + 2, speakers=HELD_OUT,
                 seed=CORPUS_SEED, isolate=[family])
    return corpus_clips(folder, n, seconds)


def with_targets(clips: list[dict[str, Any]], targets: list[str]) -> list[dict[str, Any]]:
    """Each clip with the target it is edited towards: the targets in turn."""
    return [{**clip, "target": targets[k % len(targets)]} for k, clip in enumerate(clips)]


def attribution(classifier: str, clips: list[dict[str, Any]], family: str,
                args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Prosody attribution of every clip towards its target: the rule's verdict and amcli's
    reading, per clip."""
    rows = []
    for target in dict.fromkeys(c["target"] for c in clips):
        chosen = [c for c in clips if c["target"] == target]
        extra = ["prosody.init_candidates=4"] if args.smoke else []
        items = run_optimize(work / target, classifier, chosen, target, args, "method=prosody",
                             "prosody.attribution=true", f"restarts={args.restarts}", *extra)
        for clip in chosen:
            row = attribution_table([i for i in items if i["clip"] is clip])[target]
            strengths = {f: s["best"] for f, s in row["variants"].items() if f != "all"}
            rows.append({"clip": Path(clip["path"]).name, "target": target,
                         "baseline": row["baseline"], "leader": row["leader"],
                         "reading": row["reading"], "all": row["variants"]["all"]["best"],
                         **verdict(strengths, family)})
    return rows


def grid(classifier: str, clips: list[dict[str, Any]], family: str) -> list[dict[str, Any]]:
    """The clip-wide grid, one axis at a time, on every clip: the rule's verdict per clip."""
    import torch

    from amcli.audio import read_audio
    from amcli.models import load_classifier

    model = load_classifier(classifier).eval()
    rate = model.sample_rate
    length = int(model.checkpoint["meta"].get("clip_seconds", 3.0) * rate)
    def prob(wave: Any, index: int, **change: float) -> float:
        with torch.no_grad():
            return float(torch.softmax(model(edit(wave, rate, length, **change)[None]),
                                       -1)[0, index])

    rows = []
    for clip in clips:
        wave = read_audio(clip["path"], rate)[0].numpy()
        index = model.classes.index(clip["target"])
        strengths = {f: max(prob(wave, index, **{key: value}) for value in values)
                     for f, (key, values) in AXES.items()}
        rows.append({"clip": Path(clip["path"]).name, "target": clip["target"],
                     "baseline": prob(wave, index), **verdict(strengths, family)})
    return rows


def verdict(strengths: dict[str, float], family: str) -> dict[str, Any]:
    found = gt.verdict(strengths, family)
    return {"strengths": found.strengths, "named": found.identified,
            "strongest": found.strongest, "margin": found.margin}


def score(classifier: str, clips: list[dict[str, Any]], family: str,
          args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "prosody attribution" in args.explainers:
        rows = attribution(classifier, clips, family, args, work)
        out["prosody attribution"] = {
            "named": placed_share([r["named"] for r in rows]),
            "leads": placed_share([r["leader"] == family for r in rows]), "clips": rows}
    if "clip-wide grid" in args.explainers:
        rows = grid(classifier, clips, family)
        out["clip-wide grid"] = {"named": placed_share([r["named"] for r in rows]),
                                 "clips": rows}
    return out


def strongest_others(rows: list[dict[str, Any]], family: str) -> str:
    """The families named instead of the true one, with how often."""
    counts: dict[str, int] = {}
    for row in rows:
        if not row["named"]:
            other = row["strongest"] if row["strongest"] != family else "tie"
            counts[other] = counts.get(other, 0) + 1
    return ", ".join(f"{f} {n}" for f, n in sorted(counts.items(), key=lambda x: -x[1])) or "-"


def table(result: dict[str, Any]) -> list[str]:
    """Per model, copy and explainer: the share of clips on which the true family is named (the
    rule), how often amcli's reading names it as the leader, and what was named instead."""
    lines = ["| model (true family) | explainer | trained: named (95% CI) | amcli's reading "
             "leads with it | named instead | randomized: named (95% CI) | randomized: amcli's "
             "reading names a leader |", "|---|---|---|---|---|---|---|"]
    for name, found in result["models"].items():
        family = found["family"]
        for explainer in EXPLAINERS:
            trained = (found.get("trained") or {}).get(explainer)
            if not trained:
                continue
            shuffled = (found.get("randomized") or {}).get(explainer)
            lines.append(f"| {name} ({family}) | {explainer} | {cell(trained['named'])} | "
                         f"{cell(trained.get('leads'))} | "
                         f"{strongest_others(trained['clips'], family)} | "
                         f"{cell(shuffled['named']) if shuffled else '-'} | "
                         f"{leaders(shuffled['clips']) if shuffled else '-'} |")
    return lines


def leaders(rows: list[dict[str, Any]]) -> str:
    """How many clips amcli's reading names a leader on (any family), and which: on a
    randomized copy every one is a false finding."""
    if not rows or "leader" not in rows[0]:
        return "-"
    named = [r["leader"] for r in rows if r["leader"]]
    counts = {f: named.count(f) for f in dict.fromkeys(named)}
    return f"{len(named)}/{len(rows)}" + (" (" + ", ".join(
        f"{f} {n}" for f, n in counts.items()) + ")" if counts else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=WHICH_MODELS, default=list(WHICH_MODELS),
                        help="shipped ground-truth models (default: all)")
    question_options(parser, name="ground_truth_which", pairs="--family and --corpus",
                     corpus="held-out clips of your model's classes", clips=10,
                     clips_help="clips per model",
                     smoke="gt_tempo, two clips, 2 steps, one restart, no randomized copy")
    parser.add_argument("--family", choices=gt.FAMILIES)
    parser.add_argument("--start", default="neutral", help="the class the clips start from")
    parser.add_argument("--explainers", nargs="+", choices=EXPLAINERS, default=list(EXPLAINERS))
    args = parser.parse_args(argv)
    if not (bool(args.classifier) == bool(args.family) == bool(args.corpus)):
        parser.error("--classifier, --family and --corpus go together")
    if args.corpus and not (args.corpus / "metadata.csv").is_file():
        parser.error(f"--corpus {args.corpus} has no metadata.csv: give a corpus folder written "
                     "by amcli synth (or one laid out like it)")
    models = {args.classifier: args.family} if args.classifier else {
        m: WHICH_MODELS[m] for m in args.models}
    if args.smoke:
        models = {"gt_tempo": "tempo"}
        args.clips, args.steps, args.restarts, args.no_randomized = 2, 2, 1, True

    from amcli.models import load_classifier

    result: dict[str, Any] = {"clips": args.clips, "restarts": args.restarts, "seed": args.seed,
                              "steps": args.steps, "smoke": args.smoke, "start": args.start,
                              "explainers": args.explainers, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, family in models.items():
            model = load_classifier(name)
            seconds = float(model.checkpoint["meta"].get("clip_seconds") or 3.0)
            work = Path(tmp) / Path(name).stem
            if args.corpus:
                clips = [c for c in corpus_clips(args.corpus, args.clips, seconds)
                         if c["label"] == args.start]
            else:
                clips = held_out_clips(family, args.clips, seconds, work / "corpus")
            if args.start not in model.classes or not clips:
                parser.error(f"no clips of class {args.start!r} for {name} (its classes: "
                             f"{', '.join(model.classes)}): choose one with --start")
            targets = [c for c in model.classes if c != args.start]
            clips = with_targets(clips, targets)
            found: dict[str, Any] = {"family": family, "targets": targets, "clips": len(clips)}
            copies = {"trained": name}
            if not args.no_randomized:
                copies["randomized"] = randomized(name, work)
            for copy, classifier in copies.items():
                found[copy] = score(classifier, clips, family, args, work / copy)
            result["models"][Path(name).stem] = found
            print("\n".join(table({"models": {Path(name).stem: found}})), flush=True)
    print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
