"""Do amcli's outputs move the acoustic cues the way the synthetic corpus says the classes differ?

For each method (and prior) on the demo classifier, runs `amcli optimize` (in-process, the CLI's
own code) for the targets with a known direction, and checks every cue shift of every output:

    angry: louder (RMS), higher F0, more variable F0, brighter (spectral centroid)
    sad:   quieter, lower F0, flatter F0, darker
    happy: higher F0, wider F0

A shift counts as "right" only if it goes the known way by at least the minimum size (1 dB RMS,
0.5 semitone F0 mean, 0.25 semitone F0 spread, 50 Hz centroid); "wrong" if it goes the other way
by that much; "too small" otherwise (undefined cues, e.g. no voiced frames, count as too small).
References: masks are applied to the neutral example clip and compared with it; prosody edits
it and is compared with its unedited resynthesis (the edits alone);
outputs made from noise or a latent are compared with the neutral mean of the corpus given by
--corpus (else of neutral clips the bench synthesizes in the demo corpus' recipe; --smoke: the
shipped neutral example). Beside it: the judge's transfer rate, the median
target probability, and the model-randomization sanity check (sanity=true): for masks the median
Spearman correlation of the masks from the trained and the fully randomized classifier, for all
methods the share of right cue checks when the classifier is fully randomized.

These are measurements, not thresholds to tune towards.

    python bench/validity.py --restarts 4              # synthesizes its reference corpus
    python bench/validity.py --corpus demo_work/corpus --restarts 4
    python bench/validity.py --methods "prosody (neutral clip)" "prosody, unpruned (neutral clip)"
    python bench/validity.py --smoke          # seconds: checks that the script runs

Writes bench/results/<--name>.json (default validity) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from pipeline import CORPUS, OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.cli import main as amcli
from amcli.resources import checkpoints_dir, example_clip

#: (cue key of cue_shift, sign per target, minimum size)
DIRECTIONS = {
    "angry": {"rms_db": +1, "f0_mean_st": +1, "f0_spread_st": +1, "centroid_hz": +1},
    "sad": {"rms_db": -1, "f0_mean_st": -1, "f0_spread_st": -1, "centroid_hz": -1},
    "happy": {"f0_mean_st": +1, "f0_spread_st": +1},
}
#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, *CORPUS)


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of): each row's first word."""
    return tuple(sorted({row["method"].split()[0].rstrip(",") for row in result["rows"]}))

MINIMUM = {"rms_db": 1.0, "f0_mean_st": 0.5, "f0_spread_st": 0.25, "centroid_hz": 50.0}

METHODS = {
    "mask": ["method=mask", f"input={example_clip('neutral')}"],
    "prosody (neutral clip)": ["method=prosody", f"input={example_clip('neutral')}"],
    "prosody, unpruned (neutral clip)": ["method=prosody", f"input={example_clip('neutral')}",
                                         "prosody.prune=false"],
    "input (wave, from noise)": ["method=input"],
    "latent, prior=gan": ["method=latent", "prior=gan"],
    "latent, prior=cgan (condition=target)": ["method=latent", "prior=cgan"],
    "latent, prior=cgan (condition=neutral)": ["method=latent", "prior=cgan",
                                               "latent.condition=neutral"],
}


#: the reference corpus the bench synthesizes when --corpus is not given: neutral clips of the
#: demo classifiers' training voices, in the demo corpus' recipe (bench/train_demo.sh)
REFERENCE_CORPUS = "synthesized: {n} neutral clips, engine espeak, training voices, seed 2026"


def reference_corpus(folder: Path, n: int) -> Path:
    """Neutral clips like the demo corpus' (what outputs from noise or a latent are compared
    with), synthesized into ``folder``."""
    from amcli.data.synth import write_corpus

    write_corpus(folder, engine="espeak", classes=["neutral"], n_per_class=n, seed=2026)
    return folder


def corpus_neutral_cues(corpus: Path, n: int, rate: int, vocoded: bool) -> dict[str, float]:
    """Mean cues of ``n`` neutral clips of a synth corpus (the reference of noise/latent runs);
    ``vocoded``: after a log-mel -> Griffin-Lim round trip, the path every mel-domain output
    takes to its WAV, so the vocoder's own bias (F0 high, voicing lost) cancels."""
    from amcli.audio import read_audio
    from amcli.features import GriffinLimVocoder, LogMel
    from amcli.metrics.cues import measure_cues

    files = sorted((corpus / "neutral").glob("*.wav"))
    files = [files[i] for i in np.random.default_rng(0).permutation(len(files))[:n]]
    rows = []
    for f in files:
        wave = read_audio(f, rate)[0]
        if vocoded:
            wave = GriffinLimVocoder()(LogMel()(wave), length=wave.shape[-1])
        rows.append(measure_cues(wave.numpy(), rate))
    with np.errstate(all="ignore"):
        return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def verdicts(shift: dict, target: str) -> list[str]:
    out = []
    for key, sign in DIRECTIONS[target].items():
        value = shift.get(key)
        if value is None or not np.isfinite(value) or abs(value) < MINIMUM[key]:
            out.append("small")
        else:
            out.append("right" if np.sign(value) == sign else "wrong")
    return out


def shares(votes: list[str]) -> tuple[int, float, float, float]:
    n = len(votes)
    return (n, *(votes.count(v) / max(n, 1) for v in ("right", "wrong", "small")))


def run_method(args: list[str], folder: Path, opts) -> dict:
    targets = "[" + ",".join(DIRECTIONS) + "]"
    argv = ["optimize", f"classifier={opts.classifier}", f"target={targets}",
            f"restarts={opts.restarts}", f"seed={opts.seed}", "sanity=true", "quiet=true",
            f"hydra.run.dir={folder}", *args, *opts.extra]
    code = amcli(argv)
    if code != 0:
        raise SystemExit(f"amcli {' '.join(argv)} exited {code}")
    return json.loads((folder / "metrics.json").read_text())


