"""Regenerate the picture on the README and the docs' home page, and its caption, from the
current code.

It runs ``amcli optimize method=prosody`` on the shipped neutral example clip with target
``angry`` (crnn_mel, one restart, the method's defaults), copies the item's prosody plot (F0 and
level before and after the edit, and the time warp) to
``docs/images/prosody_neutral_to_angry.png``, and writes the edit and the probabilities to
bench/results/readme_figure.json; the README's caption is rendered from that file
(``python bench/views.py --update README.md``), so the words under the picture are the run's.

    python bench/readme_figure.py
    python bench/readme_figure.py --smoke     # a few steps, into a temporary folder
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.am.methods.prosody import edit_words
from amcli.cli import main as amcli
from amcli.resources import example_clip

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / "docs" / "images" / "prosody_neutral_to_angry.png"

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = (*OPTIMIZE, "amcli/report/plots.py")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("prosody",)


def readme(result: dict[str, Any]) -> list[str]:
    """The caption under the README's picture."""
    item, target = result["item"], result["target"]
    edit = item["prosody"]
    undone = (edit.get("pruned") or {}).get("families") or []
    judge = item.get("judge_prob")
    judged = "" if judge is None else (f" (and an independent judge model hears it as "
                                       f"{target} at {judge:.2f})")
    return [f"*What makes the default classifier hear a neutral sentence as {target}? `amcli "
            f"optimize method=prosody input=checkpoints/examples/neutral.wav target={target}` "
            "edits the clip's pitch, loudness, tempo and voice quality through a differentiable "
            "resynthesis and finds the least edit that does it: here "
            f"`{edit_words(edit, undone)}` takes p({target}) from {edit['original_prob']:.2f} "
            f"to {item['target_prob']:.2f}{judged}. Top: F0 before and after; middle: the "
            "level; bottom: the time warp. The picture and these figures come from one run of "
            "`python bench/readme_figure.py`.*"]


def table(result: dict[str, Any]) -> list[str]:
    item, edit = result["item"], result["item"]["prosody"]
    undone = (edit.get("pruned") or {}).get("families") or []
    return ["| classifier | clip -> target | p before | p after | judge | edit |",
            "|---|---|---|---|---|---|",
            f"| {result['classifier']} | neutral -> {result['target']} | "
            f"{edit['original_prob']:.3f} | {item['target_prob']:.3f} | "
            f"{item.get('judge_prob') or float('nan'):.3f} | {edit_words(edit, undone)} |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--target", default="angry")
    parser.add_argument("--picture", type=Path, default=PICTURE)
    parser.add_argument("--smoke", action="store_true",
                        help="five steps; the picture goes beside the result, not to the docs")
    parser.add_argument("--name", default="readme_figure")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    extra = ["steps=5", "min_steps=1", "prosody.init_candidates=1"] if args.smoke else []
    picture = args.out / "readme_figure.png" if args.smoke else args.picture
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        code = amcli(["optimize", "method=prosody", f"input={example_clip('neutral')}",
                      f"target={args.target}", f"classifier={args.classifier}", "quiet=true",
                      f"hydra.run.dir={run}", *extra])
        if code:
            return code
        item = json.loads((run / "metrics.json").read_text())["items"][0]
        plot = run / "plots" / f"{Path(item['output']).stem}_prosody.png"
        picture.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plot, picture)
    kept = {k: item.get(k) for k in ("target", "target_prob", "judge_prob", "prosody")}
    result = {"classifier": args.classifier, "target": args.target, "smoke": args.smoke,
              "picture": str(picture.relative_to(ROOT)) if picture.is_relative_to(ROOT)
              else str(picture), "item": kept}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join([*table(result), "", *readme(result), "", f"written: {out}, {picture}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
