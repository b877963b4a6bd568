"""Peak memory of method=prosody against clip length: analysis and fit (once per clip), then
one optimization step (resynthesis, classifier, backward) of one item.

Each length runs in a fresh process, so its peak resident memory is its own. The clip is the
neutral example clip repeated to the length.

    python bench/prosody_memory.py --seconds 5 30 120
    python bench/prosody_memory.py --smoke    # one 1 s clip

Writes bench/results/<--name>.json (default prosody_memory) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from results_file import RESULTS, write_result  # bench/ is the script's own folder

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("amcli/am/prosody", "amcli/am/methods/prosody.py", "checkpoints")

CHILD = r"""
import json, resource, sys, time
import torch
from amcli.am.prosody.synthesis import synthesis_grid
from amcli.am.prosody.analysis import analyse
from amcli.am.prosody.controls import Prosody
from amcli.am.prosody.fit import fit
from amcli.am.prosody.synthesis import white_noise_stft
from amcli.audio import read_audio
from amcli.models import load_classifier
from amcli.resources import example_clip

torch.set_num_threads(2)
seconds = float(sys.argv[1])
rate = 16000
clip = read_audio(example_clip("neutral"), rate)[0]
wave = clip.repeat(int(seconds * rate) // clip.shape[-1] + 1)[: int(seconds * rate)]
n_fft, hop = synthesis_grid(rate)
started = time.perf_counter()
source = fit(analyse(wave, rate, hop=hop, n_fft=n_fft), wave)
fitted = time.perf_counter() - started
after_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model = load_classifier("crnn_mel", "cpu")
param = Prosody(source, white_noise_stft([0], wave.shape[-1], n_fft, hop), wave.shape[-1],
                seeds=[0])
started = time.perf_counter()
logits = model(param.signal())
logits[0, 3].backward()
step = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "fit_s": fitted, "step_s": step,
                  "peak_after_fit_mb": after_fit, "peak_mb": peak}))
"""


def table(result: dict) -> list[str]:
    lines = ["| clip | analysis + fit | one step (1 item) | peak memory after fit | peak memory |",
             "|---|---|---|---|---|"]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['seconds']:g} s | failed: {row['error']} | | | |")
            continue
        lines.append(f"| {row['seconds']:g} s | {row['fit_s']:.1f} s | {row['step_s']:.1f} s | "
                     f"{row['peak_after_fit_mb']:.0f} MB | {row['peak_mb']:.0f} MB |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", nargs="+", type=float, default=[5.0, 30.0, 120.0])
    parser.add_argument("--smoke", action="store_true", help="one 1 s clip")
    parser.add_argument("--name", default="prosody_memory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds = [1.0]
    rows = []
    for seconds in args.seconds:
        out = subprocess.run([sys.executable, "-c", CHILD, str(seconds)], capture_output=True,
                             text=True)
        if out.returncode != 0:
            rows.append({"seconds": seconds,
                         "error": (out.stderr.strip().splitlines() or ["?"])[-1]})
        else:
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(table({"rows": rows[-1:]})[-1], flush=True)
    result = {"smoke": args.smoke, "rows": rows}
    written = write_result(args.name, result, argv, folder=args.out)
    print("\n".join(["", *table(result), "", f"written: {written}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
