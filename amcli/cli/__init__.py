"""The ``amcli`` dispatcher: ``amcli <command> [hydra args]``.

Each command is its own ``@hydra.main`` application (own schema, own ``--help``, job name =
command name). The dispatcher takes the command word out of ``sys.argv`` and hands the rest to
that application, so ``-m``, ``--cfg job``, ``--help`` and ``--info`` work per command.

Exit codes: 0 done; 2 for every usage error, printed as one line: a
:class:`~amcli.errors.UserError`, a missing or unknown command, and Hydra's own config errors
(unknown key, bad choice, wrong type); 1 for bugs only; 130/143 for interrupts.

The package: :mod:`.dispatch` (main, the exit policy's try block, :func:`invoke` for the
Python API), :mod:`.registry` (the commands), :mod:`.argv` (what Hydra is shown: argv,
quoting, stderr filtering), :mod:`.outcome` (errors and sweeps as exit codes), :mod:`.completion`.

Shell completion: ``eval "$(amcli -sc install=bash)"`` installs one hook for every command. The
hook calls ``amcli -sc query=bash`` without the command word, so the dispatcher reads the command
from ``COMP_LINE`` and rewrites ``COMP_LINE`` for Hydra, which strips only the first word.
"""

from __future__ import annotations

from amcli.cli.dispatch import invoke, main, run
from amcli.cli.registry import COMMANDS, Command, usage

__all__ = ["COMMANDS", "Command", "invoke", "main", "run", "usage"]
