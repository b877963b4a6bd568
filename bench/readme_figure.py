"""Regenerate the picture on the README and the docs' home page from the current code.

It runs ``amcli optimize method=prosody`` on the shipped neutral example clip with target
``angry`` (crnn_mel, one restart, the method's defaults) and copies the item's prosody plot, F0
and level before and after the edit, to ``docs/images/prosody_neutral_to_angry.png``; it prints
the edit and the probabilities so the caption can be checked against them.

    python bench/readme_figure.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from amcli.cli import main as amcli
from amcli.resources import example_clip

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--target", default="angry")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "docs" / "images" / "prosody_neutral_to_angry.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        code = amcli(["optimize", "method=prosody", f"input={example_clip('neutral')}",
                      f"target={args.target}", f"classifier={args.classifier}", "quiet=true",
                      f"hydra.run.dir={run}"])
        if code:
            return code
        item = json.loads((run / "metrics.json").read_text())["items"][0]
        plot = run / "plots" / f"{Path(item['output']).stem}_prosody.png"
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plot, args.out)
    edit = item["prosody"]
    print(f"wrote {args.out.relative_to(ROOT)}: {args.classifier}, neutral clip -> "
          f"{args.target}: p {edit['original_prob']:.3f} -> {item['target_prob']:.3f}, "
          f"judge {item.get('judge_prob', float('nan')):.3f}; pitch "
          f"{edit['pitch_shift_st']['mean']:+.1f} st, range x{edit['range_scale']:.2f}, "
          f"gain {edit['gain_db']['mean']:+.1f} dB, rate x{edit['rate']:.2f}, tilt "
          f"{edit['tilt_db_per_oct']:+.1f} dB/oct, breathiness {edit['breathiness']:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
