"""Speed of amcli's AM loop: per-item sequential, amcli batched and a bare batched PyTorch loop.

The step: a time mask over a 3 s clip (amcli.am.Mask) -> the classifier -> target logit minus
the sorted-area and TV penalties -> backward -> Adam. The bare loop does exactly that and nothing
else; amcli's loop adds its bookkeeping (per-item stops, NaN guard, frozen rows, histories).
For each batch size and precision, side by side in one run (alternating order, best of
--repeats): the sequential loop (amcli, one item at a time at batch 1, as a notebook would),
amcli batched and bare batched, as sample-steps per second (items x steps / wall time), the peak
GPU memory per item, and the ratios amcli/bare (target >= 0.9x) and amcli batched / sequential.

    python bench/am_speed.py                                  # CPU: batches 1 8 32
    python bench/am_speed.py --device cuda --batches 1 32 512 2048 --precisions fp32 bf16 \\
        --modes eager compiled
    python bench/am_speed.py --prosody --batches 1 4 12       # a prosody step vs a mask step
    python bench/am_speed.py --device cuda --profile 512      # where amcli's extra time goes
    python bench/am_speed.py --smoke                          # seconds: the script runs

Writes bench/results/am_speed_<device>[_prosody|_profile].json and prints the table.

With --profile N it runs amcli's loop and the bare loop once each at N items under
torch.profiler and lists, per operator, the calls and the self time (CPU, and the GPU's on CUDA)
of each loop, the operators amcli spends most extra time on first: where amcli / bare goes. On
CUDA it also counts how often each loop waits for the GPU (host-device synchronizations).

With --prosody it times, side by side in rotating order, a step of method=prosody (the
resynthesis of edited prosody from the clip's fitted model -> the classifier -> log-probability
and the size penalty -> backward -> Adam) against a mask step, both through amcli's loop at the
same batch, and prints their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli import am
from amcli.am.optimize import compiled_forward  # the loop's own compile mode
from amcli.audio import read_audio
from amcli.data.base import crop_or_pad
from amcli.device import resolve_device
from amcli.models import load_classifier
from amcli.resources import example_clip

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("amcli/am", "amcli/activity.py", "amcli/models", "checkpoints")


def methods(result: dict) -> tuple[str, ...]:
    """The AM methods the result ran (see views.measures_of): the mask step uses the Mask
    parameterization, not method=mask; the prosody table runs the prosody method's code."""
    return ("prosody",) if result.get("prosody") else ()


def make_mask(clips: torch.Tensor) -> am.Mask:
    return am.Mask(clips, init=0.5, init_noise=0.5, seeds=range(clips.shape[0]),
                   area_target=0.5).to(clips.device)


def bare_loop(model, clips, targets, steps: int, precision: str, compile: bool) -> None:
    mask = make_mask(clips)
    area, tv = am.SortedArea(0.5, 1.0), am.TV(0.05)
    opt = torch.optim.Adam(mask.parameters(), lr=0.1)
    forward = compiled_forward(model, "wave", clips.device) if compile else model
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
    """A maker of Prosody over ``batch`` items of one clip, fitted once (as method=prosody
    fits each clip once for all its items)."""
    from amcli.am.prosody.fit import fit_clip
    from amcli.am.prosody.synthesis import synthesis_grid, white_noise_stft

    n_fft, hop = synthesis_grid(rate)
    wave = clip.cpu()
    source = fit_clip(wave, rate).select(torch.zeros(batch, dtype=torch.long)).to(clip.device)
    white = white_noise_stft(list(range(batch)), wave.shape[-1], n_fft, hop, clip.device)
    return lambda: am.Prosody(source, white, wave.shape[-1], seeds=list(range(batch)))


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


def prosody_rows(model, clip: torch.Tensor, args) -> list[dict]:
    """A prosody step against a mask step, amcli's loop, same batch, rotating order."""
    rows = []
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
        rows.append({"batch": batch, "mask_ms": min(times["mask"]),
                     "prosody_ms": min(times["prosody"])})
        print(f"batch {batch}: prosody / mask {rows[-1]['prosody_ms'] / rows[-1]['mask_ms']:.2f}x",
              flush=True)
    return rows


