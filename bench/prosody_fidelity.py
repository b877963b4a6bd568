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
"""

from __future__ import annotations

import argparse
import sys

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+", default=list(CLASSIFIERS))
    parser.add_argument("--hops", nargs="+", type=int, default=None,
                        help="synthesis hops in samples (default: the method's own)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--draws", type=int, default=1,
                        help="noise draws per clip: report the largest change of the median "
                             "draw and of the worst (some models hear which draw it is)")
    args = parser.parse_args(argv)
    models = {name: load_classifier(name).eval() for name in args.classifiers}
    rate = next(iter(models.values())).sample_rate
    hops = args.hops or [synthesis_grid(rate)[1]]
    length = int(args.seconds * rate)
    clips = {c: crop_or_pad(read_audio(example_clip(c), rate)[0], length) for c in CLIPS}
    extra = " worst draw |" if args.draws > 1 else ""
    print("| hop (samples) | classifier | largest probability change | on clip | "
          f"p(clip's class): original / resynthesis |{extra}")
    print("|---|---|---|---|---|" + ("---|" if extra else ""))
    for hop in hops:
        again = {c: resynthesized(w, rate, hop, args.draws) for c, w in clips.items()}
        for name, model in models.items():
            worst, where, pair, worst_draw = 0.0, "", "", 0.0
            for clip, wave in clips.items():
                with torch.no_grad():
                    p, *q = torch.softmax(model(torch.cat([wave[None], again[clip]])), -1)
                changes = torch.stack([(p - one).abs().max() for one in q])
                change = float(changes.median())  # the first draw's when there is one
                worst_draw = max(worst_draw, float(changes.max()))
                if change >= worst:
                    k = model.classes.index(clip) if clip in model.classes else int(p.argmax())
                    worst, where = change, clip
                    pair = f"{float(p[k]):.3f} / {float(q[0][k]):.3f}"
            tail = f" {worst_draw:.3f} |" if extra else ""
            print(f"| {hop} | {name} | {worst:.3f} | {where} | {pair} |{tail}", flush=True)
        again = {c: w[0] for c, w in again.items()}
        convergence = [float((magnitude(clips[c]) - magnitude(again[c])).norm()
                             / magnitude(clips[c]).norm()) for c in CLIPS]
        print(f"| {hop} | spectral convergence per clip | "
              f"{', '.join(f'{c} {v:.3f}' for c, v in zip(CLIPS, convergence, strict=True))}"
              " | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
