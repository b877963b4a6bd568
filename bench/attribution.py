"""Which prosodic cues move each shipped classifier? `method=prosody attribution=true` per model.

For every classifier, from the neutral example clip, each target is optimized with each control
family alone (pitch, loudness, tempo, voice) and with all of them, in one batch (amcli's
defaults otherwise); the table gives the median reached target probability per family, next to
the cues the synthetic corpus put into each class (amcli.data.synth.cues). A family that alone
reaches a high probability is one the model can be moved by.

    python bench/attribution.py --classifiers crnn_mel cnn_mel --restarts 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from amcli.cli import main as amcli
from amcli.resources import example_clip

#: What amcli synth puts into each class, relative to neutral (amcli.data.synth.cues.PROFILES).
CORPUS = {
    "happy": "pitch +3 st, range x1.75, rate x1.08, +1.5 dB",
    "sad": "pitch -2.6 st, range x0.55, rate x0.8, -5 dB, low-pass 2.5 kHz (darker)",
    "angry": "pitch +2.2 st, range x1.65, rate x1.18, +5 dB, soft clipping (harsher, brighter)",
}
FAMILIES = ("pitch", "loudness", "tempo", "voice")


def run(classifier: str, targets: list[str], restarts: int, folder: Path) -> dict:
    argv = ["optimize", "method=prosody", "prosody.attribution=true", f"classifier={classifier}",
            f"input={example_clip('neutral')}", f"target=[{','.join(targets)}]",
            f"restarts={restarts}", "quiet=true", "cues=false", "judge=null",
            f"hydra.run.dir={folder}"]
    if amcli(argv) != 0:
        raise SystemExit(f"amcli {' '.join(argv)} failed")
    return json.loads((folder / "metrics.json").read_text())["summary"]["attribution"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+",
                        default=["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw"])
    parser.add_argument("--targets", nargs="+", default=["happy", "sad", "angry"])
    parser.add_argument("--restarts", type=int, default=2)
    args = parser.parse_args(argv)
    print("| classifier | target | pitch alone | loudness alone | tempo alone | voice alone | "
          "all | strongest alone | what the corpus put in |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for name in args.classifiers:
            table = run(name, args.targets, args.restarts, Path(work) / name)
            for target in args.targets:
                row = table[target]
                strongest = max(FAMILIES, key=lambda f: row[f])
                cells = " | ".join(f"{row[f]:.2f}" for f in FAMILIES)
                print(f"| {name} | {target} | {cells} | {row['all']:.2f} | {strongest} | "
                      f"{CORPUS.get(target, '-')} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
