"""Which AM methods find the cue a model can use? The ground-truth benchmark.

Each gt model (gt_pitch, gt_loudness, gt_tempo, gt_voice; bench/train_gt.sh) was trained on a
corpus where only one family of cues differs between its classes, so it can only use that
family. For every method, the neutral example clip (or noise, or a prior's latent) is optimized
towards each of the model's other classes, and the method's evidence is scored by the rules of
amcli.metrics.ground_truth, fixed before measuring: prosody attribution (the family that alone
reaches the highest p), prosody edits (the largest edit as a share of its bound), and for mask,
input and latent outputs the largest cue shift in units of the cue's natural spread. The same runs
on a copy of each model with every layer re-initialized give the chance baseline: a method that
"identifies" the family there is reading the clip or itself, not the model.

    python bench/ground_truth.py                                   # the four shipped gt models
    python bench/ground_truth.py --classifier my_model.json --family loudness --input clip.wav
    python bench/ground_truth.py --smoke                           # seconds: the script runs

It is also the one entry to every question of the ground truth: ``python bench/ground_truth.py
QUESTION [options]`` runs that question's script with the options that follow (each takes
--classifier and --corpus for your own model and held-out clips; ``QUESTION --help`` lists
them): ``clips`` (which family, over many held-out clips: bench/ground_truth_which.py),
``where`` (bench/ground_truth_where.py), ``together`` (bench/ground_truth_together.py) and
``needed`` (bench/ground_truth_needed.py). ``python bench/ground_truth.py tables [--results DIR]``
prints one section per question with the table of each result file there (the shipped results,
or yours, written with each question's ``--out DIR``).

The second form is the benchmark on your own model and corpus: name the family your classes
should differ in (a corpus built with amcli synth isolate=[family], or your own data).
``--methods "prosody attribution"`` runs only the methods named (the prosody run gives both of
its readouts). Writes bench/results/<--name>.json (default ground_truth).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import soundfile as sf
from pipeline import CORPUS, OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.am.methods.prosody import ProsodyOptions
from amcli.cli import main as amcli
from amcli.metrics import ground_truth as gt
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, *CORPUS, "amcli/metrics/ground_truth.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of): a row's first word; a
    sensitivity-only run (no models) ran none, only edits through the prosody resynthesis."""
    if not result.get("models"):
        return ("prosody",)
    return tuple(sorted({name.split()[0] for name in result["methods"]}))

GT_MODELS = {"gt_pitch": "pitch", "gt_loudness": "loudness", "gt_tempo": "tempo",
             "gt_voice": "voice"}
#: the transformer ground-truth models (bench/train_gt_w2v2.sh), chosen with --models
GT_TRANSFORMERS = {"gt_pitch_w2v2": "pitch", "gt_tempo_w2v2": "tempo", "gt_voice_w2v2": "voice"}
METHODS = ("prosody attribution", "prosody edits", "mask", "input", "latent")


def question_options(parser: argparse.ArgumentParser, *, name: str, pairs: str,
                     corpus: str, clips: int, clips_help: str, smoke: str,
                     restarts: bool = True) -> None:
    """The options every ground-truth question takes (bench/ground_truth_which.py, _where,
    _together and _needed): your model and held-out corpus, how many clips, the optimization's
    size, the randomized copy, the smoke size and where the result goes. ``pairs`` names the
    options that go with --classifier."""
    parser.add_argument("--classifier", help=f"your model (a checkpoint or folder), with {pairs}")
    parser.add_argument("--corpus", type=Path, help=corpus)
    parser.add_argument("--clips", type=int, default=clips, help=clips_help)
    if restarts:
        parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="default: the method's own")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-randomized", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=smoke)
    parser.add_argument("--name", default=name, help="result file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")


def optimize(folder: Path, classifier: str, targets: list[str], args: argparse.Namespace,
             *extra: str) -> dict | None:
    argv = ["optimize", f"classifier={classifier}", f"target=[{','.join(targets)}]",
            f"restarts={args.restarts}", f"seed={args.seed}", "judge=null", "quiet=true",
            f"hydra.run.dir={folder}", *extra]
    if args.steps:
        argv.append(f"steps={args.steps}")
    if args.smoke and "method=prosody" in extra:  # seconds, not a measurement
        argv.append("prosody.init_candidates=4")
    if amcli(argv) != 0:
        print(f"  (skipped: amcli {' '.join(argv)} failed)", file=sys.stderr)
        return None
    return json.loads((folder / "metrics.json").read_text())


