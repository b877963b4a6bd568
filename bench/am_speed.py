"""Speed of amcli's AM loop against a bare hand-written PyTorch loop of the same step.

The step: a time mask over a 3 s clip (amcli.am.Mask) -> the classifier -> target logit minus
the sorted-area and TV penalties -> backward -> Adam. The bare loop does exactly that and nothing
else; amcli's loop adds its bookkeeping (per-item stops, NaN guard, frozen rows, histories).
Each is run per item at batch 1 (as a notebook would, one item after another) and batched (all
items in one batch), side by side in one run, in alternating order; the table gives
sample-steps per second (items x steps / wall time, best of --repeats) and ratios.

    python bench/am_speed.py --classifier crnn_mel --items 8 --steps 30
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from amcli import am
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.models import load_classifier
from amcli.resources import example_clip


def make_mask(clips: torch.Tensor, seed: int) -> am.Mask:
    return am.Mask(clips, init=0.5, init_noise=0.5,
                   generator=torch.Generator().manual_seed(seed), area_target=0.5)


def bare_loop(model, clips: torch.Tensor, targets: torch.Tensor, steps: int) -> None:
    mask = make_mask(clips, 0)
    area, tv = am.SortedArea(0.5, 1.0), am.TV(0.05)
    opt = torch.optim.Adam(mask.parameters(), lr=0.1)
    for step in range(steps):
        logits = model(mask.signal())
        score = logits.gather(1, targets.view(-1, 1)).squeeze(1)
        loss = (area(mask, step, steps) + tv(mask) - score).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


def amcli_loop(model, clips: torch.Tensor, targets: torch.Tensor, steps: int) -> None:
    mask = make_mask(clips, 0)
    am.optimize(model, mask, targets, regularizers=[am.SortedArea(0.5, 1.0), am.TV(0.05)],
                steps=steps, lr=0.1, threshold=None, record_every=10)


def timed(fn, model, clips, targets, steps, batched: bool) -> float:
    started = time.perf_counter()
    if batched:
        fn(model, clips, targets, steps)
    else:
        for i in range(clips.shape[0]):
            fn(model, clips[i:i + 1], targets[i:i + 1], steps)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    model = load_classifier(args.classifier)
    for p in model.parameters():
        p.requires_grad_(False)
    classes = model.classes
    clip = crop_or_pad(read_audio(example_clip(classes[0]), model.sample_rate)[0],
                       3 * model.sample_rate)
    clips = clip.expand(args.items, -1).contiguous()
    targets = torch.arange(args.items) % len(classes)
    runs = {(name, batched): [] for name in ("bare", "amcli") for batched in (False, True)}
    amcli_loop(model, clips[:2], targets[:2], 3)  # warm-up
    for _ in range(args.repeats):
        for (name, batched), times in runs.items():
            fn = bare_loop if name == "bare" else amcli_loop
            times.append(timed(fn, model, clips, targets, args.steps, batched))
    rate = {key: args.items * args.steps / min(times) for key, times in runs.items()}
    print(f"{args.classifier}, {args.items} items x {args.steps} steps, 3 s clips, "
          f"{torch.get_num_threads()} threads, best of {args.repeats}\n")
    print(f"| loop | per item (batch 1) | batched (batch {args.items}) | batched / per item |")
    print("|---|---|---|---|")
    for name in ("bare", "amcli"):
        one, many = rate[(name, False)], rate[(name, True)]
        print(f"| {name} | {one:.1f} sample-steps/s | {many:.1f} sample-steps/s | "
              f"{many / one:.2f}x |")
    print(f"| amcli / bare | {rate[('amcli', False)] / rate[('bare', False)]:.2f}x | "
          f"{rate[('amcli', True)] / rate[('bare', True)]:.2f}x | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
