"""Structured configs: one dataclass schema per command, registered in Hydra's ConfigStore.

Hydra validates types and enum choices against these schemas while it composes the config, so a
mistyped value fails before any work starts (Hydra's error, exit 1). Checks that need more than
a type (ranges, names known only at run time) live in each command and raise
:class:`~amcli.errors.UserError` (exit 2). The YAML files in ``conf/`` hold the defaults a user
sees in ``--help`` and name their schema in their defaults list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore

#: The demo classes, in the order every checkpoint stores them.
DEFAULT_CLASSES = ["neutral", "happy", "sad", "angry"]


class SynthEngine(Enum):
    """Which synthesizer renders the corpus."""

    espeak = "espeak"
    numpy = "numpy"


@dataclass
class SynthConfig:
    """Schema of ``amcli synth``."""

    #: Output folder of the corpus; null writes it into the run's Hydra output dir as corpus/.
    out: str | None = None
    engine: SynthEngine = SynthEngine.espeak
    n_per_class: int = 100
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    #: "train" (every speaker but the held-out one), "holdout", "all", or a list of speaker ids.
    speakers: Any = "train"
    #: "all" (the dozen sentences) or a list of sentence ids 0-11.
    sentences: Any = "all"
    #: Scales every cue's random spread; 0 renders each class at its prototype.
    jitter: float = 1.0
    sample_rate: int = 16000
    seed: int = 0
    #: Worker processes; 0 uses every core.
    workers: int = 0
    #: Replace an existing corpus in `out`.
    overwrite: bool = False
    quiet: bool = False


def register_configs() -> None:
    """Register every command's schema (idempotent)."""
    store = ConfigStore.instance()
    store.store(name="synth_schema", node=SynthConfig)


register_configs()
