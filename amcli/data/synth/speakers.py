"""The corpus' speakers: espeak-ng voices with variants, and NumPy-engine voices.

Each speaker carries fixed offsets (base pitch, rate) seeded by its name, so a speaker sounds the
same in every corpus. One speaker per variant pair is held out of every training corpus
(``speakers=holdout``): the example clips in ``checkpoints/examples`` come from it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from amcli.errors import UserError

ESPEAK_LANGUAGES = ("en", "en-us")  # en-gb+variant silently ignores the variant in 1.51
ESPEAK_VARIANTS = tuple(f"m{i}" for i in range(1, 9)) + tuple(f"f{i}" for i in range(1, 6))
HELD_OUT_VARIANT = "m2"


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker.

    ``voice`` is the espeak-ng voice (``en+m3``) or, for the NumPy engine, empty.
    ``pitch`` is espeak-ng's ``-p`` (0-99, default 50) or the NumPy engine's base F0 in Hz;
    ``rate`` is ``-s`` in words per minute or the NumPy engine's tempo factor.
    """

    id: str
    voice: str
    pitch: float
    rate: float
    formant_scale: float = 1.0
    held_out: bool = False


def _speaker_rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def espeak_speakers() -> list[Speaker]:
    speakers = []
    for lang in ESPEAK_LANGUAGES:
        for variant in ESPEAK_VARIANTS:
            sid = f"{lang}-{variant}"
            rng = _speaker_rng(sid)
            speakers.append(Speaker(
                id=sid,
                voice=f"{lang}+{variant}",
                pitch=float(np.clip(round(50 + 6 * rng.standard_normal()), 35, 65)),
                rate=float(np.clip(round(170 + 10 * rng.standard_normal()), 145, 195)),
                held_out=variant == HELD_OUT_VARIANT,
            ))
    return speakers


def numpy_speakers() -> list[Speaker]:
    speakers = []
    for sex, count, f0, scale in (("m", 7, 115.0, 1.0), ("f", 6, 205.0, 1.16)):
        for i in range(1, count + 1):
            sid = f"np-{sex}{i}"
            rng = _speaker_rng(sid)
            speakers.append(Speaker(
                id=sid,
                voice="",
                pitch=float(f0 * 2 ** (2.5 * rng.standard_normal() / 12)),
                rate=float(np.clip(1 + 0.1 * rng.standard_normal(), 0.8, 1.2)),
                formant_scale=float(scale * (1 + 0.06 * rng.standard_normal())),
                held_out=f"{sex}{i}" == HELD_OUT_VARIANT,
            ))
    return speakers


def all_speakers(engine: str) -> list[Speaker]:
    return espeak_speakers() if engine == "espeak" else numpy_speakers()


def select_speakers(engine: str, selection: object) -> list[Speaker]:
    """Resolve ``speakers=train|holdout|all|[ids]`` to speakers, or raise UserError."""
    pool = all_speakers(engine)
    if selection in (None, "train"):
        return [s for s in pool if not s.held_out]
    if selection == "holdout":
        return [s for s in pool if s.held_out]
    if selection == "all":
        return pool
    ids = [selection] if isinstance(selection, str) else list(selection)
    by_id = {s.id: s for s in pool}
    unknown = [i for i in ids if i not in by_id]
    if unknown or not ids:
        raise UserError(
            f"unknown speaker(s) {unknown} for engine={engine}; use train, holdout, all or ids "
            f"from: {', '.join(by_id)}"
        )
    return [by_id[i] for i in dict.fromkeys(ids)]
