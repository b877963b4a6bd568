"""How faithful is method=prosody's unedited resynthesis? Each classifier's probabilities of the
example clips against those of their resynthesis without edits.

Every example clip (3 s) is analysed and fitted as method=prosody does, resynthesized with no
edit, and scored by every classifier named; the table gives, per classifier, the largest change
of any class probability over the clips, and the spectral convergence of the resynthesis
(||S - S'|| / ||S|| of 1024-point STFT magnitudes). ``--hops`` compares synthesis frame rates
(the shipped grid is the method's own, amcli.am.methods.prosody.synthesis_grid).

    python bench/prosody_fidelity.py
    python bench/prosody_fidelity.py --hops 56 112 --classifiers crnn_mel cnn_raw
    python bench/prosody_fidelity.py --classifiers w2v2_tiny --draws 8
    python bench/prosody_fidelity.py --conditions "as is" "-20 dB" "noise 20 dB" "noise 10 dB"
    python bench/prosody_fidelity.py --clips holdout/neutral holdout/angry   # other voices

``--conditions`` changes the clips before anything else, as recordings unlike the corpus would
be: a lower recording level, or white background noise at a signal-to-noise ratio (seeded).
``--clips`` takes other clips (files or folders of WAVs; e.g. the held-out voices of
``amcli synth speakers=holdout``): a clip's class is its file's or folder's name when the model
has that class.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from amcli.am.methods.prosody import synthesis_grid
from amcli.am.prosody.analysis import analyse
from amcli.am.prosody.synthesis import Edits, fit, synthesize, white_noise_stft
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.models import load_classifier
from amcli.resources import example_clip

CLIPS = ("neutral", "happy", "sad", "angry")
CLASSIFIERS = ("crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw", "judge", "w2v2_tiny", "gt_pitch",
               "gt_loudness", "gt_tempo", "gt_voice")


def magnitude(wave: torch.Tensor) -> torch.Tensor:
    return torch.stft(wave, 1024, 256, window=torch.hann_window(1024),
                      return_complex=True).abs()


def resynthesized(wave: torch.Tensor, rate: int, hop: int, draws: int = 1) -> torch.Tensor:
    """[draws, samples]: the unedited resynthesis with noise seeds 0, 1, ..."""
    n_fft, _ = synthesis_grid(rate)
    source = fit(analyse(wave, rate, hop=hop, n_fft=n_fft), wave)
    frames = wave.shape[-1] // hop + 1
    return torch.cat([synthesize(source, Edits.none(1, frames),
                                 white_noise_stft([seed], wave.shape[-1], n_fft, hop),
                                 wave.shape[-1]) for seed in range(draws)])


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
    raise SystemExit(f"unknown condition {name!r}: 'as is', '-20 dB', 'noise 20 dB'")


def load_clips(paths: list[str] | None, rate: int, length: int) -> dict[str, torch.Tensor]:
    """name -> clip: the shipped example clips, or every WAV under ``paths``."""
    if not paths:
        return {c: crop_or_pad(read_audio(example_clip(c), rate)[0], length) for c in CLIPS}
    found = {}
    for path in map(Path, paths):
        files = sorted(path.rglob("*.wav")) if path.is_dir() else [path]
        for f in files:
            label = f.parent.name if path.is_dir() else f.stem
            found[f"{label}/{f.stem}"] = crop_or_pad(read_audio(f, rate)[0], length)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+", default=list(CLASSIFIERS))
    parser.add_argument("--hops", nargs="+", type=int, default=None,
                        help="synthesis hops in samples (default: the method's own)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--draws", type=int, default=1,
                        help="noise draws per clip: report the largest change of the median "
                             "draw and of the worst (some models hear which draw it is)")
    parser.add_argument("--conditions", nargs="+", default=["as is"],
                        help='"as is", "-20 dB" (level), "noise 20 dB" (white noise SNR)')
    parser.add_argument("--clips", nargs="+", default=None,
                        help="WAV files or folders instead of the example clips")
    args = parser.parse_args(argv)
    models = {name: load_classifier(name).eval() for name in args.classifiers}
    rate = next(iter(models.values())).sample_rate
    hops = args.hops or [synthesis_grid(rate)[1]]
    length = int(args.seconds * rate)
    originals = load_clips(args.clips, rate, length)
    extra = " worst draw |" if args.draws > 1 else ""
    print("| condition | hop (samples) | classifier | largest probability change | on clip | "
          f"p(clip's class): original / resynthesis |{extra}")
    print("|---|---|---|---|---|---|" + ("---|" if extra else ""))
    for state in args.conditions:
        clips = {c: condition(w, state, k) for k, (c, w) in enumerate(originals.items())}
        report(state, clips, models, hops, rate, args.draws, extra)
    return 0


def report(state: str, clips: dict[str, torch.Tensor], models: dict, hops: list[int], rate: int,
           draws: int, extra: str) -> None:
    """One condition's rows: per hop and classifier the largest change, and the spectral
    convergence per clip."""
    for hop in hops:
        again = {c: resynthesized(w, rate, hop, draws) for c, w in clips.items()}
        for name, model in models.items():
            worst, where, pair, worst_draw = 0.0, "", "", 0.0
            for clip, wave in clips.items():
                with torch.no_grad():
                    p, *q = torch.softmax(model(torch.cat([wave[None], again[clip]])), -1)
                changes = torch.stack([(p - one).abs().max() for one in q])
                change = float(changes.median())  # the first draw's when there is one
                worst_draw = max(worst_draw, float(changes.max()))
                if change >= worst:
                    label = clip.split("/")[0]
                    k = model.classes.index(label) if label in model.classes \
                        else int(p.argmax())
                    worst, where = change, clip
                    pair = f"{float(p[k]):.3f} / {float(q[0][k]):.3f}"
            tail = f" {worst_draw:.3f} |" if extra else ""
            print(f"| {state} | {hop} | {name} | {worst:.3f} | {where} | {pair} |{tail}",
                  flush=True)
        again = {c: w[0] for c, w in again.items()}
        convergence = {c: float((magnitude(clips[c]) - magnitude(again[c])).norm()
                                / magnitude(clips[c]).norm()) for c in clips}
        worst_clip = max(convergence, key=convergence.get)
        print(f"| {state} | {hop} | spectral convergence | median "
              f"{float(torch.tensor(list(convergence.values())).median()):.3f}, worst "
              f"{convergence[worst_clip]:.3f} ({worst_clip}) | | |" + (" |" if extra else ""),
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