def score_method(name: str, metrics: dict, references: dict, classifier: str) -> dict:
    """One method's row: the cue checks of its outputs and of the randomized model's, with the
    judge's transfer, the median target probability and the profile correlation."""
    from amcli.metrics.cues import cue_shift

    extra = METHODS[name]
    # edits of a clip are compared with their own reference (the clip; for prosody its
    # unedited resynthesis), outputs made from noise or a latent with the corpus' neutral
    from_clip = "method=mask" in extra or "method=prosody" in extra
    mel_domain = "method=latent" in extra and classifier.endswith("_mel")
    neutral = references.get(mel_domain)
    votes, random_votes, items = [], [], []
    for item in metrics["items"]:
        cues = item["cues"]
        reference = cues["reference"] if from_clip or neutral is None else neutral
        verdict = verdicts(cue_shift(cues["output"], reference), item["target"])
        votes += verdict
        items.append({"target": item["target"], "restart": item["restart"],
                      "target_prob": item["target_prob"], "checks": verdict})
    sanity = metrics.get("sanity", {})
    for row in sanity.get("all", {}).get("items", []):
        if row.get("cues") is None:
            continue
        trained = next(i for i in metrics["items"] if i["target"] == row["target"]
                       and i["restart"] == row["restart"])
        reference = trained["cues"]["reference"] if from_clip or neutral is None else neutral
        random_votes += verdicts(cue_shift(row["cues"], reference), row["target"])
    n, right, wrong, small = shares(votes)
    _, r_right, _, _ = shares(random_votes)
    return {"method": name, "checks": n, "right": right, "wrong": wrong, "small": small,
            "transfer": metrics["summary"].get("transfer_rate"),
            "median_p": float(np.median([i["target_prob"] for i in metrics["items"]])),
            "right_randomized": r_right,
            "spearman": sanity.get("all", {}).get("median_profile_spearman"), "items": items}


def table(result: dict) -> list[str]:
    """The cue checks per method (shares of all checks of its outputs)."""
    reference = f"the neutral mean of a corpus ({result['corpus']})" if result.get("corpus") \
        else "the neutral example clip"
    smoke = " Smoke run: a few steps, not a measurement." if result.get("smoke") else ""
    lines = [f"Classifier {result['classifier']}, targets happy/sad/angry x "
             f"{result['restarts']} restarts, seed {result['seed']}; reference of outputs made "
             f"from noise or a latent: {reference}.{smoke}", "",
             "| method | cue checks | right | wrong | too small | judge transfer | median p "
             "| right, randomized model | profile Spearman vs randomized |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in result["rows"]:
        transfer = "-" if row["transfer"] is None else f"{row['transfer']:.2f}"
        spearman = "-" if row["spearman"] is None else f"{row['spearman']:.2f}"
        lines.append(f"| {row['method']} | {row['checks']} | {row['right']:.0%} | "
                     f"{row['wrong']:.0%} | {row['small']:.0%} | {transfer} | "
                     f"{row['median_p']:.3f} | {row['right_randomized']:.0%} | {spearman} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a synth corpus: its neutral mean is the noise/latent reference")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--extra", nargs="*", default=[],
                        help="overrides added to every run (e.g. steps=50)")
    parser.add_argument("--n-reference", type=int, default=100,
                        help="neutral corpus clips in the reference mean")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    parser.add_argument("--smoke", action="store_true",
                        help="the mask row, one restart, three steps: checks the script runs")
    parser.add_argument("--name", default="validity", help="result file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the result file")
    opts = parser.parse_args(argv)
    if opts.smoke:
        opts.methods, opts.restarts = ["mask"], 1
        opts.extra = [*opts.extra, "steps=3", "min_steps=1"]

    work = opts.keep or Path(tempfile.mkdtemp(prefix="amcli_validity_"))
    references, corpus = {}, opts.corpus
    if corpus is None and not opts.smoke and any(
            "method=mask" not in METHODS[m] and "method=prosody" not in METHODS[m]
            for m in opts.methods):
        corpus = reference_corpus(work / "reference_corpus", opts.n_reference)
    if corpus:
        references = {vocoded: corpus_neutral_cues(corpus, opts.n_reference, 16000, vocoded)
                      for vocoded in (False, True)}
    rows = []
    for name in opts.methods:
        extra = METHODS[name]
        if "method=latent" in extra:
            prior = next(a.split("=")[1] for a in extra if a.startswith("prior="))
            if not (checkpoints_dir() / f"{prior}_mel.json").is_file():
                print(f"skipping {name}: no {prior} prior in checkpoints/", file=sys.stderr)
                continue
        metrics = run_method(extra, work / name.split(" ")[0].replace(",", "") /
                             str(abs(hash(name)) % 10**6), opts)
        rows.append(score_method(name, metrics, references, opts.classifier))
        print(f"{name}: {rows[-1]['right']:.0%} right, {rows[-1]['wrong']:.0%} wrong",
              file=sys.stderr, flush=True)
    result = {"classifier": opts.classifier, "restarts": opts.restarts, "seed": opts.seed,
              "corpus": (str(opts.corpus) if opts.corpus else REFERENCE_CORPUS.format(
                  n=opts.n_reference)) if corpus else None, "extra": opts.extra,
              "smoke": opts.smoke, "rows": rows}
    out = write_result(opts.name, result, argv, folder=opts.out)
    print("\n".join([*table(result), "", f"written: {out}"]))
    if opts.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
