"""How fast amcli loads a dataset, per source sample rate: clips per second into 16 kHz.

Writes ``--clips`` two-second WAV files at each rate (8, 11.025, 16, 22.05, 24.414 (TESS), 44.1
and 48 kHz) into a temporary folder and times ``amcli.data.base.load_waves`` (decode, mix down,
resample, on the threads this process may use), best of ``--repeats``. Every rate should load at
about the same speed: the resampler must not depend on how awkward the ratio is.

    python bench/io_speed.py --clips 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from amcli.data.base import Item, load_waves
from amcli.workers import usable_cpus

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rates = measure(args.clips, args.repeats)
    print(f"{args.clips} two-second clips per rate, loaded into 16 kHz on {usable_cpus()} "
          f"CPU(s), best of {args.repeats}\n")
    print("| source rate (Hz) | clips per second | vs the fastest rate |")
    print("|---|---|---|")
    fastest = max(rates.values())
    for rate, speed in rates.items():
        print(f"| {rate} | {speed:.0f} | {speed / fastest:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
