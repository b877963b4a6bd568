"""The command line of this process's amcli invocation, for run records.

The dispatcher (:mod:`amcli.cli`) sets it; run records read it. It lives apart from both so that
the record layer never imports the dispatcher.
"""

from __future__ import annotations

import shlex
import sys

PROG = "amcli"

#: The command line of the current invocation, command word included (Hydra sees it without).
_words: list[str] = []


def set_invocation(args: list[str]) -> None:
    _words[:] = [PROG, *args]


def invocation() -> str:
    """``amcli <command> <args>`` as the user typed it (shell-quoted)."""
    return shlex.join(_words or [PROG, *sys.argv[1:]])
