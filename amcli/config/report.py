"""Schemas of ``amcli report`` and ``amcli list``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReportConfig:
    """Schema of ``amcli report``."""

    #: a sweep dir, a run folder or a folder of WAVs (``amcli report DIR`` sets it)
    dir: str | None = None


@dataclass
class ListConfig:
    """Schema of ``amcli list``."""

    #: extra folders to list besides the shipped checkpoints/
    dirs: list[str] = field(default_factory=list)