def strengths(classifier: str, targets: list[str], clip: str, spread: dict[str, float],
              args: argparse.Namespace, work: Path) -> dict[str, dict[str, float]]:
    """Per method (of ``args.methods``), each family's strength for this classifier."""
    bounds = vars(ProsodyOptions())
    out: dict[str, dict[str, float]] = {}
    wanted = set(args.methods)
    prosody = None
    if wanted & {"prosody attribution", "prosody edits"}:
        prosody = optimize(work / "prosody", classifier, targets, args, "method=prosody",
                           f"input={clip}", "prosody.attribution=true")
    if prosody:
        out["prosody attribution"] = gt.attribution_strengths(
            prosody["summary"]["attribution"], targets)
        full = [r for r in prosody["items"] if r.get("variant") == "all"]
        out["prosody edits"] = gt.edit_strengths([r["prosody"] for r in full], bounds)
    for method, extra in (("mask", ["method=mask", f"input={clip}"]),
                          ("input", ["method=input"]),
                          ("latent", ["method=latent", "prior=gan"])):
        if method not in wanted:
            continue
        run = optimize(work / method, classifier, targets, args, *extra)
        if run:
            out[method] = gt.cue_strengths(run["items"], spread)
    return out


def randomized(classifier: str, folder: Path) -> str:
    """A copy of the classifier with every layer re-initialized, saved as a checkpoint (a
    transformers folder for a transformer)."""
    from amcli.metrics.sanity import randomized_copy
    from amcli.models import load_classifier, save_classifier

    model = load_classifier(classifier)
    copy = randomized_copy(model, "all", seed=0).model
    stem = folder / f"{Path(classifier).stem}_randomized"
    seconds = model.checkpoint["meta"]["clip_seconds"]
    if model.checkpoint["meta"]["arch"] == "hf":
        from amcli.models.hf_training import save_hf_classifier

        return str(save_hf_classifier(copy, stem, seconds))
    save_classifier(copy, stem, seconds)
    return str(stem) + ".json"


def neutral_spread(n: int, seed: int) -> dict[str, float]:
    """The natural spread of each family cue over neutral clips of many voices."""
    import shutil

    from amcli.data.synth import write_corpus
    from amcli.metrics.cues import measure_cues

    engine = "espeak" if shutil.which("espeak-ng") else "numpy"
    with tempfile.TemporaryDirectory() as tmp:
        rows = write_corpus(tmp, engine=engine, classes=["neutral"], n_per_class=n,
                            seed=seed, workers=0)
        cues = [measure_cues(*sf.read(Path(tmp) / r["path"], dtype="float32")) for r in rows]
    return gt.natural_spread(cues)


#: Single edits per family, near its bounds, for the sensitivity table.
PROBES = {
    "pitch": [{"pitch_st": 8.0}, {"pitch_st": -8.0}, {"range_scale": 2.0},
              {"range_scale": 0.5}],
    "loudness": [{"gain_db": 10.0}, {"gain_db": -10.0}],
    "tempo": [{"rate": 1.35}, {"rate": 0.72}],
    "voice": [{"tilt_db_per_octave": 6.0}, {"tilt_db_per_octave": -6.0},
              {"breathiness": 1.0}, {"breathiness": -1.0}],
}


def sensitivity(name: str, clip: str) -> dict[str, tuple[float, str]]:
    """Per family: the largest change of any class probability that one of its edits near the
    bounds (PROBES) makes to ``clip``, and which edit. A model that can only use its family
    should barely move under the others'."""
    import torch

    from amcli.am.prosody.fit import fit_clip
    from amcli.am.prosody.source import Edits
    from amcli.am.prosody.synthesis import synthesis_grid, synthesize, white_noise_stft
    from amcli.commands.optimize import load_clips
    from amcli.models import load_classifier

    model = load_classifier(name).eval()
    rate = model.sample_rate
    wave = load_clips({"clip": Path(clip)}, model)["clip"]  # as amcli optimize reads it
    n_fft, hop = synthesis_grid(rate)
    length = wave.shape[-1]
    source = fit_clip(wave, rate)
    white = white_noise_stft([0], length, n_fft, hop)
    frames = white.shape[1]

    def probs(**edit: float) -> torch.Tensor:
        plan = Edits.none(1, frames)
        for key, value in edit.items():
            setattr(plan, key, torch.full_like(getattr(plan, key), value))
        with torch.no_grad():
            return torch.softmax(model(synthesize(source, plan, white, length)), -1)[0]

    base = probs()
    out = {}
    for family, edits in PROBES.items():
        moves = [(float((probs(**e) - base).abs().max()), ", ".join(
            f"{k} {v:g}" for k, v in e.items())) for e in edits]
        out[family] = max(moves)
    return out


