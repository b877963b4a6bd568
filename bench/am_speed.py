"""Speed of amcli's AM loop: per-item sequential, amcli batched and a bare batched PyTorch loop.

The step: a time mask over a 3 s clip (amcli.am.Mask) -> the classifier -> target logit minus
the sorted-area and TV penalties -> backward -> Adam. The bare loop does exactly that and nothing
else; amcli's loop adds its bookkeeping (per-item stops, NaN guard, frozen rows, histories).
For each batch size and precision, side by side in one run (alternating order, best of
--repeats): the sequential loop (amcli, one item at a time at batch 1, as a notebook would),
amcli batched and bare batched, as sample-steps per second (items x steps / wall time), the peak
GPU memory per item, and the ratios amcli/bare (target >= 0.9x) and amcli batched / sequential.

    python bench/am_speed.py                                  # CPU: batches 1 8 32
    python bench/am_speed.py --device cuda --batches 1 32 512 2048 --precisions fp32 bf16
    python bench/am_speed.py --prosody --batches 1 4 12       # a prosody step vs a mask step

With --prosody it times, side by side in rotating order, a step of method=prosody (the
resynthesis of edited prosody from the clip's fitted model -> the classifier -> log-probability
and the size penalty -> backward -> Adam) against a mask step, both through amcli's loop at the
same batch, and prints their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from amcli import am
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.device import resolve_device
from amcli.models import load_classifier
from amcli.resources import example_clip


def make_mask(clips: torch.Tensor) -> am.Mask:
    return am.Mask(clips, init=0.5, init_noise=0.5, seeds=range(clips.shape[0]),
                   area_target=0.5).to(clips.device)


def bare_loop(model, clips, targets, steps: int, precision: str, compile: bool) -> None:
    mask = make_mask(clips)
    area, tv = am.SortedArea(0.5, 1.0), am.TV(0.05)
    opt = torch.optim.Adam(mask.parameters(), lr=0.1)
    forward = torch.compile(model) if compile else model
    for step in range(steps):
        with torch.autocast(clips.device.type, dtype=torch.bfloat16,
                            enabled=precision == "bf16"):
            logits = forward(mask.signal())
        score = logits.float().gather(1, targets.view(-1, 1)).squeeze(1)
        loss = (area(mask, step, steps) + tv(mask) - score).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


def amcli_loop(model, clips, targets, steps: int, precision: str, compile: bool) -> None:
    am.optimize(model, make_mask(clips), targets,
                regularizers=[am.SortedArea(0.5, 1.0), am.TV(0.05)], steps=steps, lr=0.1,
                threshold=None, record_every=10, precision=precision, compile=compile)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, model, clips, targets, steps, precision, compile, sequential: bool) -> float:
    sync(clips.device)
    started = time.perf_counter()
    if sequential:
        for i in range(clips.shape[0]):
            fn(model, clips[i:i + 1], targets[i:i + 1], steps, precision, compile)
    else:
        fn(model, clips, targets, steps, precision, compile)
    sync(clips.device)
    return time.perf_counter() - started


def peak_per_item(fn, model, clips, targets, precision, compile) -> float | None:
    device = clips.device
    if device.type != "cuda":
        return None
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn(model, clips, targets, 2, precision, compile)
    return (torch.cuda.max_memory_allocated(device) - base) / clips.shape[0] / 2**20


def prosody_param(clip: torch.Tensor, batch: int, rate: int):
    from amcli.am.methods.prosody import synthesis_grid
    from amcli.am.prosody.analysis import analyse
    from amcli.am.prosody.controls import Prosody
    from amcli.am.prosody.synthesis import fit, white_noise_stft

    n_fft, hop = synthesis_grid(rate)
    wave = clip.cpu()
    one = fit(analyse(wave, rate, hop=hop, n_fft=n_fft), wave)
    source = one.select(torch.zeros(batch, dtype=torch.long)).to(clip.device)
    white = white_noise_stft(list(range(batch)), wave.shape[-1], n_fft, hop, clip.device)
    return lambda: Prosody(source, white, wave.shape[-1], seeds=list(range(batch)))


def step_runs(model, clips, targets, make_prosody, steps: int) -> dict:
    """The two loops to time: a mask and a prosody optimization of ``steps`` steps."""
    return {
        "mask": lambda: am.optimize(model, make_mask(clips), targets,
                                    regularizers=[am.SortedArea(0.5), am.TV(0.05)],
                                    steps=steps, threshold=None, record_every=10),
        "prosody": lambda: am.optimize(model, make_prosody(), targets,
                                       objective=am.class_objective("log_softmax", cap=0.97),
                                       regularizers=[am.L2(1.0)], steps=steps, threshold=None,
                                       record_every=10),
    }


def prosody_table(model, clip: torch.Tensor, args) -> None:
    """A prosody step against a mask step, amcli's loop, same batch, rotating order."""
    print("\n| batch | mask step (ms) | prosody step (ms) | prosody / mask |")
    print("|---|---|---|---|")
    for batch in args.batches:
        clips = clip.expand(batch, -1).contiguous()
        targets = (torch.arange(batch) % len(model.classes)).to(clip.device)
        runs = step_runs(model, clips, targets, prosody_param(clip, batch, model.sample_rate),
                         args.steps)
        for fn in runs.values():  # warm-up
            fn()
        times: dict[str, list[float]] = {k: [] for k in runs}
        for repeat in range(args.repeats):
            order = list(runs) if repeat % 2 == 0 else list(runs)[::-1]
            for key in order:
                sync(clip.device)
                started = time.perf_counter()
                runs[key]()
                sync(clip.device)
                times[key].append((time.perf_counter() - started) / args.steps * 1000)
        mask_ms, prosody_ms = min(times["mask"]), min(times["prosody"])
        print(f"| {batch} | {mask_ms:.1f} | {prosody_ms:.1f} | {prosody_ms / mask_ms:.2f}x |",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--precisions", nargs="+", default=["fp32"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequential-max", type=int, default=32,
                        help="time the sequential loop on at most this many items")
    parser.add_argument("--compile", action="store_true", help="torch.compile the classifier")
    parser.add_argument("--prosody", action="store_true",
                        help="time a prosody step against a mask step instead")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    model = load_classifier(args.classifier, device)
    for p in model.parameters():
        p.requires_grad_(False)
    classes = model.classes
    clip = crop_or_pad(read_audio(example_clip(classes[0]), model.sample_rate)[0],
                       3 * model.sample_rate).to(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU, {torch.get_num_threads()} threads"
    print(f"{args.classifier} on {name}; {args.steps} steps, 3 s clips, best of {args.repeats}"
          f"{', compiled' if args.compile else ''}")
    if args.prosody:
        prosody_table(model, clip, args)
        return 0
    print()
    print("| batch | precision | sequential (batch 1) | amcli batched | bare batched | "
          "amcli / bare | amcli batched / sequential | peak MB per item |")
    print("|---|---|---|---|---|---|---|---|")
    for precision in args.precisions:
        for batch in args.batches:
            clips = clip.expand(batch, -1).contiguous()
            targets = (torch.arange(batch) % len(classes)).to(device)
            seq_n = min(batch, args.sequential_max)
            amcli_loop(model, clips[:seq_n], targets[:seq_n], 2, precision, args.compile)
            bare_loop(model, clips[:seq_n], targets[:seq_n], 2, precision, args.compile)
            times: dict[str, list[float]] = {"seq": [], "amcli": [], "bare": []}
            runs = [("amcli", amcli_loop, batch, False), ("bare", bare_loop, batch, False),
                    ("seq", amcli_loop, seq_n, True)]
            for repeat in range(args.repeats):
                k = repeat % len(runs)  # rotate the order: no loop always runs first
                for key, fn, n, sequential in runs[k:] + runs[:k]:
                    times[key].append(timed(fn, model, clips[:n], targets[:n], args.steps,
                                            precision, args.compile, sequential))
            rate = {"seq": seq_n * args.steps / min(times["seq"]),
                    "amcli": batch * args.steps / min(times["amcli"]),
                    "bare": batch * args.steps / min(times["bare"])}
            peak = peak_per_item(amcli_loop, model, clips, targets, precision, args.compile)
            print(f"| {batch} | {precision} | {rate['seq']:.1f} | {rate['amcli']:.1f} | "
                  f"{rate['bare']:.1f} | {rate['amcli'] / rate['bare']:.2f}x | "
                  f"{rate['amcli'] / rate['seq']:.1f}x | "
                  + (f"{peak:.1f}" if peak is not None else "-") + " |", flush=True)
    print("\n(sample-steps per second; sequential = amcli's loop one item at a time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
