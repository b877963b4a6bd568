"""Which conversions can a mask make? The shipped example clips x every target, per classifier.

Runs `amcli optimize`'s defaults (method=mask, extremal perturbation keeping `mask.area` of the
active frames) through the same code as the CLI, with every example clip paired with every
target, and prints per (clip class, target): the reached target probability, the probability of
the binarized mask (its top `area` share of active frames kept as is, the rest silenced) and the
kept area; medians over restarts. Then `method=input target=all` (the unconstrained baseline).

    python bench/mask_table.py --classifiers crnn_mel cnn_raw --restarts 2
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from amcli import am
from amcli.am.methods.input import InputOptions
from amcli.am.methods.mask import MaskOptions
from amcli.commands.optimize import input_clips, load_clips
from amcli.models import load_classifier
from amcli.resources import checkpoints_dir


def settings(model) -> am.RunSettings:
    """The CLI's defaults (steps, threshold, robustness transforms)."""
    return am.RunSettings(transforms=am.default_transforms(sample_rate=model.sample_rate))


def mask_rows(name: str, restarts: int, seed: int) -> tuple[list[str], float]:
    options = MaskOptions()
    model = load_classifier(name)
    targets = list(model.classes)
    clips = load_clips(input_clips(str(checkpoints_dir() / "examples"), targets), model)
    order = [c for c in model.classes if c in clips]
    clips = {c: clips[c] for c in order}
    items = am.build_items(targets, order, restarts, seed)
    started = time.perf_counter()
    outcome = am.run_items(am.get_method("mask"), options, model, items, clips, settings(model))
    seconds = time.perf_counter() - started
    result = outcome.result
    masks = [r["mask"] for r in outcome.records]
    rows = []
    for clip in order:
        for target in targets:
            idx = [i for i, it in enumerate(items) if it.clip == clip and it.target == target]
            p = np.median([float(result.target_prob[i]) for i in idx])
            pb = np.median([masks[i]["binarized_prob"] for i in idx])
            area = np.median([masks[i]["area"] for i in idx])
            ok = "yes" if p >= 0.9 and pb >= 0.9 and area <= options.area + 0.03 else "no"
            rows.append(f"| {name} | {clip} | {target} | {p:.3f} | {pb:.3f} | {area:.2f} | {ok} |")
    return rows, seconds


def input_row(name: str, restarts: int, seed: int) -> tuple[str, float]:
    model = load_classifier(name)
    items = am.build_items(list(model.classes), [], restarts, seed)
    started = time.perf_counter()
    result = am.run_items(am.get_method("input"), InputOptions(), model, items, None,
                          settings(model)).result
    seconds = time.perf_counter() - started
    probs = result.target_prob
    return (f"| {name} | {float(probs.min()):.3f} | {float(probs.median()):.3f} | "
            f"{max(result.steps)} | {seconds:.0f} s |"), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+",
                        default=["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw"])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-mask", action="store_true", help="only the method=input table")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    if not args.skip_mask:
        print("| classifier | clip (its class) | target | reached p | binarized p | area | "
              "p and binarized p >= 0.9 |")
        print("|---|---|---|---|---|---|---|")
        timings = []
        for name in args.classifiers:
            rows, seconds = mask_rows(name, args.restarts, args.seed)
            timings.append(f"{name}: {seconds:.0f} s for {len(rows) * args.restarts} items")
            print("\n".join(rows), flush=True)
        print("\nmask runs: " + "; ".join(timings))
    print("\n| classifier | method=input, min p over targets x restarts | median p | "
          "steps (max) | time |")
    print("|---|---|---|---|---|")
    for name in args.classifiers:
        row, _ = input_row(name, args.restarts, args.seed)
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
