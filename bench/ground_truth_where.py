"""Where does each explanation put its evidence? The time ground truth.

gt_loudness_where and gt_pitch_where (bench/train_gt_where.sh) were trained on corpora whose
class cue lies in one stretch of each clip only (amcli synth isolate=[family] stretch=0.3: 30% of
the speech at a random place, neutral elsewhere), so the evidence for a class is in that stretch
and nowhere else. On held-out clips (voices m4 and f2, which no model heard in training, rendered
afresh with the models' recipe and another seed) of every class but neutral, each method's
evidence is scored by amcli.metrics.where (fixed before measuring): the share of its mass inside
the clip's stretch against the stretch's share of the active frames; a clip counts as placed when
that ratio is 2 or more. The methods:

- mask: ``amcli optimize method=mask`` on the clip, target its class: what the mask keeps, per
  frame (a preservation mask keeps the evidence); what it removes becomes silence, or, in the
  second mask row (``mask.baseline=blur``), the clip's spectrum blurred over time;
- prosody edits: ``amcli optimize method=prosody`` on the clip, target neutral (the edit that
  takes the class away): the edit's size per input frame, measured between the clip and the
  output through the edit's time warp (the F0 shift as a share of its 12 semitone bound and the
  level change as a share of its 12 dB bound, mean of the two);
- Captum's Integrated Gradients (silence baseline, 32 steps), Saliency x input and Occlusion
  (0.1 s windows every 50 ms, silence baseline) on the waveform the model hears, target the
  clip's class: |attribution| per frame.

The same runs on a copy of each model with every layer re-initialized give the chance level: a
method that places its evidence there as well is reading the clip, not the model. Per model,
copy and method: the share of clips placed with its 95% Wilson interval, and the median ratio.

    python bench/ground_truth_where.py                        # the two shipped where-models
    python bench/ground_truth_where.py --classifier my.json --corpus held_out/ --family loudness
    python bench/ground_truth_where.py --smoke                # seconds: the script runs

The second form scores your model on your own stretched corpus (amcli synth ... stretch=S, voices
your model never heard). Writes bench/results/<--name>.json (default ground_truth_where).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ground_truth import question_options, randomized
from pipeline import OPTIMIZE
from results_file import write_result  # bench/ is the script's own folder

from amcli.activity import active_frames, frame_energy_db
from amcli.am.methods.prosody import ProsodyOptions
from amcli.cli import main as amcli
from amcli.metrics.where import edit_mass, mask_mass, placed_share, to_frames, where_score

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, "module:amcli.data.synth.stretch", ":(exclude)amcli/__init__.py",
            "amcli/metrics/where.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return tuple(m for m in ("mask", "prosody") if any(
        name.startswith(m) for name in result["methods"]))


WHERE_MODELS = {"gt_loudness_where": "loudness", "gt_pitch_where": "pitch"}
#: the masks, each with its own options: what it removes becomes silence, or the clip's
#: time-blurred spectrum (a model that hears a quiet class in silence is not helped to it)
MASKS = {"mask": (), "mask, blurred baseline": ("mask.baseline=blur",)}
AMCLI_METHODS = (*MASKS, "prosody edits")
CAPTUM_METHODS = ("integrated gradients", "saliency x input", "occlusion")
METHODS = (*AMCLI_METHODS, *CAPTUM_METHODS)
#: the held-out voices of bench/train_gt_where.sh, the stretch share and the corpus seed
HELD_OUT = ["np-m4", "np-f2"]
STRETCH = 0.3
CORPUS_SEED = 7001
#: the frame grid of the attribution maps and of the prosody edit's level (amcli.activity's)
HOP, FRAME = 256, 1024


def held_out_clips(family: str, wanted: list[str], n: int, seconds: float,
                   folder: Path) -> list[dict[str, Any]]:
    """``n`` clips of each class of ``wanted`` no longer than the model hears, rendered with
    the where-models' recipe on voices they never heard."""
    from amcli.data.synth.stretch import write_stretched_corpus

    write_stretched_corpus(folder, [family], STRETCH, engine="numpy", classes=wanted,
                           n_per_class=2 * n + 2, speakers=HELD_OUT, seed=CORPUS_SEED)
    return corpus_clips(folder, wanted, n, seconds)


