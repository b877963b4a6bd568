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


def _time_curve(data, path: Path, title: str) -> Path:
    """``data.curve``, an array over the clip's frames (or bands x frames), drawn over the clip
    (``clip``, ``active``, ``sample_rate``, ``hop``)."""
    arrays = data.arrays
    return mask_plot(arrays["clip"], arrays[data.curve], arrays["active"],
                     arrays["sample_rate"], arrays["hop"], path, title)


def _contours(data, path: Path, title: str) -> Path:
    return prosody_plot(data.arrays, path, title)


#: Renderers of the extra plots AM methods ask for (amcli.am.methods.base.PlotData.kind).
METHOD_PLOTS = {"time_curve": _time_curve}


def method_plot(data, path: Path, title: str = "") -> Path:
    """Draw a method's :class:`~amcli.am.methods.base.PlotData` with the renderer of its
    kind."""
    try:
        render = METHOD_PLOTS[data.kind]
    except KeyError:
        raise ValueError(f"no renderer for plots of kind '{data.kind}'") from None
    return render(data, path, title)


def prosody_plot(arrays: dict, path: Path, title: str = "") -> Path:
    """What a prosody edit did: F0 before and after, the level before and after over the
    output's waveform, and the time warp (which input time each output time plays)."""
    plt = _pyplot()
    rate, hop = arrays["sample_rate"], arrays["hop"]
    out, clip = np.asarray(arrays["output"]), np.asarray(arrays["input"])
    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True,
                             gridspec_kw={"height_ratios": [2, 2, 1.2]})
    before_t = np.arange(len(arrays["f0_before"])) * hop / rate
    after_t = np.arange(len(arrays["f0_after"])) * hop / rate
    axes[0].plot(before_t, arrays["f0_before"], color="0.55", lw=1.5, label="input")
    axes[0].plot(after_t, arrays["f0_after"], color="tab:red", lw=1.5, label="edited")
    axes[0].set_ylabel("F0 (Hz)")
    axes[0].legend(loc="upper right", fontsize=8)
    frame = 4 * hop
    for wave, colour, label in ((clip, "0.55", "input"), (out, "tab:blue", "edited")):
        usable = len(wave) // hop - 4
        if usable <= 0:
            continue
        power = np.array([np.mean(wave[i * hop:i * hop + frame] ** 2) for i in range(usable)])
        axes[1].plot(np.arange(usable) * hop / rate + frame / 2 / rate,
                     10 * np.log10(np.maximum(power, 1e-10)), color=colour, lw=1,
                     label=f"level, {label}")
    scale = np.abs(out).max() + 1e-9
    level = axes[1].get_ylim()
    axes[1].plot(np.arange(len(out)) / rate,
                 level[0] + (level[1] - level[0]) * (0.5 + 0.5 * out / scale), color="0.85",
                 lw=0.3, zorder=0)
    axes[1].set_ylabel("level (dB)")
    axes[1].legend(loc="upper right", fontsize=8)
    axes[2].plot(after_t, np.asarray(arrays["warp"]) * hop / rate, color="tab:green", lw=1.5,
                 label="input time played")
    axes[2].plot(after_t, after_t, color="0.7", lw=0.8, ls="--", label="unchanged tempo")
    axes[2].set_ylabel("input (s)")
    axes[2].set_xlabel("output time (s)")
    axes[2].legend(loc="upper left", fontsize=8)
    if title:
        axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


METHOD_PLOTS["contours"] = _contours


def attribution_plot(table: dict[str, dict[str, float]], path: Path) -> Path:
    """Bars per target: the reached target probability with each control family alone and
    with all of them (prosody attribution)."""
    plt = _pyplot()
    targets = list(table)
    variants = ["all"] + sorted({v for row in table.values() for v in row} - {"all"})
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(targets), 3.4))
    width = 0.8 / len(variants)
    colours = plt.get_cmap("tab10")
    for k, variant in enumerate(variants):
        values = [table[t].get(variant, np.nan) for t in targets]
        ax.bar(np.arange(len(targets)) + (k - (len(variants) - 1) / 2) * width, values, width,
               label=variant, color="0.3" if variant == "all" else colours(k))
    ax.set_xticks(np.arange(len(targets)), targets)
    ax.set_ylim(0, 1)
    ax.set_ylabel("median reached p(target)")
    ax.axhline(0.9, color="0.6", lw=0.8, ls=":")
    ax.legend(fontsize=8, ncol=len(variants), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.set_title("which control family alone moves the model", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
