"""``amcli report DIR``: what a sweep, a run or a folder of WAVs holds, rebuilt from disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import hydra
from omegaconf import DictConfig

from amcli.am.methods import METHODS
from amcli.commands.common import to_schema
from amcli.config.report import ReportConfig
from amcli.data.base import AUDIO_SUFFIXES
from amcli.errors import UserError
from amcli.files import atomic_write
from amcli.metrics.cues import CUE_NAMES
from amcli.report.sweep import job_dirs, write_run_files, write_summary
from amcli.report.terminal import print_run
from amcli.resources import CONF_PATH
from amcli.run_folder import MARKERS


def report_sweep(folder: Path) -> None:
    path = write_summary(folder)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    print(f"{path}: {len(rows)} job(s); page: {path.parent / 'index.html'}")
    for row in rows:
        median = row["median_target_prob"] or "-"
        print(f"  {row['job']:>4}  {row['status']:<11} median p {median:<7} {row['overrides']}"
              + (f"  [{row['error']}]" if row["error"] else ""))


def read_metrics(folder: Path) -> dict:
    """A run's metrics.json, or one line saying it is damaged and what the folder still holds."""
    path = folder / "metrics.json"
    try:
        metrics = json.loads(path.read_text())
        if not isinstance(metrics, dict):
            raise ValueError("not a JSON object")
        return metrics
    except (OSError, UnicodeDecodeError, ValueError) as err:
        wavs = sorted(p.name for p in (folder / "wav").glob("*.wav")) \
            if (folder / "wav").is_dir() else []
        marker = next((m for m in MARKERS.values() if (folder / m).exists()), "no marker")
        readable = f"{len(wavs)} WAV(s) in wav/ ({', '.join(wavs[:4])}" \
            f"{', ...' if len(wavs) > 4 else ''})" if wavs else "no WAVs"
        raise UserError(f"{path} is damaged ({err}); the folder still holds {readable} and "
                        f"{marker}; rerun the command to rebuild the run") from None


def report_run(folder: Path) -> None:
    metrics = read_metrics(folder)
    if metrics.get("kind") == "optimize":
        write_run_files(folder)
    marker = next((m for m in MARKERS.values() if (folder / m).exists()), "no marker")
    print(f"{folder}: {metrics.get('kind')} run, status {metrics.get('status')} ({marker})")
    print_run(metrics, METHODS.get(metrics.get("run", {}).get("method") or ""))
    if (folder / "report.html").is_file():
        print(f"  report: {folder / 'report.html'}")


def _first_line(path: Path) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.readline().rstrip("\r\n")
    except OSError:
        return ""


def report_wavs(folder: Path, files: list[Path]) -> None:
    from amcli.audio import read_audio
    from amcli.metrics.cues import measure_cues

    rows = []
    for path in files:
        wave, rate = read_audio(path)
        rows.append({"file": path.name, **measure_cues(wave.numpy(), rate)})
    out = folder / "cues.csv"
    header = ",".join(["file", *CUE_NAMES])
    if out.exists() and _first_line(out) != header:  # not one amcli wrote: never overwrite it
        raise UserError(f"{out} exists and amcli did not write it; move it away to measure the "
                        "cues of this folder")

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["file", *CUE_NAMES])
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(out, write)
    print(f"{out}: cues of {len(rows)} file(s)")
    def num(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for row in rows:
        print(f"  {row['file']:<32} RMS {num(row['rms_db'], '6.1f')} dB  F0 "
              f"{num(row['f0_mean_hz'], '6.1f')} Hz  spread {num(row['f0_spread_st'], '4.2f')} "
              f"st  centroid {num(row['centroid_hz'], '6.0f')} Hz")


@hydra.main(version_base="1.3", config_path=CONF_PATH, config_name="report")
def main(cfg: DictConfig) -> None:
    schema: ReportConfig = to_schema(cfg)
    if not schema.dir:
        raise UserError("give the folder to report on: amcli report DIR")
    folder = Path(schema.dir).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; give a sweep dir, a run folder or a folder "
                        "of WAVs")
    if job_dirs(folder):
        report_sweep(folder)
    elif (folder / "metrics.json").is_file():
        report_run(folder)
    else:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise UserError(f"{folder} holds no sweep jobs, no metrics.json and no audio files")
        report_wavs(folder, files)
