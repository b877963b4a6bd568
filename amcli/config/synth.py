"""Schema of ``amcli synth``: the synthetic emotional-speech corpus."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from amcli.bounds import bounded
from amcli.config.classes import DEFAULT_CLASSES
from amcli.families import Family


class SynthEngine(Enum):
    """Which synthesizer renders the corpus."""

    espeak = "espeak"
    numpy = "numpy"


class OtherCues(Enum):
    """How a cue-isolated corpus draws the cue families it does not isolate."""

    varied = "varied"
    neutral = "neutral"


@dataclass
class SynthConfig:
    """Schema of ``amcli synth``."""

    #: Output folder of the corpus; null writes it into the run's Hydra output dir as corpus/.
    out: str | None = None
    #: espeak (espeak-ng: 26 voices, SSML prosody) or numpy (a pure-NumPy source-filter synthesizer,
    #: no system package needed)
    engine: SynthEngine = SynthEngine.espeak
    #: clips per class
    n_per_class: int = bounded(100, ge=1)
    #: a subset of the four classes, in output order
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    #: "train" (every speaker but the held-out one), "holdout", "all", or a list of speaker ids.
    speakers: Any = "train"
    #: "all" (the dozen sentences) or a list of sentence ids 0-11.
    sentences: Any = "all"
    #: Scales every cue's random spread; 0 renders each class at its prototype.
    jitter: float = bounded(1.0, ge=0)
    #: output sample rate in Hz (espeak-ng's 22.05 kHz is resampled)
    sample_rate: int = bounded(16000, ge=4000, le=192000)
    #: the corpus is bit-for-bit the same for a seed, whatever workers is
    seed: int = 0
    #: Worker processes; 0 uses the CPUs this process may run on.
    workers: int = bounded(0, ge=0, hint="a number of processes, or 0 for the usable CPUs")
    #: cue families that alone differ between classes (pitch, loudness, tempo, voice); the others
    #: are drawn the same way for every class (see others); null: every cue differs
    isolate: list[Family] | None = None
    #: with isolate: varied draws every other family over the whole span the emotions give it,
    #: alike for all classes, so a model trained on the corpus learns to ignore them; neutral
    #: keeps them at the neutral profile's narrow spread
    others: OtherCues = OtherCues.varied
    #: two cue families whose levels combine into four classes ([pitch,loudness]: low_soft,
    #: low_loud, high_soft, high_loud); the other families vary alike for every class (see
    #: others); classes, if given, a subset of those four
    combine: list[Family] | None = None
    #: with isolate: the share (0-1) of each clip's speech where the isolated families carry the
    #: class; outside that stretch they keep neutral values, so only the stretch tells the
    #: classes apart (its place in seconds is in metadata.csv); null: the whole clip
    stretch: float | None = bounded(None, gt=0, lt=1, hint="a share of the speech")
    #: with stretch: where it starts, as a share of the speech (0 to 1 - stretch); null: a
    #: random place per clip
    stretch_at: float | None = bounded(None, ge=0, lt=1, hint="a share of the speech")
    #: Replace an existing corpus in `out`.
    overwrite: bool = False
    #: no progress bar
    quiet: bool = False

