"""Can amcli's edits imitate the voice corpus' classes? The spectral balance, measured.

The voice classes of the cue-isolated corpus (``amcli synth isolate=[voice]``) differ by a
low-pass filter (sad) and soft clipping (angry); the prosody explainer's voice family edits
spectral tilt and breathiness instead, through the WORLD resynthesis. Prosody attribution names
voice on few clips of gt_voice_w2v2, with pitch reaching angry about as well as voice. This
script measures the reason on the spectrum: on neutral clips of the voices no ground-truth model
heard (m4, f2), rendered with the voice models' recipe, it compares what each class of the corpus
does to the spectral balance with what each of the explainer's edits does to it.

Three measures per clip, over its active frames: the spectral centroid (Hz), the share of the
power above 3 kHz (dB), and the crest factor (peak over RMS of each 64 ms frame, dB, median over
frames), which soft clipping lowers. Per class, the median over its clips; per edit (one control
held constant over the clip, near or at its bound, every other control at rest), the median over
the neutral clips of the shift from the unedited clip.

    python bench/voice_cues.py            # 12 clips per class
    python bench/voice_cues.py --smoke    # 2 clips per class: the script runs

Writes bench/results/voice_cues.json.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pipeline import CORPUS
from results_file import write_result  # bench/ is the script's own folder

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*CORPUS, "amcli/am/prosody", "amcli/metrics/cues.py", "amcli/audio.py",
            "amcli/activity.py")

#: the held-out voices and corpus seed of bench/ground_truth_which.py (neutral clips there)
HELD_OUT = ["en-m4", "en-us-m4", "en-f2", "en-us-f2"]
CORPUS_SEED = 7003
CLASSES = ("neutral", "sad", "angry")
#: the edits: control -> value (pitch in semitones; tilt and breathiness as a share of their
#: bound). Pitch stops at 11.5 of its 12 semitones: the bound is tanh's asymptote
EDITS = {"pitch +6 st": ("pitch", 6.0), "pitch +11.5 st": ("pitch", 11.5),
         "pitch -6 st": ("pitch", -6.0), "pitch -11.5 st": ("pitch", -11.5),
         "tilt +95%": ("tilt", 0.95), "tilt -95%": ("tilt", -0.95),
         "breathiness +95%": ("breath", 0.95)}
HIGH_HZ = 3000.0


def spectral_balance(wave: np.ndarray, rate: int) -> dict[str, float]:
    """The spectral centroid (Hz), the power above HIGH_HZ as a share of all (dB) and the
    median crest factor of 1024-sample frames (dB), over the clip's active frames
    (amcli.activity's, on the same centred 1024/256 frame grid as the STFT)."""
    import librosa

    from amcli.activity import active_frames
    from amcli.metrics.cues import measure_cues

    active = active_frames(torch.as_tensor(wave)[None], 256, 1024)[0].numpy()
    power = np.abs(librosa.stft(wave, n_fft=1024, hop_length=256)) ** 2
    freqs = librosa.fft_frequencies(sr=rate, n_fft=1024)
    high = power[freqs > HIGH_HZ][:, active].sum() / power[:, active].sum()
    framed = librosa.util.frame(np.pad(wave, 512), frame_length=1024, hop_length=256)
    rms = np.sqrt((framed[:, active] ** 2).mean(0))
    crest = 20 * np.log10(np.abs(framed[:, active]).max(0) / rms)
    return {"centroid_hz": float(measure_cues(wave, rate)["centroid_hz"]),
            "high_db": float(10 * np.log10(max(high, 1e-12))),
            "crest_db": float(np.median(crest))}


def edited(wave: np.ndarray, rate: int, control: str, value: float) -> np.ndarray:
    """``wave`` resynthesized with one control of amcli's prosody edit held at ``value``."""
    from amcli.am.prosody.controls import Prosody

    param = Prosody.from_clips(torch.as_tensor(wave)[None], rate, seeds=[0], init_noise=0.0)
    unit = value / param.bounds.pitch_st if control == "pitch" else value
    with torch.no_grad():
        param.raw.zero_()
        param.raw[:, param._slices[control]] = math.atanh(unit)
        return param.signal()[0].numpy()


def measure(folder: Path, n: int) -> dict[str, Any]:
    from amcli.audio import read_audio

    with open(folder / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    classes: dict[str, list[dict[str, float]]] = {}
    shifts: dict[str, list[dict[str, float]]] = {name: [] for name in EDITS}
    for label in CLASSES:
        for row in [r for r in rows if r["label"] == label][:n]:
            wave, rate = read_audio(folder / row["path"])
            wave = np.asarray(wave, dtype=np.float32).reshape(-1)
            before = spectral_balance(wave, rate)
            classes.setdefault(label, []).append(before)
            if label != "neutral":
                continue
            for name, (control, value) in EDITS.items():
                after = spectral_balance(edited(wave, rate, control, value), rate)
                shifts[name].append({k: after[k] - before[k] for k in before})
    return {"classes": {label: median(values) for label, values in classes.items()},
            "edits": {name: median(values) for name, values in shifts.items()},
            "clips": {label: len(values) for label, values in classes.items()}}


def median(values: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(v[key] for v in values) for key in values[0]}


def table(result: dict[str, Any]) -> list[str]:
    """The classes' spectral balance and its shift from neutral; then each edit's shift of a
    neutral clip's."""
    classes, neutral = result["classes"], result["classes"]["neutral"]
    lines = ["| the corpus' class, or amcli's edit of a neutral clip | spectral centroid | "
             "shift | power above 3 kHz | shift | crest factor | shift |",
             "|---|---|---|---|---|---|---|"]
    for label, values in classes.items():
        shift = {k: values[k] - neutral[k] for k in values}
        lines.append(f"| class {label} | {values['centroid_hz']:.0f} Hz | "
                     f"{shift['centroid_hz']:+.0f} Hz | {values['high_db']:.1f} dB | "
                     f"{shift['high_db']:+.1f} dB | {values['crest_db']:.1f} dB | "
                     f"{shift['crest_db']:+.1f} dB |")
    for name, shift in result["edits"].items():
        lines.append(f"| edit: {name} | - | {shift['centroid_hz']:+.0f} Hz | - | "
                     f"{shift['high_db']:+.1f} dB | - | {shift['crest_db']:+.1f} dB |")
    clips = ", ".join(f"{k} {v}" for k, v in result["clips"].items())
    return [*lines, "", f"Medians over the clips ({clips}); a class's shift is from the neutral "
            "class's median, an edit's is measured on each neutral clip against the same clip "
            "unedited."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12, help="clips per class")
    parser.add_argument("--smoke", action="store_true", help="2 clips per class")
    parser.add_argument("--name", default="voice_cues")
    parser.add_argument("--out", type=Path, default=None, help="folder of the result file")
    args = parser.parse_args(argv)
    n = 2 if args.smoke else args.clips

    from amcli.data.synth import write_corpus

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        write_corpus(folder, classes=list(CLASSES), n_per_class=n, speakers=HELD_OUT,
                     seed=CORPUS_SEED, isolate=["voice"])
        result = {"clips_per_class": n, "seed": CORPUS_SEED, "smoke": args.smoke,
                  **measure(folder, n)}
    print("\n".join(table(result)))
    extra = {} if args.out is None else {"folder": args.out}
    print(f"wrote {write_result(args.name, result, argv, **extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
