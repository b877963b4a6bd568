"""Acoustic cues of a clip (librosa, over active frames).

RMS level in dB; F0 by WORLD's Harvest (Morise 2017, the ``pyworld`` package; 60-500 Hz) as
mean in Hz and spread in semitones (std of 12 * log2(f0 / median f0)) over voiced frames; voiced
fraction; spectral centroid mean; a speaking-rate proxy (onsets per second of active audio).
Active frames are those above -50 dB re the clip's loudest frame, so leading and trailing silence
changes nothing. A cue that is undefined (F0 of a clip without voiced frames) is None.

Why Harvest and not pYIN: pYIN's voicing decision leans on the spectrum's shape, and it calls a
voice whose spectral tilt or breathiness was edited unvoiced (a voiced share of 0.94 fell to
0.00 under a +-6 dB/octave tilt), while Harvest, the F0 estimator method=prosody analyses with,
follows the harmonics wherever they are; it is also several times faster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CUE_NAMES = (
    "rms_db", "f0_mean_hz", "f0_spread_st", "voiced_fraction", "centroid_hz", "onset_rate",
    "active_s",
)
FRAME_LENGTH = 1024
HOP_LENGTH = 256
ACTIVE_THRESHOLD_DB = -50.0
F0_MIN_HZ, F0_MAX_HZ = 60.0, 500.0
#: the F0 dither's level re the clip's peak (-60 dB)
DITHER = 1e-3


def frame_power_db(wave: np.ndarray) -> np.ndarray:
    """Per-frame mean power in dB (centered frames, as librosa frames them)."""
    import librosa

    rms = librosa.feature.rms(y=wave, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH)[0]
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def active_frames(wave: np.ndarray, threshold_db: float = ACTIVE_THRESHOLD_DB) -> np.ndarray:
    """Boolean mask of frames above ``threshold_db`` re the loudest frame."""
    power_db = frame_power_db(wave)
    return power_db > power_db.max() + threshold_db


def harvest_f0(wave: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """F0 in Hz per analysis frame (0: unvoiced) by WORLD's Harvest, on the frames of
    :func:`frame_power_db` (one per HOP_LENGTH samples, ``frames`` of them).

    Harvest calls a noise-free tone unvoiced (its voicing test is degenerate without any
    noise), so the clip gets a fixed white-noise dither 60 dB below its peak first: far below
    the noise floor of any recording, enough for synthetic tones."""
    from amcli.am.prosody.analysis import load_pyworld

    x = np.asarray(wave, dtype=np.float64)
    dither = np.random.default_rng(0).standard_normal(x.shape[-1])
    x = np.ascontiguousarray(x + DITHER * np.abs(x).max(initial=0.0) * dither)
    period_ms = 1000.0 * HOP_LENGTH / sample_rate
    f0, _ = load_pyworld().harvest(x, sample_rate, f0_floor=F0_MIN_HZ, f0_ceil=F0_MAX_HZ,
                            frame_period=period_ms)
    out = np.zeros(frames)
    n = min(frames, len(f0))
    out[:n] = f0[:n]
    return out


def measure_cues(wave: np.ndarray, sample_rate: int) -> dict[str, float | None]:
    """The cues of one mono clip; None where a cue is undefined (e.g. F0 of an unvoiced
    clip, the rate of a silent one)."""
    import librosa

    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    active = active_frames(wave)
    rms = librosa.feature.rms(y=wave, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH)[0]
    rms_db = float(10.0 * np.log10(max(float(np.mean(rms[active] ** 2)), 1e-20)))

    f0 = harvest_f0(wave, sample_rate, len(active))
    voiced = f0 > 0
    n = min(len(f0), len(active))
    voiced_active = voiced[:n] & active[:n]
    f0_voiced = f0[:n][voiced_active]
    if f0_voiced.size >= 2:
        f0_mean: float | None = float(np.mean(f0_voiced))
        f0_spread: float | None = float(np.std(12.0 * np.log2(f0_voiced / np.median(f0_voiced))))
    else:
        f0_mean = f0_spread = None

    centroid = librosa.feature.spectral_centroid(
        y=wave, sr=sample_rate, n_fft=FRAME_LENGTH, hop_length=HOP_LENGTH
    )[0]
    active_s = float(active.sum() * HOP_LENGTH / sample_rate)
    onsets = librosa.onset.onset_detect(y=wave, sr=sample_rate, hop_length=HOP_LENGTH)
    cues = {
        "rms_db": rms_db,
        "f0_mean_hz": f0_mean,
        "f0_spread_st": f0_spread,
        "voiced_fraction": float(voiced_active.sum() / max(active[:n].sum(), 1)),
        "centroid_hz": float(np.mean(centroid[: len(active)][active[: len(centroid)]]))
        if active.any() else None,
        "onset_rate": float(len(onsets) / active_s) if active_s > 0 else None,
        "active_s": active_s,
    }
    return {k: v if v is None or np.isfinite(v) else None for k, v in cues.items()}


def cue_shift(output: dict[str, float], reference: dict[str, float]) -> dict[str, float | None]:
    """cue(output) - cue(reference); F0 mean as a shift in semitones. None where a
    cue is undefined on either side (e.g. no voiced frames)."""
    def diff(key: str) -> float | None:
        a, b = output.get(key), reference.get(key)
        if a is None or b is None or not np.isfinite(a) or not np.isfinite(b):
            return None
        return float(a - b)

    shift: dict[str, float | None] = {key: diff(key) for key in
                                      ("rms_db", "f0_spread_st", "voiced_fraction",
                                       "centroid_hz", "onset_rate")}
    a, b = output.get("f0_mean_hz"), reference.get("f0_mean_hz")
    shift["f0_mean_st"] = (float(12.0 * np.log2(a / b))
                           if a and b and np.isfinite(a) and np.isfinite(b) else None)
    return shift


def cue_records(outputs: Sequence[np.ndarray], reference_keys: Sequence[str],
                references: dict[str, np.ndarray], reference_labels: dict[str, str],
                sample_rate: int) -> list[dict]:
    """Per output: its cues, its reference's cues (each reference measured once), what the
    reference is (``reference_labels``) and the shift between them. ``reference_keys[i]`` names
    output i's reference in ``references``."""
    measured = {key: measure_cues(wave, sample_rate) for key, wave in references.items()}
    rows = []
    for wave, key in zip(outputs, reference_keys, strict=True):
        out = measure_cues(wave, sample_rate)
        rows.append({"output": out, "reference": measured[key],
                     "reference_is": reference_labels[key],
                     "shift": cue_shift(out, measured[key])})
    return rows
