"""Which prosodic cues move each shipped classifier? `method=prosody attribution=true` per model.

For every classifier, from the neutral example clip, each target is optimized with each control
family alone (pitch, loudness, tempo, voice) and with all of them, in one batch (amcli's
defaults otherwise); the table gives per family the median [min-max] reached target
probability over restarts, the no-edit baseline and amcli's reading (the leader, or a tie), next
to the cues the synthetic corpus put into each class (amcli.data.synth.cues). With two or more
``--seeds`` it also says whether the reading is the same for every seed (stability).

    python bench/attribution.py --classifiers crnn_mel cnn_mel --restarts 2 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from amcli.cli import main as amcli
from amcli.families import FAMILIES
from amcli.metrics.attribution import reading_label, stats_cell
from amcli.resources import example_clip

#: What amcli synth puts into each class, relative to neutral (amcli.data.synth.cues.PROFILES).
CORPUS = {
    "happy": "pitch +3 st, range x1.75, rate x1.08, +1.5 dB",
    "sad": "pitch -2.6 st, range x0.55, rate x0.8, -5 dB, low-pass 2.5 kHz (darker)",
    "angry": "pitch +2.2 st, range x1.65, rate x1.18, +5 dB, soft clipping (harsher, brighter)",
}


def run(classifier: str, targets: list[str], restarts: int, folder: Path, seed: int = 0,
        extra: list[str] | None = None) -> dict:
    argv = ["optimize", "method=prosody", "prosody.attribution=true", f"classifier={classifier}",
            f"input={example_clip('neutral')}", f"target=[{','.join(targets)}]",
            f"restarts={restarts}", f"seed={seed}", "quiet=true", "cues=false", "judge=null",
            f"hydra.run.dir={folder}", *(extra or [])]
    if amcli(argv) != 0:
        raise SystemExit(f"amcli {' '.join(argv)} failed")
    return json.loads((folder / "metrics.json").read_text())["summary"]["attribution"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+",
                        default=["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw"])
    parser.add_argument("--targets", nargs="+", default=["happy", "sad", "angry"])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--extra", nargs="*", default=[],
                        help="more amcli overrides, e.g. clip_seconds=0 or custom.* keys")
    args = parser.parse_args(argv)
    print("| classifier | target | no edit | pitch alone | loudness alone | tempo alone | "
          "voice alone | all | reading (per seed) | same across seeds | what the corpus put in |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    same = total = 0
    with tempfile.TemporaryDirectory() as work:
        for name in args.classifiers:
            tables = [run(name, args.targets, args.restarts, Path(work) / f"{name}_{seed}",
                          seed, args.extra) for seed in args.seeds]
            for target in args.targets:
                rows = [t[target] for t in tables]
                first = rows[0]
                cells = " | ".join(stats_cell(first["variants"].get(f)) for f in FAMILIES)
                readings = [reading_label(r) for r in rows]
                agree = len(set(readings)) == 1
                same, total = same + agree, total + 1
                base = first["baseline"]
                print(f"| {name} | {target} | {'-' if base is None else f'{base:.2f}'} | "
                      f"{cells} | {stats_cell(first['variants'].get('all'))} | "
                      f"{' / '.join(readings)} | {'yes' if agree else 'no'} | "
                      f"{CORPUS.get(target, '-')} |", flush=True)
    if len(args.seeds) > 1:
        print(f"\nthe same reading for every seed in {same} of {total} rows ({same / total:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
