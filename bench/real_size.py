"""What the audio models people bring cost: transformers classifiers at their published base
sizes (random weights), timed through amcli beside the shipped crnn_mel.

Every speed figure elsewhere is for models under 1 M parameters; the models users explain have
30-300 M. For each architecture at its base size (wav2vec2-base, HuBERT-base, WavLM-base,
AST-base, the Whisper-base encoder, and CLAP's HTSAT audio tower as a zero-shot classifier over
two prompts; CLAP's text tower runs once per run and is not timed) this builds a randomly
initialized classifier with its feature extractor, loads it the way `classifier=hf` does (the
feature extraction in torch inside the model), and times, for 3 s clips, one forward and
backward pass to the waveform per batch with the weights frozen, as amcli's loop runs it (the
model's share of every AM step), and the feature extraction's share of it, at batch 1 and 4:
seconds per item-step and the peak memory each further item adds (resident memory on a CPU,
allocated memory on CUDA). From the per-item-step time it gives the model's compute in one mask
run at the defaults (1 item x 200 steps) and in one prosody attribution of one clip (3 targets x
5 variants x 2 restarts = 30 items x --prosody-steps steps, 91 on average with the defaults in
bench/prosody_schedule.py), which excludes the method's own work (the resynthesis).

    python bench/real_size.py                       # every architecture, CPU
    python bench/real_size.py --models wav2vec2-base crnn_mel --device cuda
    python bench/real_size.py --smoke               # tiny sizes: checks that the script runs

Each model runs in its own process, so one model's memory does not count against the next.
Writes bench/results/real_size.json (--name).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results_file import RESULTS, write_result  # bench/ is the script's own folder

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("amcli/models", "amcli/am/frozen.py")

#: model -> (transformers model type, config fields at the published base size)
BASE: dict[str, tuple[str, dict[str, Any]]] = {
    "wav2vec2-base": ("wav2vec2", {}),
    "hubert-base": ("hubert", {}),
    "wavlm-base": ("wavlm", {}),
    "ast-base": ("audio-spectrogram-transformer", {}),
    "clap-htsat-audio": ("clap", {}),
    "whisper-base-encoder": ("whisper", dict(d_model=512, encoder_layers=6,
                                             encoder_attention_heads=8, encoder_ffn_dim=2048,
                                             decoder_layers=1, decoder_attention_heads=8,
                                             decoder_ffn_dim=2048, num_mel_bins=80,
                                             max_source_positions=1500)),
}
#: the same architectures at test sizes (--smoke)
SMOKE: dict[str, dict[str, Any]] = {
    "wav2vec2": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, conv_dim=(16, 16, 16), conv_stride=(5, 4, 4),
                     conv_kernel=(10, 4, 4), num_conv_pos_embeddings=8,
                     num_conv_pos_embedding_groups=2, classifier_proj_size=16),
    "audio-spectrogram-transformer": dict(hidden_size=32, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=64,
                                          num_mel_bins=64, max_length=100, patch_size=16,
                                          frequency_stride=16, time_stride=16),
    "whisper": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                    decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                    num_mel_bins=40, max_source_positions=100, classifier_proj_size=16),
}
CLASSES = ["neutral", "happy", "sad", "angry"]
PROMPTS = ["an angry voice", "a calm voice"]
MASK_STEPS = 200  # conf/optimize.yaml
ATTRIBUTION_ITEMS = 30  # 3 targets x (4 families alone + all) x 2 restarts


def resident_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> bool:
    """Reset the process's peak resident memory (Linux: clear_refs 5); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(name: str, smoke: bool, device: str, batches: list[int], repeats: int,
            seconds: float) -> dict[str, Any]:
    """One model, in this process: parameters, and per batch the seconds per forward+backward
    and the peak memory above what the loaded model holds."""
    import torch

    from amcli.am.frozen import frozen
    from amcli.models import load_classifier
    from amcli.models.clap import init_clap_folder
    from amcli.models.hf import load_hf_classifier
    from amcli.models.hf_training import init_hf_folder

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        if name in BASE and BASE[name][0] == "clap":
            folder = init_clap_folder(Path(tmp) / name, PROMPTS, tiny=smoke)
            model = load_hf_classifier(folder, device, labels=PROMPTS)
        elif name in BASE:
            kind, sizes = BASE[name]
            sizes = SMOKE.get(kind, SMOKE["wav2vec2"]) if smoke else sizes
            model = load_hf_classifier(init_hf_folder(Path(tmp) / name, kind, CLASSES,
                                                      **sizes), device)
        else:
            model = load_classifier(name, device)
    model.eval()
    params = sum(p.numel() for p in model.parameters())  # what every step runs through
    rate = model.sample_rate
    found: dict[str, Any] = {"parameters": params, "batches": {}}
    with frozen(model):  # as amcli's loop runs it: no weight gradients
        for batch in batches:
            wave = (0.1 * torch.randn(batch, int(seconds * rate), device=device)).requires_grad_()

            def step(wave: torch.Tensor = wave) -> None:
                logits = model(wave)
                logits[:, 0].sum().backward()
                wave.grad = None

            step()  # warm-up (allocations, lazy initialization)
            if device == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            else:
                before = resident_bytes("VmRSS")
                peak_known = reset_peak()
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                step()
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - started)
            if device == "cuda":
                peak = torch.cuda.max_memory_allocated() - base
            else:
                peak = resident_bytes("VmHWM") - before if peak_known else None
            found["batches"][str(batch)] = {"seconds": min(times), "peak_bytes": peak,
                                            "front_seconds": front_end_seconds(
                                                model, wave, repeats, device)}
    return found


