"""The four cue families amcli knows, defined once: a synthetic corpus isolates them, prosody
edits them, and attribution and the ground-truth benchmark name them."""

from __future__ import annotations

from enum import Enum


class Family(Enum):
    """A family of cues: pitch (F0 level and range), loudness (level), tempo (speaking rate),
    voice (spectral tilt and breathiness)."""

    pitch = "pitch"
    loudness = "loudness"
    tempo = "tempo"
    voice = "voice"


#: the family names, in the order every table uses
FAMILIES: tuple[str, ...] = tuple(f.value for f in Family)