def speed_rows(model, clip: torch.Tensor, args, on_row=lambda rows: None) -> list[dict]:
    """Sample-steps per second of the three loops per mode, precision and batch; ``on_row``
    gets the rows so far after each one (the caller writes them: a run cut short by a time
    limit keeps what it measured)."""
    rows = []
    for mode in args.modes:
        compile = mode == "compiled"
        for precision in args.precisions:
            for batch in args.batches:
                clips = clip.expand(batch, -1).contiguous()
                targets = (torch.arange(batch) % len(model.classes)).to(clip.device)
                seq_n = min(batch, args.sequential_max)
                amcli_loop(model, clips[:seq_n], targets[:seq_n], 2, precision, compile)
                bare_loop(model, clips[:seq_n], targets[:seq_n], 2, precision, compile)
                times: dict[str, list[float]] = {"seq": [], "amcli": [], "bare": []}
                runs = [("amcli", amcli_loop, batch, False), ("bare", bare_loop, batch, False),
                        ("seq", amcli_loop, seq_n, True)]
                for repeat in range(args.repeats):
                    k = repeat % len(runs)  # rotate the order: no loop always runs first
                    for key, fn, n, sequential in runs[k:] + runs[:k]:
                        times[key].append(timed(fn, model, clips[:n], targets[:n], args.steps,
                                                precision, compile, sequential))
                rows.append({"mode": mode, "precision": precision, "batch": batch,
                             "sequential": seq_n * args.steps / min(times["seq"]),
                             "amcli": batch * args.steps / min(times["amcli"]),
                             "bare": batch * args.steps / min(times["bare"]),
                             "peak_mb_per_item": peak_per_item(amcli_loop, model, clips,
                                                               targets, precision, compile)})
                print(f"{mode} {precision} batch {batch}: amcli / bare "
                      f"{rows[-1]['amcli'] / rows[-1]['bare']:.2f}x", flush=True)
                on_row(rows)
    return rows


def profile_rows(model, clip: torch.Tensor, args, top: int = 25) -> list[dict]:
    """Per operator, the calls and self times (microseconds) of amcli's loop and of the bare
    loop at ``args.profile`` items and ``args.steps`` steps, the largest extra time first (GPU
    time on CUDA, else CPU time); a last row holds the totals."""
    from torch.profiler import ProfilerActivity, profile

    cuda = clip.device.type == "cuda"
    clips = clip.expand(args.profile, -1).contiguous()
    targets = (torch.arange(args.profile) % len(model.classes)).to(clip.device)
    activities = [ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]
    found: dict[str, dict[str, tuple[int, float, float]]] = {}
    for key, fn in (("amcli", amcli_loop), ("bare", bare_loop)):
        fn(model, clips, targets, 2, "fp32", False)  # warm-up: allocator, cuDNN plans
        with profile(activities=activities) as prof:
            fn(model, clips, targets, args.steps, "fp32", False)
            sync(clip.device)
        found[key] = {e.key: (e.count, e.self_cpu_time_total,
                              e.self_device_time_total if cuda else 0.0)
                      for e in prof.key_averages()}
    none = (0, 0.0, 0.0)
    rows = [{"op": op, **{f"{k}_{field}": found[k].get(op, none)[i] for k in found
                          for i, field in enumerate(("calls", "cpu_us", "device_us"))}}
            for op in set(found["amcli"]) | set(found["bare"])]
    measure = "device_us" if cuda else "cpu_us"
    rows.sort(key=lambda r: r[f"bare_{measure}"] - r[f"amcli_{measure}"])
    total = {"op": "total", **{f"{k}_{field}": sum(r[f"{k}_{field}"] for r in rows)
                               for k in found for field in ("calls", "cpu_us", "device_us")}}
    return [*rows[:top], total]


def gpu_waits(model, clip: torch.Tensor, args) -> dict[str, int]:
    """How often each loop waits for the GPU over one run at ``args.profile`` items (PyTorch
    warns at every host-device synchronization in its "warn" debug mode)."""
    import warnings

    clips = clip.expand(args.profile, -1).contiguous()
    targets = (torch.arange(args.profile) % len(model.classes)).to(clip.device)
    waits = {}
    for key, fn in (("amcli", amcli_loop), ("bare", bare_loop)):
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fn(model, clips, targets, args.steps, "fp32", False)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        waits[key] = sum("synchroniz" in str(w.message) for w in caught)
    return waits


def is_operator(name: str) -> bool:
    """A PyTorch operator or annotation (aten::mul, Optimizer.step#Adam.step) or the totals,
    not a GPU kernel (whose C++ names run to hundreds of characters)."""
    return name == "total" or name.startswith(("aten::", "Optimizer.", "autograd::"))


