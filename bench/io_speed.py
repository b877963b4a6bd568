"""How fast amcli loads a dataset, per source sample rate: clips per second into 16 kHz.

Writes ``--clips`` two-second WAV files at each rate (8, 11.025, 16, 22.05, 24.414 (TESS), 44.1
and 48 kHz) into a temporary folder and times ``amcli.data.base.load_waves`` (decode, mix down,
resample, on the threads this process may use), best of ``--repeats``. Every rate should load at
about the same speed: the resampler must not depend on how awkward the ratio is.

    python bench/io_speed.py --clips 200
    python bench/io_speed.py --smoke          # 4 clips per rate

Writes bench/results/<--name>.json (default io_speed) and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from results_file import RESULTS, write_result  # bench/ is the script's own folder

from amcli.data.base import Item, load_waves
from amcli.workers import usable_cpus

#: what the figures depend on: a change here after the result's commit makes it stale
MEASURES = ("amcli/data/base.py", "amcli/audio.py", "amcli/workers.py")

RATES = (8000, 11025, 16000, 22050, 24414, 44100, 48000)


def write_clips(folder: Path, rate: int, count: int, seconds: float = 2.0) -> list[Item]:
    rng = np.random.default_rng(rate)
    t = np.arange(int(seconds * rate)) / rate
    items = []
    for k in range(count):
        wave = 0.1 * np.sin(2 * np.pi * (120 + k) * t) + 0.01 * rng.standard_normal(len(t))
        path = folder / f"{rate}_{k}.wav"
        sf.write(path, wave.astype(np.float32), rate)
        items.append(Item(path, "neutral", 0, "s", "g"))
    return items


def clips_per_second(items: list[Item], repeats: int, target: int = 16000) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        load_waves(items, target)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def measure(count: int, repeats: int) -> dict[int, float]:
    with tempfile.TemporaryDirectory() as work:
        sets = {rate: write_clips(Path(work), rate, count) for rate in RATES}
        return {rate: clips_per_second(items, repeats) for rate, items in sets.items()}


def table(result: dict) -> list[str]:
    lines = [f"{result['clips']} two-second clips per rate, loaded into 16 kHz on "
             f"{result['cpus']} CPU(s), best of {result['repeats']}.", "",
             "| source rate (Hz) | clips per second | vs the fastest rate |", "|---|---|---|"]
    fastest = max(result["rates"].values())
    for rate, speed in result["rates"].items():
        lines.append(f"| {rate} | {speed:.0f} | {speed / fastest:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="4 clips per rate, once")
    parser.add_argument("--name", default="io_speed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.clips, args.repeats = 4, 1
    rates = measure(args.clips, args.repeats)
    result = {"clips": args.clips, "repeats": args.repeats, "cpus": usable_cpus(),
              "smoke": args.smoke, "rates": {str(k): v for k, v in rates.items()}}
    out = write_result(args.name, result, argv, folder=args.out)
    print("\n".join([*table(result), "", f"written: {out}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