def front_end_seconds(model, wave, repeats: int, device: str) -> float | None:
    """The forward and backward of the model's feature extraction alone (the transformers
    front ends amcli computes in torch), best of ``repeats``; None for a model without one."""
    import torch

    front = next((m.front for m in model.modules()
                  if isinstance(getattr(m, "front", None), torch.nn.Module)), None)
    if front is None:
        return None
    times = []
    for _ in range(repeats + 1):  # the first one warms up
        started = time.perf_counter()
        out = front(wave)
        sum(o.float().sum() for o in (out if isinstance(out, tuple) else (out,))
            if o.requires_grad).backward()
        wave.grad = None
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return min(times[1:])


def summarize(found: dict[str, Any], prosody_steps: int) -> dict[str, Any]:
    """Per item-step seconds (the largest batch's), memory per further item, and the model's
    compute in one mask run and one prosody attribution at that rate."""
    batches = sorted(found["batches"], key=int)
    largest = found["batches"][batches[-1]]
    per_item_step = largest["seconds"] / int(batches[-1])
    memory = None
    if len(batches) > 1:
        low, high = found["batches"][batches[0]], found["batches"][batches[-1]]
        if low["peak_bytes"] is not None and high["peak_bytes"] is not None:
            memory = (high["peak_bytes"] - low["peak_bytes"]) / (int(batches[-1]) -
                                                                 int(batches[0]))
    return {"per_item_step_s": per_item_step, "memory_per_item_bytes": memory,
            "mask_run_s": per_item_step * MASK_STEPS,
            "attribution_s": per_item_step * ATTRIBUTION_ITEMS * prosody_steps}


def table(result: dict[str, Any]) -> list[str]:
    """The view the docs render from the result file."""
    smoke = " (smoke run: test sizes, not the published ones)" if result.get("smoke") else ""
    lines = [f"{result['seconds']:g} s clips on {result['device']}; model compute only (forward "
             f"and backward to the waveform), batches {', '.join(map(str, result['batches']))}"
             f"{smoke}:",
             "", "| model | parameters | s per item-step | memory per item | one mask run "
             f"({MASK_STEPS} steps) | one prosody attribution ({ATTRIBUTION_ITEMS} items x "
             f"{result['prosody_steps']} steps) |", "|---|---|---|---|---|---|"]
    for name, found in result["models"].items():
        s = found["summary"]
        mib = None if s["memory_per_item_bytes"] is None else s["memory_per_item_bytes"] / 2**20
        memory = "-" if mib is None else "< 1 MiB" if mib < 1 else f"{mib:.0f} MiB"
        lines.append(f"| {name} | {found['parameters'] / 1e6:.1f} M | "
                     f"{s['per_item_step_s']:.3f} | {memory} | {duration(s['mask_run_s'])} | "
                     f"{duration(s['attribution_s'])} |")
    return lines