def cell(verdict: dict[str, Any] | None, family: str) -> str:
    if verdict is None:
        return "-"
    if verdict["identified"]:
        return f"yes (+{verdict['margin']:.2f})"
    if verdict["strongest"] == family:
        return f"no: a tie ({verdict['margin']:+.2f})"
    return f"no: {verdict['strongest']} ({verdict['margin']:+.2f})"


def sensitivity_table(result: dict[str, Any]) -> list[str]:
    lines = ["| model | true family | " + " | ".join(f"{f} edits" for f in gt.FAMILIES) + " |",
             "|---|---|" + "---|" * len(gt.FAMILIES)]
    families = result.get("families") or {n: m["family"] for n, m in result["models"].items()}
    for name, moved in result["sensitivity"].items():
        family = families[name]
        lines.append(f"| {name} | {family} | " + " | ".join(
            f"{'**' if f == family else ''}{moved[f]['moved']:.2f}"
            f"{'**' if f == family else ''} ({moved[f]['edit']})" for f in gt.FAMILIES) + " |")
    return lines


def table(result: dict[str, Any]) -> list[str]:
    """How far each family's edits move each model, the verdicts per model and method, then
    what each family reaches alone (the view the docs render from the result file)."""
    lines = ["How far one edit near its bounds moves each model (the largest change of any class "
             "probability, and the edit):", "", *sensitivity_table(result), ""]
    return [*lines, *verdicts(result)] if result["models"] else lines


def verdicts(result: dict[str, Any]) -> list[str]:
    """The verdicts per model and method, and what each family reaches alone (prosody
    attribution): :func:`table` without the models' sensitivity, which every result of the
    benchmark repeats."""
    lines = ["| model | true family | method | trained model: identified (margin) | "
             "randomized copy |", "|---|---|---|---|---|"]
    alone = ["| model | copy | " + " | ".join(f"{f} alone" for f in gt.FAMILIES) + " |",
             "|---|---|" + "---|" * len(gt.FAMILIES)]
    for name, found in result["models"].items():
        family = found["family"]
        for method, by_copy in found["verdicts"].items():
            lines.append(f"| {name} | {family} | {method} | "
                         f"{cell(by_copy['trained'], family)} | "
                         f"{cell(by_copy['randomized'], family)} |")
        for copy in ("trained", "randomized"):
            reached = found[copy].get("prosody attribution")
            if reached:
                alone.append(f"| {name} | {copy} | " + " | ".join(
                    f"{'**' if f == family and copy == 'trained' else ''}"
                    f"{reached.get(f, float('nan')):.2f}"
                    f"{'**' if f == family and copy == 'trained' else ''}"
                    for f in gt.FAMILIES) + " |")
    if len(alone) > 2:
        lines += ["", "What each family reaches alone (prosody attribution: the best restart, "
                      "median over the targets):", "", *alone]
    return lines


#: ``python bench/ground_truth.py QUESTION ...``: the script that answers each other question
QUESTIONS = {"clips": "ground_truth_which", "where": "ground_truth_where",
             "together": "ground_truth_together", "needed": "ground_truth_needed"}


def ask(question: str, options: list[str]) -> int:
    """Run the script of ``question`` with ``options``, as if it had been started itself (its
    result file records its own command line)."""
    import importlib

    script = QUESTIONS[question]
    sys.argv = [str(Path(__file__).with_name(f"{script}.py")), *options]
    return importlib.import_module(script).main(None)


#: the questions in the order their tables print, each with the script that answers it
TABLES = {"How far each family's edits move each model": "ground_truth --sensitivity-only",
          "Which family, from one clip": "ground_truth",
          "Which family, clip after clip": "ground_truth_which",
          "Where in time": "ground_truth_where",
          "Which families together": "ground_truth_together",
          "Needed": "ground_truth_needed"}


def question_of(result: dict[str, Any]) -> str:
    """The TABLES entry a result answers (a sensitivity-only run has no models)."""
    import views

    script = views.script_of(result)
    return f"{script} --sensitivity-only" if script == "ground_truth" and \
        not result.get("models") else script


