"""The files of an optimize run's items: WAVs, plots and the arrays behind the method's plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from amcli.audio import write_wav
from amcli.features import FeatureParams, LogMel
from amcli.metrics.attribution import figures
from amcli.report.plots import attribution_plot, method_plot, spec_plot


def write_inputs(folder: Path, clips: dict[str, torch.Tensor], rate: int) -> dict[str, str]:
    """The clips as the classifier heard them: ``wav/input.wav`` (one clip) or
    ``wav/input_<clip>.wav``; returns clip name -> relative path."""
    names = {}
    for name, clip in clips.items():
        stem = "input" if len(clips) == 1 else f"input_{name}"
        write_wav(folder / "wav" / f"{stem}.wav", clip, rate)
        names[name] = f"wav/{stem}.wav"
    return names


def write_item_files(folder: Path, stem: str, wave: torch.Tensor, mel: torch.Tensor,
                     before: torch.Tensor | None, rate: int, features: FeatureParams,
                     title: str, plot_format: str, method_plot_data: Any = None) -> float:
    """``wav/<stem>.wav`` (level kept, scaled down only if it would clip), the spectrogram
    plot (input and output, or the output alone), the method's own plot and the arrays it is
    drawn from (``arrays/<stem>.npz``: the mask over time, the F0 contours, ...: the numbers
    behind the picture, for re-plotting and for other tools); returns the WAV's gain."""
    gain = write_wav(folder / "wav" / f"{stem}.wav", wave, rate)
    plots = folder / "plots"
    out = mel.detach().cpu().numpy()
    if before is not None:
        spec_plot(before.detach().cpu().numpy(), out, rate, features.hop_length,
                  plots / f"{stem}_spec.{plot_format}", title)
    else:
        spec_plot(out, out, rate, features.hop_length, plots / f"{stem}_spec.{plot_format}",
                  title, labels=("output", "output"))
    if method_plot_data is not None:
        method_plot(method_plot_data, plots / f"{stem}_{method_plot_data.tag}.{plot_format}",
                    title)
        write_arrays(folder / "arrays" / f"{stem}.npz", method_plot_data.arrays)
    return gain


def write_arrays(path: Path, arrays: dict[str, Any]) -> Path:
    """The method's plot arrays as one compressed NumPy archive (scalars as 0-d arrays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{key: np.asarray(value) for key, value in arrays.items()})
    return path


def input_mels(clips: dict[str, torch.Tensor], features: FeatureParams) -> dict[str, torch.Tensor]:
    logmel = LogMel(features)
    return {name: logmel(clip) for name, clip in clips.items()}


def write_summary_plots(folder: Path, summary: dict[str, Any], plot_format: str) -> None:
    """Plots of the run as a whole: the prosody attribution chart, when there is one."""
    if summary.get("attribution"):
        attribution_plot(figures(summary["attribution"]),
                         folder / "plots" / f"attribution.{plot_format}")