def table(result: dict) -> list[str]:
    """The speed table (sample-steps per second), or the prosody-against-mask table."""
    smoke = " Smoke run: not a measurement." if result.get("smoke") else ""
    if result.get("partial"):
        smoke += " Cut short: only the rows measured before the run stopped."
    runs = f"one profiled run of each loop at {result['batch']} items" \
        if result.get("profile") else f"best of {result['repeats']}"
    lines = [f"{result['classifier']} on {result['hardware']}; {result['steps']} steps, 3 s "
             f"clips, {runs}.{smoke}", ""]
    if result.get("profile"):
        lines += ["| operator | amcli calls | bare calls | amcli CPU ms | bare CPU ms | "
                  "amcli GPU ms | bare GPU ms |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['op']} | {r['amcli_calls']} | {r['bare_calls']} | "
                  f"{r['amcli_cpu_us'] / 1000:.1f} | {r['bare_cpu_us'] / 1000:.1f} | "
                  f"{r['amcli_device_us'] / 1000:.1f} | {r['bare_device_us'] / 1000:.1f} |"
                  for r in result["profile"] if is_operator(r["op"])]
        waits = result.get("waits")
        said = [] if not waits else [
            "", f"Waits for the GPU in one {result['steps']}-step run (host-device "
                f"synchronizations): amcli {waits['amcli']}, bare {waits['bare']}."]
        return [*lines, "", "(self times summed over the run; the operators where amcli spends "
                            "the most extra time first, then the totals of every event, GPU "
                            "kernels included; the kernels' own rows are left out)", *said]
    if result.get("prosody"):
        lines += ["| batch | mask step (ms) | prosody step (ms) | prosody / mask |",
                  "|---|---|---|---|"]
        lines += [f"| {r['batch']} | {r['mask_ms']:.1f} | {r['prosody_ms']:.1f} | "
                  f"{r['prosody_ms'] / r['mask_ms']:.2f}x |" for r in result["prosody"]]
        return lines
    lines += ["| batch | mode | precision | sequential (batch 1) | amcli batched | bare batched "
              "| amcli / bare | amcli batched / sequential | peak MB per item |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in result["speed"]:
        peak = "-" if r["peak_mb_per_item"] is None else f"{r['peak_mb_per_item']:.1f}"
        lines.append(f"| {r['batch']} | {r['mode']} | {r['precision']} | {r['sequential']:.1f} "
                     f"| {r['amcli']:.1f} | {r['bare']:.1f} | {r['amcli'] / r['bare']:.2f}x | "
                     f"{r['amcli'] / r['sequential']:.1f}x | {peak} |")
    return [*lines, "", "(sample-steps per second; sequential = amcli's loop one item at a "
                        "time)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="crnn_mel")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--precisions", nargs="+", default=["fp32"])
    parser.add_argument("--modes", nargs="+", choices=["eager", "compiled"], default=["eager"],
                        help="compiled: torch.compile the classifier")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequential-max", type=int, default=32,
                        help="time the sequential loop on at most this many items")
    parser.add_argument("--prosody", action="store_true",
                        help="time a prosody step against a mask step instead")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="profile amcli's loop against the bare loop at N items instead")
    parser.add_argument("--smoke", action="store_true", help="batches 1 and 2, 2 steps, once")
    parser.add_argument("--name", default=None,
                        help="result file name (default am_speed_<device>[_prosody|_profile])")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.profile is not None and (args.profile < 1 or args.prosody):
        parser.error("--profile takes a number of items >= 1, and not with --prosody")
    if args.smoke:
        args.batches, args.steps, args.repeats, args.sequential_max = [1, 2], 2, 1, 2
    device = resolve_device(args.device)
    if "compiled" in args.modes:
        # one process compiles for every batch size, precision and loop: dynamo's default
        # limit (8 compilations of one function) would send the later rows back to eager
        torch._dynamo.config.recompile_limit = 64
    model = load_classifier(args.classifier, device)
    for p in model.parameters():
        p.requires_grad_(False)
    clip = crop_or_pad(read_audio(example_clip(model.classes[0]), model.sample_rate)[0],
                       3 * model.sample_rate).to(device)
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU, {torch.get_num_threads()} threads"
    result = {"classifier": args.classifier, "hardware": hardware, "steps": args.steps,
              "repeats": args.repeats, "smoke": args.smoke}
    kind = "_prosody" if args.prosody else "_profile" if args.profile else ""
    name = args.name or f"am_speed_{device.type}{kind}"

    def write(partial: bool):
        return write_result(name, {**result, "partial": partial}, argv, device=str(device),
                            folder=args.out)

    def keep(rows: list[dict]) -> None:
        result["speed"] = rows
        write(partial=True)

    if args.prosody:
        result["prosody"] = prosody_rows(model, clip, args)
    elif args.profile:
        result["batch"], result["profile"] = args.profile, profile_rows(model, clip, args)
        if device.type == "cuda":
            result["waits"] = gpu_waits(model, clip, args)
    else:
        result["speed"] = speed_rows(model, clip, args, on_row=keep)
    out = write(partial=False)
    print("\n".join(["", *table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
