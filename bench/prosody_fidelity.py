"""How faithful is method=prosody's unedited resynthesis? Each classifier's probabilities of
clips against those of their resynthesis without edits, on the example clips and beyond them.

Every clip (3 s) is analysed and fitted as method=prosody does, resynthesized with no edit, and
scored by every classifier named; a row gives, per classifier, the largest change of any class
probability over the clips of a set under one condition, and the spectral convergence of the
resynthesis (||S - S'|| / ||S|| of 1024-point STFT magnitudes). amcli warns above 0.05.

    python bench/prosody_fidelity.py --holdout       # the published table (about 3 min)
    python bench/prosody_fidelity.py --clips my_recordings/ --conditions "as is"
    python bench/prosody_fidelity.py --smoke         # one clip, one classifier: seconds

The sets: the shipped example clips; with ``--holdout`` the two held-out espeak voices, which no
classifier heard in training (``amcli synth n_per_class=2 speakers=holdout``, rendered into a
temporary folder); with ``--clips`` WAV files or folders of your own (a clip's class is its
file's or folder's name when the model has that class). ``--conditions`` changes the clips
before anything else, as recordings unlike the corpus would be: a lower recording level, or white
background noise at a signal-to-noise ratio (seeded).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.am.prosody.analysis import analyse
from amcli.am.prosody.fit import fit
from amcli.am.prosody.source import Edits
from amcli.am.prosody.synthesis import synthesis_grid, synthesize, white_noise_stft
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.models import load_classifier
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("amcli/am/prosody", "amcli/am/methods/prosody.py", "amcli/models", "checkpoints")

CLIPS = ("neutral", "happy", "sad", "angry")
CLASSIFIERS = ("crnn_raw", "cnn_raw", "crnn_mel", "cnn_mel", "w2v2_tiny", "judge", "gt_pitch",
               "gt_loudness", "gt_tempo", "gt_voice")
CONDITIONS = ("as is", "-20 dB", "noise 20 dB", "noise 10 dB")
#: amcli's warning level for the change of a class probability by the resynthesis
WARN_ABOVE = 0.05


def magnitude(wave: torch.Tensor) -> torch.Tensor:
    return torch.stft(wave, 1024, 256, window=torch.hann_window(1024),
                      return_complex=True).abs()


def resynthesized(wave: torch.Tensor, rate: int) -> torch.Tensor:
    """The unedited resynthesis on the method's own grid."""
    n_fft, hop = synthesis_grid(rate)
    source = fit(analyse(wave, rate, hop=hop, n_fft=n_fft), wave)
    white = white_noise_stft([0], wave.shape[-1], n_fft, hop)
    return synthesize(source, Edits.none(1, white.shape[1]), white, wave.shape[-1])[0]


def condition(wave: torch.Tensor, name: str, seed: int = 0) -> torch.Tensor:
    """``wave`` as recorded under ``name``: "as is", "-N dB" (level), "noise N dB" (SNR)."""
    if name == "as is":
        return wave
    if name.startswith("noise "):
        snr = float(name.split()[1])
        noise = torch.randn(wave.shape, generator=torch.Generator().manual_seed(seed))
        scale = wave.pow(2).mean().sqrt() / noise.pow(2).mean().sqrt() * 10 ** (-snr / 20)
        return wave + scale * noise
    if name.endswith(" dB"):
        return wave * 10 ** (float(name.split()[0]) / 20)
    raise ValueError(f"unknown condition {name!r}: give 'as is', '-20 dB' (a level) or "
                     "'noise 20 dB' (white noise at that SNR)")


def example_clips(rate: int, length: int, names: tuple[str, ...] = CLIPS
                  ) -> dict[str, torch.Tensor]:
    return {c: crop_or_pad(read_audio(example_clip(c), rate)[0], length) for c in names}


def clips_under(paths: list[Path], rate: int, length: int) -> dict[str, torch.Tensor]:
    """label/stem -> clip for every WAV under ``paths`` (files or folders)."""
    found = {}
    for path in paths:
        files = sorted(path.rglob("*.wav")) if path.is_dir() else [path]
        for f in files:
            label = f.parent.name if path.is_dir() else f.stem
            found[f"{label}/{f.stem}"] = crop_or_pad(read_audio(f, rate)[0], length)
    return found


