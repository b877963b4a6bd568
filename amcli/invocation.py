"""The command line of this process's amcli invocation, and the context a run is asked in.

The dispatcher (:mod:`amcli.cli`) sets the command line; a command reads it once, with Hydra's
state, into a :class:`RunContext` that it passes down to the record layer, which never reads
the dispatcher's or Hydra's state itself.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunContext:
    """Where and how a run was asked for: its folder, the Hydra overrides, the command as
    typed, and the sweep folder when it is a job of a sweep (None for a single run)."""

    folder: Path
    overrides: list[str]
    command_line: str
    sweep: Path | None = None

PROG = "amcli"

#: The command line of the current invocation, command word included (Hydra sees it without).
_words: list[str] = []


def set_invocation(args: list[str]) -> None:
    _words[:] = [PROG, *args]


def invocation() -> str:
    """``amcli <command> <args>`` as the user typed it (shell-quoted)."""
    return shlex.join(_words or [PROG, *sys.argv[1:]])
