"""Are the synthetic corpus' classes made of the cues we put in, and how learnable are they?

Generates a corpus with `amcli synth`'s generator, measures each clip's acoustic cues (RMS dB, F0
mean and spread via librosa.pyin, voiced fraction, spectral centroid, onset rate, active
duration) and prints, per class, the cue means and their shift from neutral with a check of the
intended direction. Then the speaker-independent accuracy of a cue-only classifier (standardized
logistic regression, grouped k-fold over speakers): it should be learnable but not trivial.

    python bench/synth_cues.py --engine espeak --n-per-class 100
    python bench/synth_cues.py --engine espeak --isolate pitch loudness tempo voice
    python bench/synth_cues.py --smoke        # a few numpy clips: checks the script runs

Writes bench/results/synth_cues.json (synth_cues_isolate_<others>.json with --isolate) and
prints the tables.

With ``--isolate``, one cue-isolated corpus per family (``amcli synth isolate=[family]``), and a
table of the cue-only classifier's accuracy on each family's cues: the isolated family should
separate the classes, every other family should be at chance.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
from pipeline import CORPUS
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.data.synth import write_corpus
from amcli.metrics.cues import measure_cues

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*CORPUS, "amcli/metrics/cues.py")

CLASSES = ("neutral", "happy", "sad", "angry")
#: The intended direction (+1 up, -1 down) of each cue's shift from neutral, as the corpus is
#: built (amcli/data/synth/cues.py).
EXPECTED = {
    "happy": {"f0_mean_hz": +1, "f0_spread_st": +1, "onset_rate": +1},
    "sad": {"rms_db": -1, "f0_mean_hz": -1, "f0_spread_st": -1, "centroid_hz": -1,
            "onset_rate": -1},
    "angry": {"rms_db": +1, "f0_mean_hz": +1, "f0_spread_st": +1, "centroid_hz": +1,
              "onset_rate": +1},
}
SHOWN = ("rms_db", "f0_mean_hz", "f0_spread_st", "centroid_hz", "onset_rate", "voiced_fraction",
         "active_s")
FEATURES = ("rms_db", "f0_st", "f0_spread_st", "voiced_fraction", "centroid_hz", "onset_rate",
            "active_s")
#: The measured cues that stand for each cue family in the isolation table.
FAMILY_FEATURES = {
    "pitch": ("f0_st", "f0_spread_st"),
    "loudness": ("rms_db",),
    "tempo": ("onset_rate", "active_s"),
    "voice": ("centroid_hz",),
}


def _measure(path: str) -> dict[str, float]:
    wave, rate = sf.read(path, dtype="float32")
    return measure_cues(wave, rate)


def measure_corpus(root: Path, rows: list[dict], workers: int) -> list[dict]:
    paths = [str(root / r["path"]) for r in rows]
    with ProcessPoolExecutor(workers) as pool:
        cues = list(pool.map(_measure, paths, chunksize=8))
    return [{**row, **cue} for row, cue in zip(rows, cues, strict=True)]


def class_means(records: list[dict]) -> dict[str, dict[str, float]]:
    classes = [c for c in CLASSES if any(r["label"] == c for r in records)]
    with np.errstate(all="ignore"):
        return {c: {k: float(np.nanmean([np.nan if r[k] is None else r[k] for r in records
                                          if r["label"] == c])) for k in SHOWN}
                for c in classes}


def class_table(means: dict[str, dict[str, float]], check: bool = True) -> list[str]:
    """Class means with their shift from neutral, and the intended directions' checks."""
    lines = [f"| class | {' | '.join(SHOWN)} | intended shifts vs neutral |",
             "|" + "---|" * (len(SHOWN) + 2)]
    ok_total = n_total = 0
    for c, row in means.items():
        cells = [f"{row[k]:.2f}" if c == "neutral" else
                 f"{row[k]:.2f} ({row[k] - means['neutral'][k]:+.2f})" for k in SHOWN]
        checks = []
        for k, sign in (EXPECTED.get(c, {}) if check else {}).items():
            good = np.sign(row[k] - means["neutral"][k]) == sign
            ok_total += int(good)
            n_total += 1
            checks.append(f"{k}{'+' if sign > 0 else '-'} {'ok' if good else 'WRONG'}")
        lines.append(f"| {c} | {' | '.join(cells)} | {', '.join(checks) or '-'} |")
    if check:
        lines += ["", f"Intended directions met: {ok_total}/{n_total}."]
    return lines