#: the waveform transformers the reading compares with crnn_mel
WAVEFORM = ("wav2vec2-base", "hubert-base", "wavlm-base")


def reading(result: dict[str, Any]) -> list[str]:
    """The view under the table: what a base-size waveform transformer costs against crnn_mel
    on the machine of the run, and which model is the slowest."""
    models = result["models"]
    present = [m for m in WAVEFORM if m in models]
    if "crnn_mel" not in models or not present:
        return ["(this run has no crnn_mel or no waveform transformer to compare)"]
    base = models["crnn_mel"]["summary"]["per_item_step_s"]
    steps = {m: models[m]["summary"] for m in present}
    ratios = [s["per_item_step_s"] / base for s in steps.values()]
    masks = [s["mask_run_s"] for s in steps.values()]
    attributions = [s["attribution_s"] for s in steps.values()]
    slowest = max(models, key=lambda m: models[m]["summary"]["per_item_step_s"])
    slow = models[slowest]["summary"]["per_item_step_s"] / base
    shares = {m: share for m in models if (share := front_share(models[m])) is not None}
    front = (f" amcli's feature extraction in torch is at most {max(shares.values()):.1%} of a "
             f"step ({max(shares, key=shares.get)})." if shares else "")
    return [f"On this machine ({result['cores']} cores, {result['device']}), a step of a "
            f"base-size waveform transformer costs {min(ratios):.0f}-{max(ratios):.0f} times a "
            f"step of crnn_mel per item: one mask run takes {duration(min(masks))}-"
            f"{duration(max(masks))} and one prosody attribution of one clip "
            f"{duration(min(attributions))}-{duration(max(attributions))} of model compute. "
            f"The slowest is {slowest}, at {slow:.0f} times crnn_mel.{front}"
            + ("" if result.get("frozen_weights") else
               " (This result predates the frozen weights: its steps also computed the weights'"
               " gradients, which amcli's loop does not, so it overstates time and memory;"
               " re-run the command.)")]


def front_share(found: dict[str, Any]) -> float | None:
    """The feature extraction's share of a step at the largest batch (None: not measured)."""
    largest = found["batches"][max(found["batches"], key=int)]
    front = largest.get("front_seconds")
    return None if front is None else front / largest["seconds"]


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[*BASE, "crnn_mel"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--prosody-steps", type=int, default=91)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--name", default="real_size")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one model
    args = parser.parse_args(argv)
    if args.smoke:
        args.repeats = 1
    if args.one:
        print(json.dumps(measure(args.one, args.smoke, args.device, args.batches, args.repeats,
                                 args.seconds)))
        return 0
    models: dict[str, Any] = {}
    for name in args.models:
        child = [sys.executable, __file__, "--one", name, "--device", args.device,
                 "--repeats", str(args.repeats), "--seconds", str(args.seconds), "--batches",
                 *map(str, args.batches), *(["--smoke"] if args.smoke else [])]
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name}: {done.stderr.strip().splitlines()[-1]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        found["summary"] = summarize(found, args.prosody_steps)
        models[name] = found
        print(f"{name}: {found['summary']['per_item_step_s']:.3f} s per item-step", flush=True)
    result = {"device": args.device, "seconds": args.seconds, "batches": args.batches,
              "frozen_weights": True,  # the step as amcli's loop runs it (see measure)
              "repeats": args.repeats, "prosody_steps": args.prosody_steps,
              "smoke": args.smoke, "models": models}
    out = write_result(args.name, result, argv, device=args.device, folder=args.out)
    print("\n".join(table(result)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
