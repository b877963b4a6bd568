"""method=prosody against the clip-wide edit grid of paralinguistic explainers, side by side.

The nearest existing tool (ferret's paralinguistic explainer, Pastor et al. 2023) applies fixed,
clip-wide edits and reads the probability change. This runs that approach as a black-box grid on
one clip and one classifier: every combination of a pitch shift (-4..+4 semitones, librosa's
pitch_shift, which moves formants with the pitch), a speaking rate (0.8-1.25, librosa's
time_stretch) and a gain (-9..+12 dB), 9 x 5 x 8 = 360 edits; then `amcli optimize
method=prosody` on the same clip and classifier, 4 restarts, twice: with its defaults (the least
edit that reaches p about 0.97) and for the most probable edit (objective.kind=logit
objective.cap=null prosody.penalty=0: no size preference, as the grid maximizes p); and prints,
per target, the best probability each reached and with what edits.

    python bench/prosody_grid.py --classifier crnn_mel --targets happy sad angry
    python bench/prosody_grid.py --smoke      # a 2 x 1 x 2 grid, one restart of 3 steps

Writes bench/results/<--name>.json (default prosody_grid) and prints the table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.audio import read_audio
from amcli.cli import main as amcli
from amcli.data.base import crop_or_pad
from amcli.models import load_classifier
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = OPTIMIZE


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)

PITCHES_ST = (-4, -3, -2, -1, 0, 1, 2, 3, 4)
RATES = (0.8, 0.9, 1.0, 1.1, 1.25)
GAINS_DB = (-9, -6, -3, 0, 3, 6, 9, 12)
#: the grid of --smoke
SMOKE_GRID = ((0, 2), (1.0,), (0, 6))


def edit(wave: np.ndarray, sample_rate: int, length: int, pitch_st: float = 0.0,
         rate: float = 1.0, gain_db: float = 0.0) -> torch.Tensor:
    """One clip-wide edit of ``wave``: librosa's pitch_shift (formants move with the pitch),
    then its time_stretch, then a gain; clipped to [-1, 1] and padded to at least ``length``."""
    import librosa

    edited = librosa.effects.pitch_shift(wave, sr=sample_rate, n_steps=pitch_st) \
        if pitch_st else wave
    edited = librosa.effects.time_stretch(edited, rate=rate) if rate != 1.0 else edited
    edited = torch.from_numpy(np.asarray(edited * 10 ** (gain_db / 20), dtype=np.float32))
    return crop_or_pad(edited.clamp(-1, 1), max(length, edited.shape[-1]), offset=0)


def grid(classifier: str, clip: str, targets: list[str],
         axes: tuple[tuple, tuple, tuple] = (PITCHES_ST, RATES, GAINS_DB)
         ) -> dict[str, tuple[float, str]]:
    """Best target probability over the grid, with its edits, per target."""
    model = load_classifier(classifier).eval()
    rate = model.sample_rate
    length = int(model.checkpoint["meta"].get("clip_seconds", 3.0) * rate)
    wave = read_audio(example_clip(clip), rate)[0].numpy()
    best = {t: (0.0, "") for t in targets}
    for pitch, speed, gain in itertools.product(*axes):
        edited = edit(wave, rate, length, pitch_st=pitch, rate=speed, gain_db=gain)
        with torch.no_grad():
            probs = torch.softmax(model(edited[None]), -1)[0]
        for target in targets:
            p = float(probs[model.classes.index(target)])
            if p > best[target][0]:
                best[target] = (p, f"{pitch:+d} st, rate x{speed:g}, {gain:+d} dB")
    return best


#: The two ways of running method=prosody side by side with the grid.
MODES = {"least edit (defaults)": [],
         "most probable": ["objective.kind=logit", "objective.cap=null", "prosody.penalty=0"]}


def prosody(classifier: str, clip: str, targets: list[str], restarts: int, folder: Path,
            extra: list[str]) -> dict[str, list[tuple[float, str]]]:
    from amcli.am.methods import get_method

    argv = ["optimize", "method=prosody", f"classifier={classifier}",
            f"input={example_clip(clip)}", f"target=[{','.join(targets)}]",
            f"restarts={restarts}", "quiet=true", "cues=false", "judge=null",
            f"hydra.run.dir={folder}", *extra]
    if amcli(argv) != 0:
        raise SystemExit(f"amcli {' '.join(argv)} failed")
    method = get_method("prosody")
    rows: dict[str, list[tuple[float, str]]] = {t: [] for t in targets}
    for item in json.loads((folder / "metrics.json").read_text())["items"]:
        rows[item["target"]].append((item["target_prob"], method.headline(item)))
    return rows


def table(result: dict) -> list[str]:
    """Per target: the grid's best edit, and each prosody mode's best restart (median)."""
    smoke = " Smoke run: not a measurement." if result.get("smoke") else ""
    lines = [f"{result['classifier']}, the {result['clip']} example clip; grid: "
             f"{result['grid_size']} clip-wide edits (librosa pitch_shift, time_stretch, gain); "
             f"prosody: {result['restarts']} restarts.{smoke}", "",
             "| target | run | best p (median over restarts) | its edit | reached more than "
             "the grid |", "|---|---|---|---|---|"]
    for target in result["targets"]:
        g, g_edit = result["grid"][target]
        lines.append(f"| {target} | clip-wide grid | {g:.3f} | {g_edit} | - |")
        for mode, rows in result["prosody"].items():
            best_p, best_edit = max(rows[target])
            median = float(np.median([p for p, _ in rows[target]]))
            lines.append(f"| {target} | prosody, {mode} | {best_p:.3f} ({median:.3f}) | "
                         f"{best_edit} | {'yes' if best_p > g else 'no'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--clip", default="neutral")
    parser.add_argument("--targets", nargs="+", default=["happy", "sad", "angry"])
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="tiny grid, one short restart")
    parser.add_argument("--name", default="prosody_grid")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    axes, extra = (PITCHES_ST, RATES, GAINS_DB), []
    if args.smoke:
        axes, args.restarts = SMOKE_GRID, 1
        extra = ["steps=3", "min_steps=1", "prosody.init_candidates=4"]
    clip_wide = grid(args.classifier, args.clip, args.targets, axes)
    with tempfile.TemporaryDirectory() as work:
        optimized = {mode: prosody(args.classifier, args.clip, args.targets, args.restarts,
                                   Path(work) / str(k), [*mode_extra, *extra])
                     for k, (mode, mode_extra) in enumerate(MODES.items())}
    result = {"classifier": args.classifier, "clip": args.clip, "targets": args.targets,
              "restarts": args.restarts, "smoke": args.smoke,
              "grid_size": len(list(itertools.product(*axes))), "grid": clip_wide,
              "prosody": optimized}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join([*table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
