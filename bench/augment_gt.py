"""A cue-isolated corpus plus copies of its clips edited by amcli's own resynthesis in the
families the corpus does not vary: the training set of a ground-truth model that must ignore
what the prosody explainer edits.

Why: the ground-truth models learned their one family from corpora that vary the others with
espeak's pitch, low-pass filtering and soft clipping, never with amcli's WORLD resynthesis. So
they are not invariant to the explainer's edits of those families: gt_voice_w2v2 moves from 0.20
to 0.97 angry under a pitch shift of +2.8 semitones in one restart and -3.0 in the other, and
probability alone then cannot tell the families apart (ties at the objective's cap). A model
trained on these copies, with the labels of their originals, has seen every other family moved
by the explainer's own renderer without a change of class.

Each chosen clip (``--share`` of them, drawn with ``--seed``) gets ``--copies`` edited copies:
``amcli.am.Prosody`` with only the other families free, started at a random edit (``--spread``:
the standard deviation of the raw controls, whose tanh times the bound is the edit; 0.6 moves
pitch by up to about +-6.5 semitones), resynthesized and written beside the original in the
corpus' layout, same label and same voice (so the split by voices keeps each copy with its
original).

    python bench/augment_gt.py CORPUS OUT --family voice --copies 1 --share 0.5
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from amcli.am.prosody.controls import Prosody
from amcli.audio import read_audio, write_wav
from amcli.families import FAMILIES


def edited(wave: torch.Tensor, rate: int, families: list[str], seed: int,
           spread: float) -> torch.Tensor:
    """``wave`` resynthesized with a random edit of ``families``."""
    param = Prosody.from_clips(wave, rate, seeds=[seed], families=families, init_noise=spread)
    with torch.no_grad():
        return param.signal()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a corpus folder written by amcli synth")
    parser.add_argument("out", type=Path, help="the augmented corpus (a new folder)")
    parser.add_argument("--family", required=True, choices=FAMILIES,
                        help="the family the corpus varies: the copies leave it alone")
    parser.add_argument("--copies", type=int, default=1, help="edited copies per clip")
    parser.add_argument("--spread", type=float, default=0.6)
    parser.add_argument("--share", type=float, default=1.0,
                        help="the share of clips that get copies (drawn with --seed)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} exists; give a new folder")
    if not (args.corpus / "metadata.csv").is_file():
        parser.error(f"{args.corpus} has no metadata.csv: give a corpus written by amcli synth")
    with open(args.corpus / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "path" not in rows[0]:
        parser.error(f"{args.corpus}/metadata.csv has no 'path' column")
    others = [f for f in FAMILIES if f != args.family]
    shutil.copytree(args.corpus, args.out)
    kinds = [("edit", others)] * args.copies
    chosen = torch.rand(len(rows), generator=torch.Generator().manual_seed(args.seed)) \
        < args.share
    added = []
    torch.set_num_threads(1)
    for number, row in enumerate(tqdm(rows, desc="augment", unit="clip")):
        if not chosen[number]:
            continue
        wave, rate = read_audio(args.corpus / row["path"])
        for k, (kind, families) in enumerate(kinds):
            path = Path(row["path"])
            name = path.with_name(f"{path.stem}_{kind}{k}{path.suffix}")
            seed = args.seed * 1_000_003 + number * len(kinds) + k
            write_wav(args.out / name, edited(wave, rate, families, seed, args.spread), rate)
            added.append({**row, "path": str(name)})
    with open(args.out / "metadata.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows + added)
    print(f"wrote {args.out}: {len(rows)} clips and {len(added)} edited copies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