def corpus_clips(folder: Path, classes: list[str], n: int, seconds: float
                 ) -> list[dict[str, Any]]:
    """The first ``n`` clips of each of ``classes`` in a stretched corpus that fit in
    ``seconds``, with their stretch."""
    with open(folder / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "stretch_start_s" not in rows[0]:
        sys.exit(f"{folder} is not a stretched corpus (no stretch_start_s column); write one "
                 "with amcli synth isolate=[family] stretch=S")
    clips = []
    for label in classes:
        fitting = [r for r in rows if r["label"] == label and float(r["duration_s"]) <= seconds]
        clips += [{"path": str(folder / r["path"]), "label": label,
                   "start_s": float(r["stretch_start_s"]), "end_s": float(r["stretch_end_s"]),
                   "duration_s": float(r["duration_s"])} for r in fitting[:n]]
    return clips


def shifted(clip: dict[str, Any], heard_s: float) -> tuple[float, float]:
    """The clip's stretch in the window the model hears: amcli pads (or cuts) a clip to the
    model's length around its centre."""
    shift = (heard_s - clip["duration_s"]) / 2
    return max(clip["start_s"] + shift, 0.0), max(clip["end_s"] + shift, 1e-6)


def run_optimize(folder: Path, classifier: str, clips: list[dict[str, Any]], target: str,
                 args: argparse.Namespace, *extra: str) -> list[dict[str, Any]]:
    """One ``amcli optimize`` over ``clips`` (each item: a clip, towards ``target``); the items
    of metrics.json, each with its clip and the arrays behind its plot."""
    inputs = folder / "inputs"
    inputs.mkdir(parents=True)
    by_stem = {}
    for clip in clips:
        copy = inputs / Path(clip["path"]).name
        shutil.copy(clip["path"], copy)
        by_stem[copy.stem] = clip
    argv = ["optimize", f"classifier={classifier}", f"target={target}", f"input={inputs}",
            f"seed={args.seed}", "judge=null", "quiet=true", f"hydra.run.dir={folder / 'run'}",
            *extra]
    if args.steps:
        argv.append(f"steps={args.steps}")
    if amcli(argv) != 0:
        sys.exit(f"amcli {' '.join(argv)} failed")
    items = json.loads((folder / "run" / "metrics.json").read_text())["items"]
    for item in items:
        # the run names its inputs wav/input_<clip>.wav, or wav/input.wav when there is one
        stem = Path(item["input"]).stem.removeprefix("input_")
        item["clip"] = by_stem[stem] if len(clips) > 1 else clips[0]
        stem = Path(item["output"]).stem
        item["arrays"] = dict(np.load(folder / "run" / "arrays" / f"{stem}.npz"))
    return items


def mask_score(item: dict[str, Any]) -> dict[str, Any]:
    arrays = item["arrays"]
    heard = len(arrays["clip"]) / float(arrays["sample_rate"])
    start, end = shifted(item["clip"], heard)
    return where_score(mask_mass(arrays["mask"]), heard, start, end, arrays["active"])


def prosody_mass(arrays: dict[str, Any], bounds: ProsodyOptions) -> tuple[np.ndarray, np.ndarray]:
    """The edit's size per input frame, and the input's active frames: the F0 shift and the
    level change of every output frame against the input frame it comes from (the edit's time
    warp), as shares of their bounds, added up where the warp takes them."""
    hop = int(arrays["hop"])
    wave_in = torch.as_tensor(arrays["input"], dtype=torch.float32)[None]
    wave_out = torch.as_tensor(arrays["output"], dtype=torch.float32)[None]
    level_in = frame_energy_db(wave_in, hop, 2 * hop)[0].numpy()
    level_out = frame_energy_db(wave_out, hop, 2 * hop)[0].numpy()
    active = active_frames(wave_in, hop, 2 * hop)[0].numpy()
    f0_before, f0_after = arrays["f0_before"], arrays["f0_after"]
    n_out = min(len(arrays["warp"]), len(f0_after), len(level_out))
    source = np.clip(np.round(arrays["warp"][:n_out]).astype(int), 0, len(level_in) - 1)
    before = f0_before[np.minimum(source, len(f0_before) - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        pitch = 12 * np.log2(f0_after[:n_out] / before)
    pitch = np.where(np.isfinite(pitch), pitch, 0.0)
    level = np.where(active[source], level_out[:n_out] - level_in[source], 0.0)
    size = edit_mass({"pitch_st": pitch, "gain_db": level},
                     {"pitch_st": bounds.pitch_st, "gain_db": bounds.gain_db})
    mass = np.zeros(len(level_in))
    np.add.at(mass, source, size)
    return mass, active


def prosody_score(item: dict[str, Any]) -> dict[str, Any]:
    arrays = item["arrays"]
    heard = len(arrays["input"]) / float(arrays["sample_rate"])
    start, end = shifted(item["clip"], heard)
    mass, active = prosody_mass(arrays, ProsodyOptions())
    return where_score(mass, heard, start, end, active)


def captum_scores(classifier: str, clips: list[dict[str, Any]], wanted: list[str]
                  ) -> dict[str, list[dict[str, Any]]]:
    """Integrated Gradients, Saliency x input and Occlusion on each clip as amcli reads it."""
    from captum.attr import InputXGradient, IntegratedGradients, Occlusion

    from amcli.commands.optimize import load_clips
    from amcli.models import load_classifier

    model = load_classifier(classifier).eval()
    rate = model.sample_rate
    scores: dict[str, list[dict[str, Any]]] = {m: [] for m in wanted}
    for clip in clips:
        wave = load_clips({"clip": Path(clip["path"])}, model)["clip"]
        x = wave.reshape(1, -1).float()
        target = model.classes.index(clip["label"])
        heard = x.shape[-1] / rate
        start, end = shifted(clip, heard)
        active = active_frames(x, HOP, FRAME)[0].numpy()
        maps = {}
        if "integrated gradients" in wanted:
            maps["integrated gradients"] = IntegratedGradients(model).attribute(
                x, baselines=torch.zeros_like(x), target=target, n_steps=32,
                internal_batch_size=8)
        if "saliency x input" in wanted:
            maps["saliency x input"] = InputXGradient(model).attribute(
                x.clone().requires_grad_(True), target=target)
        if "occlusion" in wanted:
            with torch.no_grad():
                maps["occlusion"] = Occlusion(model).attribute(
                    x, sliding_window_shapes=(int(0.1 * rate),), strides=(int(0.05 * rate),),
                    baselines=0.0, target=target, perturbations_per_eval=16)
        for method, attribution in maps.items():
            mass = to_frames(attribution.detach()[0].numpy(), len(active))
            scores[method].append({**where_score(mass, heard, start, end, active),
                                   "clip": Path(clip["path"]).name})
    return scores


def explain_where(classifier: str, clips: list[dict[str, Any]], args: argparse.Namespace,
                  work: Path) -> dict[str, dict[str, Any]]:
    """Per method: every clip's where-score and their summary."""
    per_method: dict[str, list[dict[str, Any]]] = {}
    for number, (mask, options) in enumerate(MASKS.items()):
        if mask not in args.methods:
            continue
        per_method[mask] = []
        for label in sorted({c["label"] for c in clips}):
            chosen = [c for c in clips if c["label"] == label]
            for item in run_optimize(work / f"mask{number}_{label}", classifier, chosen, label,
                                     args, "method=mask", f"mask.area={args.mask_area}",
                                     *options):
                per_method[mask].append({**mask_score(item), "verdict": item.get("verdict"),
                                         "clip": Path(item["clip"]["path"]).name})
    if "prosody edits" in args.methods:
        extra = ["prosody.init_candidates=4"] if args.smoke else []
        per_method["prosody edits"] = [
            {**prosody_score(item), "clip": Path(item["clip"]["path"]).name}
            for item in run_optimize(work / "prosody", classifier, clips, "neutral", args,
                                     "method=prosody", *extra)]
    wanted = [m for m in CAPTUM_METHODS if m in args.methods]
    if wanted:
        per_method.update(captum_scores(classifier, clips, wanted))
    return {method: {"summary": summarize(scores), "clips": scores}
            for method, scores in per_method.items()}


def summarize(scores: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [s["ratio"] for s in scores if s["ratio"] is not None]
    return {**placed_share([s["placed"] for s in scores]),
            "median_ratio": statistics.median(ratios) if ratios else None}


def cell(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "-"
    return (f"{summary['placed']}/{summary['n']} ({summary['share']:.0%}; "
            f"{summary['low']:.0%}-{summary['high']:.0%})")


def ratio(summary: dict[str, Any] | None) -> str:
    value = (summary or {}).get("median_ratio")
    return "-" if value is None else f"{value:.2f}"


def table(result: dict[str, Any]) -> list[str]:
    """Per model and method: the clips whose evidence is placed in the stretch (ratio >= 2),
    with the 95% interval, and the median ratio, for the trained model and its randomized copy;
    then the trained model's per class of the clip."""
    lines = ["| model (family) | method | trained: placed (95% CI) | median ratio | "
             "randomized: placed (95% CI) | median ratio |", "|---|---|---|---|---|---|"]
    for name, found in result["models"].items():
        for method in result["methods"]:
            trained = (found["trained"].get(method) or {}).get("summary")
            shuffled = (found["randomized"].get(method) or {}).get("summary")
            lines.append(f"| {name} ({found['family']}) | {method} | {cell(trained)} | "
                         f"{ratio(trained)} | {cell(shuffled)} | {ratio(shuffled)} |")
    return [*lines, "", "The trained models, per class of the clip:", "", *by_class(result),
            *verdicts(result)]


def verdicts(result: dict[str, Any]) -> list[str]:
    """Per model and mask: how many of the trained model's masks amcli's verdict counts as
    explanations (``reached``), and how many of those are placed: what a user who cites only
    the masks amcli stands behind would see."""
    rows = []
    for name, found in result["models"].items():
        for method in result["methods"]:
            clips = (found["trained"].get(method) or {}).get("clips") or []
            if not clips or "verdict" not in clips[0]:
                continue
            kept = [c for c in clips if c["verdict"] == "reached"]
            counts = {v: sum(c["verdict"] == v for c in clips)
                      for v in ("reached", "not reached", "not an explanation")}
            placed = sum(c["placed"] for c in kept)
            rows.append(f"| {name} ({found['family']}) | {method} | {counts['reached']} / "
                        f"{counts['not reached']} / {counts['not an explanation']} | "
                        f"{f'{placed}/{len(kept)}' if kept else '-'} |")
    if not rows:
        return []
    return ["", "amcli's own verdict on each of the trained models' masks:", "",
            "| model (family) | method | reached / not reached / not an explanation | "
            "placed, of those reached |", "|---|---|---|---|", *rows]


def label_of(clip: str) -> str:
    """A corpus clip's class, from its name (<label>_<speaker>_s<NN>_<KKKK>.wav)."""
    return clip.rsplit("_", 3)[0]


def by_class(result: dict[str, Any]) -> list[str]:
    """Per model and method, the trained model's clips placed out of each class's: a class
    whose stretch is louder (or higher) and one whose stretch is quieter (or lower) can tell
    different stories."""
    lines = ["| model (family) | method | placed, per class of the clip |", "|---|---|---|"]
    for name, found in result["models"].items():
        for method in result["methods"]:
            clips = (found["trained"].get(method) or {}).get("clips") or []
            counts: dict[str, list[bool]] = {}
            for clip in clips:
                counts.setdefault(label_of(clip["clip"]), []).append(clip["placed"])
            cells = ", ".join(f"{label} {sum(v)}/{len(v)}"
                              for label, v in sorted(counts.items()))
            lines.append(f"| {name} ({found['family']}) | {method} | {cells or '-'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    question_options(parser, name="ground_truth_where", pairs="--family",
                     corpus="a stretched corpus of held-out clips (default: rendered for the "
                     "shipped where-models)", clips=6, clips_help="clips per class (not neutral)",
                     smoke="one model, one clip per class, 2 steps, no randomized copy",
                     restarts=False)
    parser.add_argument("--family", choices=("loudness", "pitch", "voice"))
    parser.add_argument("--mask-area", type=float, default=0.2,
                        help="the share of the clip the mask keeps: below the stretch's, so that a "
                        "mask wholly inside it can be placed (at 0.5, the default of method=mask, "
                        "the best a 0.3 stretch allows is a ratio of exactly 2)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    args = parser.parse_args(argv)
    if bool(args.classifier) != bool(args.family):
        parser.error("--classifier and --family go together")
    models = {args.classifier: args.family} if args.classifier else dict(WHERE_MODELS)
    if args.smoke:
        models = dict(list(models.items())[:1])
        args.clips, args.steps, args.no_randomized = 1, 2, True

    from amcli.models import load_classifier

    result: dict[str, Any] = {"clips_per_class": args.clips, "seed": args.seed,
                              "mask_area": args.mask_area,
                              "steps": args.steps, "methods": args.methods,
                              "stretch": STRETCH, "smoke": args.smoke, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, family in models.items():
            model = load_classifier(name)
            seconds = float(model.checkpoint["meta"].get("clip_seconds") or 3.0)
            work = Path(tmp) / Path(name).stem
            wanted = [c for c in model.classes if c != "neutral"][:1 if args.smoke else None]
            clips = corpus_clips(args.corpus, wanted, args.clips, seconds) if args.corpus \
                else held_out_clips(family, wanted, args.clips, seconds, work / "corpus")
            found = {"family": family, "clips": len(clips),
                     "trained": explain_where(name, clips, args, work / "trained"),
                     "randomized": {} if args.no_randomized else explain_where(
                         randomized(name, work), clips, args, work / "randomized")}
            result["models"][Path(name).stem] = found
            print("\n".join(table({**result, "models": {Path(name).stem: found}})), flush=True)
    print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
