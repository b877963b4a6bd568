"""Per-class cue parameters of the synthetic corpus, and the voice-quality post-processing.

The class profiles follow the acoustic correlates of vocal emotion (Scherer 2003; Juslin & Laukka
2003; Banse & Scherer 1996): angry louder, faster, higher and more variable pitch, harsher; happy
higher pitch, wider range, a bit faster; sad quieter, slower, lower and flatter pitch, darker;
neutral the speaker's default. Every cue is drawn around its class mean with a spread, and the
recording level varies by a few dB, so the classes overlap as real ones do.

Pitch, range and rate are in espeak-ng's SSML ``<prosody>`` units (percent, relative to the
speaker); the NumPy engine maps them onto its own F0 contour with the same meaning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

#: Classes the corpus knows how to render, in checkpoint order.
SYNTH_CLASSES = ("neutral", "happy", "sad", "angry")

#: Level of the engines' raw output before the class gain: headroom for +gain and soft-clipping.
BASE_LEVEL_DB = -12.0


@dataclass(frozen=True)
class CueProfile:
    """Mean and spread (sd) of each cue for one class."""

    pitch_pct: tuple[float, float]
    range_pct: tuple[float, float]
    rate_pct: tuple[float, float]
    gain_db: tuple[float, float]
    drive: tuple[float, float] = (0.0, 0.0)
    lowpass_hz: tuple[float, float] = (0.0, 0.0)


#: (mean, sd) per cue and class. drive 0 = no soft clip; lowpass 0 = no filter.
PROFILES: dict[str, CueProfile] = {
    "neutral": CueProfile(pitch_pct=(0, 8), range_pct=(100, 15), rate_pct=(100, 5),
                          gain_db=(0, 2.0)),
    "happy": CueProfile(pitch_pct=(35, 10), range_pct=(175, 30), rate_pct=(108, 5),
                        gain_db=(1.5, 2.0)),
    "sad": CueProfile(pitch_pct=(-25, 8), range_pct=(55, 12), rate_pct=(80, 5),
                      gain_db=(-5, 2.0), lowpass_hz=(2500, 500)),
    "angry": CueProfile(pitch_pct=(25, 10), range_pct=(165, 30), rate_pct=(118, 6),
                        gain_db=(5, 2.0), drive=(2.5, 0.8)),
}

#: Spread of the recording level (uniform, +-dB), independent of the class.
LEVEL_SPREAD_DB = 3.0

#: The cue families and the CueProfile fields each one owns.
FAMILY_CUES: dict[str, tuple[str, ...]] = {
    "pitch": ("pitch_pct", "range_pct"),
    "loudness": ("gain_db",),
    "tempo": ("rate_pct",),
    "voice": ("drive", "lowpass_hz"),
}

#: Cue-isolated corpora (``amcli synth isolate=[family]``): per family, the classes that family
#: alone separates and their values for its cues; every other cue is drawn alike for every class
#: (over :data:`VARIED`, or from the neutral profile). The emotions' own values do not always
#: separate (happy and angry share a high, wide pitch; happy is barely louder or faster than
#: neutral), so each family keeps three classes whose differences it carries, set a few spreads
#: apart: pitch neutral / happy (high and wide) / sad (low and flat); loudness, tempo and voice
#: neutral / sad / angry (quiet / loud, slow / fast, dark (low-pass) / harsh (soft clip)).
#: Loudness spans 16 dB so that the +-3 dB recording level and the speakers cannot bridge it,
#: and stays below the peak limiter.
ISOLATED: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
    "pitch": {"neutral": {"pitch_pct": (0, 6), "range_pct": (100, 12)},
              "happy": {"pitch_pct": (50, 8), "range_pct": (200, 25)},
              "sad": {"pitch_pct": (-35, 6), "range_pct": (45, 10)}},
    "loudness": {"neutral": {"gain_db": (0, 1.5)},
                 "sad": {"gain_db": (-8, 1.5)},
                 "angry": {"gain_db": (8, 1.5)}},
    "tempo": {"neutral": {"rate_pct": (100, 4)},
              "sad": {"rate_pct": (72, 4)},
              "angry": {"rate_pct": (135, 5)}},
    "voice": {"neutral": {},
              "sad": {"lowpass_hz": (1500, 250)},
              "angry": {"drive": (3.5, 0.5)}},
}


#: Spans of the cue families a cue-isolated corpus does not isolate, with ``others="varied"``:
#: each clip draws them uniformly over the span, whatever its class, so a model trained on the
#: corpus meets every value the emotions give them and learns that they carry nothing. (With
#: ``others="neutral"`` they keep the neutral profile's narrow spread, and a model never hears a
#: loud, slow or harsh clip: an explanation may then move it with a cue it never had to ignore.)
#: The spans cover the four emotions' means (amcli.data.synth.cues.PROFILES) and the isolated
#: classes' values.
VARIED: dict[str, dict[str, tuple[float, float]]] = {
    "pitch": {"pitch_pct": (-35.0, 50.0), "range_pct": (45.0, 200.0)},
    "loudness": {"gain_db": (-8.0, 8.0)},
    "tempo": {"rate_pct": (72.0, 135.0)},
    "voice": {"lowpass_hz": (1200.0, 3000.0), "drive": (1.5, 4.5)},
}

#: How the families that ``isolate`` does not name are drawn.
OTHERS = ("varied", "neutral")


def isolated_classes(families: tuple[str, ...] | list[str]) -> list[str]:
    """The classes every one of ``families`` separates, in checkpoint order."""
    return [c for c in SYNTH_CLASSES if all(c in ISOLATED[f] for f in families)]


def isolated_profile(label: str, families: tuple[str, ...] | list[str]) -> CueProfile:
    """The neutral profile with the cues of ``families`` set to ``label``'s isolated values."""
    values = {key: getattr(PROFILES["neutral"], key)
              for key in CueProfile.__dataclass_fields__}
    for family in families:
        values.update(ISOLATED[family][label])
    return CueProfile(**values)


