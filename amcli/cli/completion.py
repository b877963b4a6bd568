"""Shell completion for every command at once: ``eval "$(amcli -sc install=bash)"``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from amcli.cli.argv import hydra_argv
from amcli.cli.outcome import exit_code
from amcli.cli.registry import COMMANDS, load_command
from amcli.invocation import PROG

COMPLETION_FLAGS = ("-sc", "--shell-completion")


def shell_completion(args: list[str], run_command: Callable[[str, Sequence[str]], int]) -> int:
    """``-sc install=bash`` / ``-sc query=bash`` for all commands at once (``run_command``:
    the dispatcher's, which installs the hook through one command's Hydra app)."""
    value = args[1] if len(args) > 1 and args[0] in COMPLETION_FLAGS else args[0].split("=", 1)[1]
    any_command = next(iter(COMMANDS))
    if not value.startswith("query"):
        # install/uninstall print a hook keyed on the executable's name only: one serves all.
        return run_command(any_command, ["-sc", value])

    line = os.environ.get("COMP_LINE", PROG)
    words = line.split()
    completing_command = len(words) == 1 or (len(words) == 2 and not line.endswith(" "))
    if completing_command:
        prefix = words[1] if len(words) == 2 else ""
        print(" ".join(name for name in COMMANDS if name.startswith(prefix)))
        return 0
    command = words[1]
    if command not in COMMANDS:
        print("")
        return 0
    # Drop the command word so Hydra, which strips only the program name, sees its own line.
    rest = line.split(command, 1)[1].lstrip()
    new_line = f"{PROG} {rest}"
    with hydra_argv(["-sc", value], env={"COMP_LINE": new_line,
                                          "COMP_POINT": str(len(new_line))}):
        try:
            load_command(command)()
        except SystemExit as stop:
            return exit_code(stop.code)
    return 0

