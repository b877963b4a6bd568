"""Audio I/O: read, mono mix-down, resample, write.

soundfile does the I/O (torchaudio's load/save need torchcodec) and soxr (the resampler behind
librosa's default) the resampling: torchaudio's polyphase resampler builds a filter per ratio,
which for a ratio like TESS's 24,414 -> 16,000 Hz (12207:8000) takes about 2 s per clip, while
soxr takes about 1 ms for any ratio (bench/io_speed.py). Nothing here normalizes loudness on the way
in: loudness is a class cue for emotion, so a classifier must hear the level that was recorded.
Writing only limits the peak, to avoid clipping, and returns the gain so the caller can record it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from amcli.errors import UserError
from amcli.files import atomic_write

#: Peak that written WAVs are limited to (a hair under full scale, so PCM_16 never clips).
PEAK_LIMIT = 0.999


def read_audio(
    path: str | os.PathLike,
    sample_rate: int | None = None,
    min_seconds: float = 0.0,
) -> tuple[torch.Tensor, int]:
    """Read any file soundfile reads as a mono float32 waveform [T] in [-1, 1].

    Channels are averaged; with ``sample_rate`` the clip is resampled to it. Raises
    :class:`UserError` for a missing, unreadable, empty, too short or non-finite file.
    Returns ``(wave, sample_rate)``.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"audio file not found: {path}; check the path")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise UserError(
            f"cannot read audio file {path} ({_first_line(err)}); "
            "give a WAV, FLAC or OGG file that soundfile can read"
        ) from None
    if data.shape[0] == 0:
        raise UserError(f"audio file {path} is empty (0 samples); give a clip with sound in it")
    if not np.isfinite(data).all():
        raise UserError(f"audio file {path} contains NaN or infinite samples; re-export it")
    wave = torch.from_numpy(data.mean(axis=1))
    if sample_rate is not None and sample_rate != file_rate:
        wave = resample(wave, file_rate, sample_rate)
        file_rate = sample_rate
    seconds = wave.shape[-1] / file_rate
    if seconds < min_seconds:
        raise UserError(
            f"audio file {path} is {seconds:.3f} s long, shorter than the {min_seconds:g} s "
            "needed; give a longer clip"
        )
    return wave.contiguous(), file_rate


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Resample along the last axis with soxr (high quality), as fast for 24,414 Hz as for
    24,000 Hz; a [..., T] tensor keeps its leading axes."""
    import soxr

    if orig_rate == new_rate:
        return wave
    data = wave.detach().to("cpu", torch.float32).numpy()
    rows = data.reshape(-1, data.shape[-1])
    out = soxr.resample(np.ascontiguousarray(rows.T), int(orig_rate), int(new_rate),
                        quality="HQ")
    out = np.asarray(out, dtype=np.float32).reshape(-1, rows.shape[0]).T
    return torch.from_numpy(np.ascontiguousarray(out)).reshape(*data.shape[:-1], -1)


def to_mono(wave: torch.Tensor) -> torch.Tensor:
    """Average a [channels, T] waveform to [T]; a [T] waveform is returned as is."""
    return wave.mean(dim=0) if wave.dim() == 2 else wave


def peak_limit_gain(wave: torch.Tensor | np.ndarray, limit: float = PEAK_LIMIT) -> float:
    """The gain (<= 1) that brings the clip's peak down to ``limit``; 1.0 if it is under."""
    peak = float(np.max(np.abs(np.asarray(wave)))) if np.asarray(wave).size else 0.0
    return 1.0 if peak <= limit else limit / peak


def write_wav(
    path: str | os.PathLike,
    wave: torch.Tensor | np.ndarray,
    sample_rate: int,
    subtype: str = "PCM_16",
) -> float:
    """Write a mono waveform [T] as WAV, atomically, and return the gain that was applied.

    The gain is 1.0 unless the peak exceeded :data:`PEAK_LIMIT`, in which case the whole clip
    is scaled down (never clipped); record the returned gain next to the file. Non-finite
    samples are a bug in the caller and raise ``ValueError``.
    """
    if isinstance(wave, torch.Tensor):
        wave = wave.detach().to("cpu", torch.float32).numpy()
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    if not np.isfinite(wave).all():
        raise ValueError(f"refusing to write non-finite samples to {path}")
    gain = peak_limit_gain(wave)
    atomic_write(path, lambda tmp: sf.write(tmp, wave * gain, int(sample_rate), subtype=subtype,
                                            format="WAV"))
    return gain


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