@dataclass(frozen=True)
class CueParams:
    """The cue values one clip was rendered with (recorded in metadata.csv)."""

    pitch_pct: float
    range_pct: float
    rate_pct: float
    gain_db: float
    level_db: float
    drive: float
    lowpass_hz: float

    def as_row(self) -> dict[str, float]:
        return {key: round(float(value), 3) for key, value in asdict(self).items()}


def sample_cues(label: str, rng: np.random.Generator, jitter: float = 1.0,
                isolate: tuple[str, ...] | list[str] | None = None,
                others: str = "varied") -> CueParams:
    """Draw one clip's cues for ``label``; ``jitter`` scales every spread (0 = prototype);
    ``isolate`` names the only cue families that differ between classes, and ``others`` how the
    rest are drawn: "varied" over their whole span (:data:`VARIED`; neutral at jitter 0),
    "neutral" from the neutral profile."""
    profile = isolated_profile(label, isolate) if isolate else PROFILES[label]

    def draw(mean_sd: tuple[float, float]) -> float:
        mean, sd = mean_sd
        return float(mean + jitter * sd * rng.standard_normal())

    drive = draw(profile.drive) if profile.drive[0] > 0 else 0.0
    lowpass = draw(profile.lowpass_hz) if profile.lowpass_hz[0] > 0 else 0.0
    cues = CueParams(
        pitch_pct=float(np.clip(draw(profile.pitch_pct), -60, 90)),
        range_pct=float(np.clip(draw(profile.range_pct), 20, 300)),
        rate_pct=float(np.clip(draw(profile.rate_pct), 60, 160)),
        gain_db=draw(profile.gain_db),
        level_db=float(jitter * LEVEL_SPREAD_DB * rng.uniform(-1.0, 1.0)),
        drive=float(max(drive, 0.5)) if drive else 0.0,
        lowpass_hz=float(max(lowpass, 1000.0)) if lowpass else 0.0,
    )
    if not isolate or others == "neutral" or jitter == 0:
        return cues
    return replace(cues, **varied_cues([f for f in FAMILY_CUES if f not in isolate], rng))


def varied_cues(families: list[str], rng: np.random.Generator) -> dict[str, float]:
    """Class-independent values for the cues of ``families``, uniform over :data:`VARIED`; the
    voice is plain, dark (low-pass) or harsh (soft clip), a third of the clips each."""
    values: dict[str, float] = {}
    for family in families:
        if family == "voice":
            kind = int(rng.integers(3))
            for index, key in enumerate(("lowpass_hz", "drive"), start=1):
                low, high = VARIED["voice"][key]
                values[key] = float(rng.uniform(low, high)) if kind == index else 0.0
            continue
        for key, (low, high) in VARIED[family].items():
            values[key] = float(rng.uniform(low, high))
    return values


def pitch_ratio(pitch_pct: float) -> float:
    """F0 ratio that espeak-ng's SSML ``pitch="+N%"`` produces (measured: +40% -> x1.22).

    espeak-ng moves the base pitch by about half the percentage; the NumPy engine uses the same
    mapping so that one cue value means the same in both engines.
    """
    return float(max(1.0 + 0.0055 * pitch_pct, 0.3))


def apply_voice_quality(
    wave: np.ndarray, sample_rate: int, cues: CueParams, keep_level: bool = False
) -> np.ndarray:
    """Soft clip (harshness), low-pass (darkness), then class gain and recording level.
    ``keep_level`` restores the clip's RMS after the first two, so voice quality changes the
    timbre only (the soft clip alone raises the RMS by several dB)."""
    out = np.asarray(wave, dtype=np.float64)
    before = float(np.sqrt(np.mean(out**2))) if keep_level and out.size else 0.0
    if cues.drive > 0:
        out = np.tanh(cues.drive * out) / np.tanh(cues.drive)
    if cues.lowpass_hz > 0:
        out = lowpass(out, sample_rate, cues.lowpass_hz)
    if before > 0:
        out = out * (before / max(float(np.sqrt(np.mean(out**2))), 1e-12))
    gain = 10.0 ** ((BASE_LEVEL_DB + cues.gain_db + cues.level_db) / 20.0)
    return (out * gain).astype(np.float32)


def lowpass(wave: np.ndarray, sample_rate: int, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass (causal, like a real channel's roll-off)."""
    from scipy.signal import butter, sosfilt

    sos = butter(order, min(cutoff_hz, 0.45 * sample_rate), fs=sample_rate, output="sos")
    return sosfilt(sos, wave)
