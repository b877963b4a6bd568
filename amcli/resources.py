"""Where the shipped configs, checkpoints and example clips are.

conf/ and checkpoints/ live at the repository's top level and ship inside the wheel as the
packages ``amcli.conf`` and ``amcli.checkpoints``, so the same lookup works from an editable
install and from a regular ``pip install .`` used in any directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Hydra's search path for the shipped configs.
CONF_PATH = "pkg://amcli.conf"


def conf_dir() -> Path:
    """The folder of the shipped configs (one folder per config group)."""
    return Path(str(files("amcli.conf")))


def checkpoints_dir() -> Path:
    """The folder of the shipped demo checkpoints."""
    return Path(str(files("amcli.checkpoints")))


def example_clip(label: str) -> Path:
    """The shipped example clip of one class (``checkpoints/examples/<label>.wav``)."""
    return checkpoints_dir() / "examples" / f"{label}.wav"
