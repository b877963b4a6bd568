"""Which conversions can a mask make? The shipped example clips x every target, per classifier.

Runs `amcli optimize`'s defaults (method=mask, extremal perturbation keeping `mask.area` of the
active frames) through the same code as the CLI, with every example clip paired with every
target, and prints per (clip class, target): the reached target probability, the probability of
the binarized mask (its top `area` share of active frames kept as is, the rest silenced) and the
kept area; medians over restarts. Then `method=input target=all` (the unconstrained baseline).

    python bench/mask_table.py --classifiers crnn_mel cnn_raw --restarts 2
    python bench/mask_table.py --smoke        # crnn_mel, one restart of 3 steps

Writes bench/results/<--name>.json (default mask_table) and prints the tables; the times are
wall times of this machine, so run it alone to quote them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from pipeline import OPTIMIZE
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli import am
from amcli.am.methods.input import InputOptions
from amcli.am.methods.mask import MaskOptions
from amcli.commands.optimize import input_clips, load_clips
from amcli.models import load_classifier
from amcli.resources import checkpoints_dir

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = OPTIMIZE


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of)."""
    return ("mask", "input")


def settings(model, extra: dict) -> am.RunSettings:
    """The CLI's defaults (steps, threshold, robustness transforms), with ``extra`` fields."""
    return am.RunSettings(transforms=am.default_transforms(sample_rate=model.sample_rate),
                          **extra)


def mask_cells(name: str, restarts: int, seed: int, extra: dict) -> dict:
    """Per clip class and target: medians over restarts of the reached p, the binarized mask's
    p and the kept area, and whether all three pass."""
    options = MaskOptions()
    model = load_classifier(name)
    targets = list(model.classes)
    clips = load_clips(input_clips(str(checkpoints_dir() / "examples"), targets), model)
    order = [c for c in model.classes if c in clips]
    clips = {c: clips[c] for c in order}
    items = am.build_items(targets, order, restarts, seed)
    started = time.perf_counter()
    outcome = am.run_items(am.get_method("mask"), options, model, items, clips,
                           settings(model, extra))
    seconds = time.perf_counter() - started
    result = outcome.result
    masks = [r["mask"] for r in outcome.records]
    cells: dict[str, dict] = {}
    for clip in order:
        for target in targets:
            idx = [i for i, it in enumerate(items) if it.clip == clip and it.target == target]
            p = float(np.median([float(result.target_prob[i]) for i in idx]))
            pb = float(np.median([masks[i]["binarized_prob"] for i in idx]))
            area = float(np.median([masks[i]["area"] for i in idx]))
            cells.setdefault(clip, {})[target] = {
                "p": p, "binarized": pb, "area": area,
                "ok": p >= 0.9 and pb >= 0.9 and area <= options.area + 0.03}
    return {"classes": targets, "clips": order, "cells": cells, "items": len(items),
            "seconds": seconds}


def input_row(name: str, restarts: int, seed: int, extra: dict) -> dict:
    model = load_classifier(name)
    items = am.build_items(list(model.classes), [], restarts, seed)
    started = time.perf_counter()
    result = am.run_items(am.get_method("input"), InputOptions(), model, items, None,
                          settings(model, extra)).result
    return {"min_p": float(result.target_prob.min()),
            "median_p": float(result.target_prob.median()), "steps": max(result.steps),
            "seconds": time.perf_counter() - started}


def table(result: dict) -> list[str]:
    """One clip x target table per classifier (bold: the clip's own class), then method=input."""
    smoke = " Smoke run: a few steps, not a measurement." if result.get("smoke") else ""
    lines = [f"Medians of {result['restarts']} restarts, seed {result['seed']}.{smoke}"]
    for name, found in result["mask"].items():
        lines += ["", f"**{name}** (cells: reached p / binarized p (area kept); "
                      f"{found['items']} items in {found['seconds']:.0f} s)", "",
                  "| clip \\ target | " + " | ".join(found["classes"]) + " |",
                  "|---|" + "---|" * len(found["classes"])]
        for clip in found["clips"]:
            cells = []
            for target in found["classes"]:
                c = found["cells"][clip][target]
                text = f"{c['p']:.3f} / {c['binarized']:.3f} ({c['area']:.2f})"
                cells.append(f"**{text}**" if clip == target else text)
            lines.append(f"| {clip} | " + " | ".join(cells) + " |")
    if result["input"]:
        lines += ["", "| classifier | method=input: min p over targets x restarts | median p | "
                      "steps (max) | time |", "|---|---|---|---|---|"]
        for name, row in result["input"].items():
            lines.append(f"| {name} | {row['min_p']:.3f} | {row['median_p']:.3f} | "
                         f"{row['steps']} | {row['seconds']:.0f} s |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifiers", nargs="+",
                        default=["crnn_mel", "cnn_mel", "cnn_raw", "crnn_raw"])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-mask", action="store_true", help="only the method=input table")
    parser.add_argument("--smoke", action="store_true", help="crnn_mel, one restart, 3 steps")
    parser.add_argument("--name", default="mask_table")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    extra: dict = {}
    if args.smoke:
        args.classifiers, args.restarts, extra = ["crnn_mel"], 1, {"steps": 3, "min_steps": 1}
    torch.manual_seed(args.seed)
    masks = {} if args.skip_mask else {name: mask_cells(name, args.restarts, args.seed, extra)
                                       for name in args.classifiers}
    inputs = {name: input_row(name, args.restarts, args.seed, extra)
              for name in args.classifiers}
    result = {"restarts": args.restarts, "seed": args.seed, "smoke": args.smoke,
              "mask": masks, "input": inputs}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join([*table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