def table(result: dict) -> list[str]:
    """Per engine the class table and the cue-only accuracy; or the isolation table."""
    smoke = ["Smoke run: a handful of clips, not a measurement.", ""] if result.get("smoke") \
        else []
    if "isolation" in result:
        header = " | ".join(f"on {f} cues ({', '.join(FAMILY_FEATURES[f])})"
                            for f in FAMILY_FEATURES)
        lines = [*smoke, f"Cue-only classifiers, {result['folds']}-fold speaker-independent CV, "
                 f"engine={result['engine']}, others={result['others']}, "
                 f"{result['n_per_class']} clips per class, seed {result['seed']}:", "",
                 f"| corpus | classes | chance | {header} |",
                 "|" + "---|" * (len(FAMILY_FEATURES) + 3)]
        for row in result["isolation"]:
            cells = []
            for other in FAMILY_FEATURES:
                acc, sd = row["accuracy"][other]
                cell = f"{acc:.3f} +- {sd:.3f}"
                cells.append(f"**{cell}**" if other == row["family"] else cell)
            lines.append(f"| isolate=[{row['family']}] | {', '.join(row['classes'])} | "
                         f"{1 / len(row['classes']):.3f} | {' | '.join(cells)} |")
        return lines
    lines = list(smoke)
    for engine, found in result["engines"].items():
        lines += [f"**engine={engine}: {found['clips']} clips, seed {result['seed']}, "
                  f"synthesized in {found['synth_s']:.1f} s on {found['workers']} workers**", "",
                  *class_table(found["means"]), "",
                  f"Cue-only classifier (logistic regression on {', '.join(FEATURES)}), "
                  f"{result['folds']}-fold speaker-independent CV over {found['speakers']} "
                  f"speakers: accuracy {found['accuracy']:.3f} +- {found['sd']:.3f}.", ""]
    return lines[:-1]


def cue_only_accuracy(records: list[dict], folds: int,
                      features: tuple[str, ...] = FEATURES) -> tuple[float, float, int]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for r in records:
        r["f0_st"] = 12 * np.log2(r["f0_mean_hz"] / 100.0) if r["f0_mean_hz"] > 0 else np.nan
    x = np.array([[r[k] for k in features] for r in records], dtype=float)
    x = np.where(np.isfinite(x), x, np.nanmean(x, axis=0))
    y = np.array([CLASSES.index(r["label"]) for r in records])
    groups = np.array([r["speaker"] for r in records])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    scores = cross_val_score(model, x, y, groups=groups, cv=GroupKFold(n_splits=folds))
    return float(scores.mean()), float(scores.std()), len(set(groups))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("espeak", "numpy", "both"), default="both")
    parser.add_argument("--n-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--jitter", type=float, default=1.0)
    parser.add_argument("--isolate", nargs="+", choices=tuple(FAMILY_FEATURES), default=None,
                        help="cue-isolated corpora, one per family: does only that family "
                             "separate the classes?")
    parser.add_argument("--others", choices=("varied", "neutral"), default="varied",
                        help="with --isolate: how the other families are drawn")
    parser.add_argument("--smoke", action="store_true",
                        help="numpy engine, 6 clips per class, 2 folds: checks the script runs")
    parser.add_argument("--name", default=None,
                        help="result file name (default synth_cues, or synth_cues_isolate_"
                             "<others>)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.engine, args.n_per_class, args.folds = "numpy", 6, 2
    common = {"seed": args.seed, "folds": args.folds, "n_per_class": args.n_per_class,
              "smoke": args.smoke}
    if args.isolate:
        result = {**common, **isolation(args)}
        name = args.name or f"synth_cues_isolate_{args.others}"
    else:
        result = {**common, "engines": {}}
        name = args.name or "synth_cues"
        engines = ("espeak", "numpy") if args.engine == "both" else (args.engine,)
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                rows = write_corpus(tmp, engine=engine, n_per_class=args.n_per_class,
                                    seed=args.seed, jitter=args.jitter, workers=args.workers)
                synth_s = time.perf_counter() - started
                records = measure_corpus(Path(tmp), rows, args.workers)
            acc, sd, n_speakers = cue_only_accuracy(records, args.folds)
            result["engines"][engine] = {"clips": len(rows), "synth_s": synth_s,
                                         "workers": args.workers, "means": class_means(records),
                                         "accuracy": acc, "sd": sd, "speakers": n_speakers}
            print(f"engine={engine}: accuracy {acc:.3f}", flush=True)
    out = write_result(name, result, argv, folder=args.out)
    print("\n".join(["", *table(result), "", f"written: {out}"]))
    return 0


def isolation(args: argparse.Namespace) -> dict:
    """One cue-isolated corpus per family; for each, the speaker-independent accuracy of a
    cue-only classifier on each family's measured cues (chance: one over the classes)."""
    from amcli.data.synth.cues import isolated_classes

    engine = "espeak" if args.engine == "both" else args.engine
    rows = []
    for family in args.isolate:
        classes = isolated_classes([family])
        with tempfile.TemporaryDirectory() as tmp:
            written = write_corpus(tmp, engine=engine, classes=classes,
                                   n_per_class=args.n_per_class, seed=args.seed,
                                   jitter=args.jitter, workers=args.workers, isolate=[family],
                                   others=args.others)
            records = measure_corpus(Path(tmp), written, args.workers)
        accuracy = {other: list(cue_only_accuracy(records, args.folds, features)[:2])
                    for other, features in FAMILY_FEATURES.items()}
        rows.append({"family": family, "classes": list(classes), "accuracy": accuracy,
                     "means": class_means(records)})
        print(f"isolate=[{family}]: {accuracy[family][0]:.3f} on its own cues", flush=True)
    return {"engine": engine, "others": args.others, "isolation": rows}


if __name__ == "__main__":
    sys.exit(main())