def tables(options: list[str]) -> int:
    """``python bench/ground_truth.py tables [--results DIR]``: one section per question, with
    the table of every result file in DIR that the question's script wrote (the shipped ones,
    or yours: run each question with ``--out DIR`` first)."""
    parser = argparse.ArgumentParser(prog="ground_truth.py tables", description=tables.__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of result files (default: bench/results)")
    args = parser.parse_args(options)
    import views

    if not args.results.is_dir():
        print(f"ground_truth.py tables: {args.results} is not a folder of result files; "
              "give --results the folder your runs wrote with --out", file=sys.stderr)
        return 2
    found = {}
    for path in sorted(args.results.glob("*.json")):
        try:
            found[path.stem] = question_of(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError):  # pending.json and other files
            continue
    shown = 0
    for title, question in TABLES.items():
        names = [n for n, q in found.items() if q == question]
        print(f"## {title} (bench/{question.split()[0]}.py)\n")
        if not names:
            print("No result yet.\n")
        for name in names:
            print(f"### {name}\n\n{views.render(name, args.results)}")
            shown += 1
    if not shown:
        print(f"ground_truth.py tables: no result of the ground truth in {args.results}; run "
              "a question with --out there first", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given and given[0] == "tables":
        return tables(given[1:])
    if given and given[0] in QUESTIONS:
        return ask(given[0], given[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="questions: " + ", ".join(QUESTIONS) + "; tables "
                                     "prints every question's tables (see the module's "
                                     "docstring)")
    parser.add_argument("--classifier", help="your model (a checkpoint or folder), with --family")
    parser.add_argument("--family", choices=gt.FAMILIES)
    parser.add_argument("--models", nargs="+", choices=[*GT_MODELS, *GT_TRANSFORMERS],
                        default=list(GT_MODELS),
                        help="shipped ground-truth models (default: the four cnn_mel ones)")
    parser.add_argument("--input", default=str(example_clip("neutral")),
                        help="the clip that mask and prosody start from")
    parser.add_argument("--targets", nargs="+", help="default: every class but neutral")
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="default: each method's own")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spread-clips", type=int, default=40)
    parser.add_argument("--no-randomized", action="store_true")
    parser.add_argument("--sensitivity-only", action="store_true",
                        help="only the table of how far each family's edits move each model")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--smoke", action="store_true",
                        help="gt_loudness, prosody attribution, 2 steps, no randomized copy")
    parser.add_argument("--name", default="ground_truth", help="result file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")
    args = parser.parse_args(argv)
    if bool(args.classifier) != bool(args.family):
        parser.error("--classifier and --family go together")
    shipped = {**GT_MODELS, **GT_TRANSFORMERS}
    models = {args.classifier: args.family} if args.classifier else {
        m: shipped[m] for m in args.models}
    if args.smoke:
        models, args.methods, args.steps = {"gt_loudness": "loudness"}, METHODS[:1], 2
        args.restarts, args.no_randomized, args.spread_clips = 1, True, 4
        args.targets = args.targets or ["sad"]

    from amcli.models import load_classifier

    result: dict[str, Any] = {"input": Path(args.input).name, "restarts": args.restarts,
                              "seed": args.seed, "steps": args.steps, "methods": args.methods,
                              "smoke": args.smoke,
                              "families": {Path(n).stem: f for n, f in models.items()},
                              "sensitivity": {}, "models": {}}
    for name in models:
        moved = sensitivity(name, args.input)
        result["sensitivity"][Path(name).stem] = {
            f: {"moved": moved[f][0], "edit": moved[f][1]} for f in gt.FAMILIES}
    if args.sensitivity_only:
        print("\n".join(table(result)))
        print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
        return 0
    spread = neutral_spread(args.spread_clips, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        for name, family in models.items():
            classes = load_classifier(name).classes
            targets = args.targets or [c for c in classes if c != "neutral"]
            work = Path(tmp) / Path(name).stem
            trained = strengths(name, targets, args.input, spread, args, work / "trained")
            shuffled = {} if args.no_randomized else strengths(
                randomized(name, work.parent), targets, args.input, spread, args,
                work / "randomized")
            verdicts = {}
            for method in args.methods:
                found = {copy: gt.verdict(s[method], family) if method in s else None
                         for copy, s in (("trained", trained), ("randomized", shuffled))}
                verdicts[method] = {copy: None if v is None else {
                    "identified": v.identified, "margin": v.margin, "strongest": v.strongest}
                    for copy, v in found.items()}
            result["models"][Path(name).stem] = {"family": family, "targets": targets,
                                                 "trained": trained, "randomized": shuffled,
                                                 "verdicts": verdicts}
    print("\n".join(table(result)))
    print(f"wrote {write_result(args.name, result, argv, folder=args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
