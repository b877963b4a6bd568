"""PNG/PDF/SVG plots (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def confusion_png(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path,
                  title: str = "") -> Path:
    plt = _pyplot()
    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 1.5, 1.1 * len(classes) + 1.2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{matrix[i, j]}\n{share[i, j]:.0%}", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def mask_plot(clip: np.ndarray, mask: np.ndarray, active: np.ndarray, sample_rate: int,
              hop: int, path: Path, title: str = "") -> Path:
    """A time mask ([frames]) over the clip's waveform, or a time-frequency mask ([bins,
    frames]) as an image; inactive (silent) frames shaded."""
    plt = _pyplot()
    seconds = np.arange(len(clip)) / sample_rate
    frame_t = np.arange(mask.shape[-1]) * hop / sample_rate
    if mask.ndim == 1:
        fig, ax = plt.subplots(figsize=(9, 3))
        ax.plot(seconds, clip / (np.abs(clip).max() + 1e-9), color="0.75", lw=0.5,
                label="input (normalized)")
        ax.plot(frame_t, mask, color="tab:red", lw=2, label="mask")
        ax.fill_between(frame_t, -1.05, 1.05, where=~active, color="0.9", step="mid",
                        label="silent frames")
        ax.set_ylim(-1.05, max(1.05, float(mask.max()) * 1.05))
        ax.set_xlabel("time (s)")
        ax.legend(loc="lower right", fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(9, 3.5))
        nyquist = sample_rate / 2
        image = ax.imshow(mask, origin="lower", aspect="auto", cmap="magma",
                          extent=(0, frame_t[-1], 0, nyquist))
        fig.colorbar(image, ax=ax, label="mask")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("Hz")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def spec_plot(before: np.ndarray, after: np.ndarray, sample_rate: int, hop: int, path: Path,
              title: str = "", labels: tuple[str, str] = ("input", "output")) -> Path:
    """Two log-mel images [n_mels, frames], same colour scale."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    vmin = float(min(before.min(), after.min()))
    vmax = float(max(before.max(), after.max()))
    for ax, mel, label in zip(axes, (before, after), labels, strict=True):
        end = mel.shape[-1] * hop / sample_rate
        image = ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=vmin,
                          vmax=vmax, extent=(0, end, 0, mel.shape[0]))
        ax.set_ylabel(f"{label}\nmel band")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(image, ax=axes, label="log-mel")
    if title:
        axes[0].set_title(title, fontsize=10)
    return _save(fig, path)


def sample_grid_plot(mels: np.ndarray, path: Path, title: str = "",
                     labels: Sequence[str] | None = None, columns: int = 6) -> Path:
    """A grid of log-mel images [N, n_mels, frames] (a prior's fixed-z samples), one colour
    scale; ``labels`` names each sample's row (the condition of a cgan)."""
    plt = _pyplot()
    n = len(mels)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns + 0.6, 1.0 * rows + 0.6),
                             squeeze=False)
    vmin, vmax = float(mels.min()), float(mels.max())
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(mels[k], origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax)
        if labels is not None and k % columns == 0:
            ax.set_ylabel(labels[k], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _mask_from_data(arrays: dict, path: Path, title: str) -> Path:
    return mask_plot(arrays["clip"], arrays["mask"], arrays["active"], arrays["sample_rate"],
                     arrays["hop"], path, title)


#: Renderers of the extra plots AM methods ask for (amcli.am.methods.base.PlotData.kind).
METHOD_PLOTS = {"mask": _mask_from_data}


def method_plot(data, path: Path, title: str = "") -> Path:
    """Draw a method's :class:`~amcli.am.methods.base.PlotData` with the renderer of its
    kind."""
    try:
        render = METHOD_PLOTS[data.kind]
    except KeyError:
        raise ValueError(f"no renderer for plots of kind '{data.kind}'") from None
    return render(data.arrays, path, title)