def holdout_clips(folder: Path, rate: int, length: int) -> dict[str, torch.Tensor]:
    """The held-out espeak voices, two sentences per class, rendered by ``amcli synth``."""
    done = subprocess.run([sys.executable, "-m", "amcli", "synth", f"out={folder}",
                           "n_per_class=2", "speakers=holdout"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"amcli synth failed: {done.stderr.strip()[-500:]}")
    return clips_under([folder], rate, length)


def score_set(clips: dict[str, torch.Tensor], models: dict[str, Any], rate: int
              ) -> dict[str, Any]:
    """The largest change per classifier over ``clips``, and the spectral convergence."""
    again = {c: resynthesized(w, rate) for c, w in clips.items()}
    changes: dict[str, Any] = {}
    for name, model in models.items():
        worst: dict[str, Any] = {"largest": -1.0}
        for clip, wave in clips.items():
            with torch.no_grad():
                p, q = torch.softmax(model(torch.stack([wave, again[clip]])), -1)
            change = float((p - q).abs().max())
            if change > worst["largest"]:
                label = clip.split("/")[0]
                k = model.classes.index(label) if label in model.classes else int(p.argmax())
                worst = {"largest": change, "clip": clip, "class": model.classes[k],
                         "original": float(p[k]), "resynthesis": float(q[k])}
        changes[name] = worst
    convergence = {c: float((magnitude(clips[c]) - magnitude(again[c])).norm()
                            / magnitude(clips[c]).norm()) for c in clips}
    worst_clip = max(convergence, key=convergence.get)
    return {"n_clips": len(clips), "changes": changes,
            "convergence": {"median": float(torch.tensor(list(convergence.values())).median()),
                            "worst": convergence[worst_clip], "clip": worst_clip}}


def table(result: dict[str, Any]) -> list[str]:
    """The largest probability change per classifier (bold above amcli's warning level)."""
    names = result["classifiers"]
    smoke = " (smoke run: one clip, not the published set)" if result.get("smoke") else ""
    lines = [f"Largest change of a class probability by the unedited resynthesis{smoke}:", "",
             "| clips | condition | " + " | ".join(names)
             + " | spectral convergence (median, worst) |",
             "|---|---|" + "---|" * len(names) + "---|"]
    for row in result["rows"]:
        cells = []
        for name in names:
            value = row["changes"][name]["largest"]
            cells.append(f"**{value:.4f}**" if value > WARN_ABOVE else f"{value:.4f}")
        conv = row["convergence"]
        lines.append(f"| {row['clips']} ({row['n_clips']}) | {row['condition']} | "
                     + " | ".join(cells) + f" | {conv['median']:.4f}, {conv['worst']:.4f} |")
    worst = max((row["changes"][n]["largest"], n, row) for row in result["rows"] for n in names)
    value, name, row = worst
    where = row["changes"][name]
    lines += ["", f"Largest change in the table: {value:.4f} ({name}, {where['clip']} "
              f"{row['condition']}: p({where['class']}) {where['original']:.3f} against "
              f"{where['resynthesis']:.3f})."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+", default=list(CLASSIFIERS))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS),
                        help='"as is", "-20 dB" (level), "noise 20 dB" (white noise SNR)')
    parser.add_argument("--holdout", action="store_true",
                        help="add the held-out espeak voices (rendered by amcli synth)")
    parser.add_argument("--clips", nargs="+", type=Path, default=None,
                        help="WAV files or folders: a set of your own")
    parser.add_argument("--smoke", action="store_true",
                        help="one example clip, crnn_mel, one condition: checks the script runs")
    parser.add_argument("--name", default="prosody_fidelity")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    for name in args.conditions:  # a typo is one line and exit 2, before any model loads
        try:
            condition(torch.zeros(1), name)
        except ValueError as error:
            parser.error(str(error))
    if args.smoke:
        args.classifiers, args.conditions = ["crnn_mel"], ["noise 10 dB"]
    models = {name: load_classifier(name).eval() for name in args.classifiers}
    rate = next(iter(models.values())).sample_rate
    length = int(args.seconds * rate)
    sets = {"example clips": example_clips(rate, length, CLIPS[:1] if args.smoke else CLIPS)}
    with tempfile.TemporaryDirectory() as tmp:
        if args.holdout:
            sets["held-out voices"] = holdout_clips(Path(tmp) / "holdout", rate, length)
        if args.clips:
            sets["your clips"] = clips_under(args.clips, rate, length)
    rows = []
    for set_name, originals in sets.items():
        for state in args.conditions:
            clips = {c: condition(w, state, k) for k, (c, w) in enumerate(originals.items())}
            rows.append({"clips": set_name, "condition": state,
                         **score_set(clips, models, rate)})
            print(f"{set_name}, {state}: " + ", ".join(
                f"{n} {rows[-1]['changes'][n]['largest']:.3f}" for n in models), flush=True)
    result = {"classifiers": list(models), "smoke": args.smoke, "rows": rows}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join(["", *table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
