"""``amcli <command> [hydra args]``: the command word taken out, the rest handed to the
command's Hydra app, and every way it can end turned into an exit code (see the package's
docstring); :func:`invoke` runs the same pipeline for the Python API, letting errors rise."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from amcli import __version__
from amcli.cli.argv import hydra_argv, open_mapping_keys, quote_values
from amcli.cli.completion import COMPLETION_FLAGS, shell_completion
from amcli.cli.outcome import (
    config_error_line,
    exit_code,
    failed_job,
    is_failed_job,
    report_bug,
    sweep_outcome,
)
from amcli.cli.registry import COMMANDS, usage
from amcli.errors import UserError, UserErrorInCallback, os_error_line
from amcli.invocation import PROG, set_invocation


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``amcli`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Tests call this in-process; the console script wraps it in :func:`run`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    set_invocation(args)
    if not args:
        print(usage(), file=sys.stderr)
        return 2
    first = args[0]
    if first in ("-h", "--help"):
        print(usage())
        return 0
    if first == "--version":
        print(f"{PROG} {__version__}")
        return 0
    if first in COMPLETION_FLAGS or first.startswith("--shell-completion="):
        return shell_completion(args, run_command)
    if first not in COMMANDS:
        print(f"{PROG}: unknown command '{first}'\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    rest = args[1:]
    if first == "report" and rest and "=" not in rest[0] and not rest[0].startswith("-"):
        rest = [f"dir={rest[0]}", *rest[1:]]  # `amcli report DIR`
    return run_command(first, rest)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def run_command(name: str, args: Sequence[str]) -> int:
    from hydra.errors import CompactHydraException
    from omegaconf.errors import OmegaConfBaseException

    module = importlib.import_module(COMMANDS[name].module)
    args = open_mapping_keys(quote_values(args))
    prepare = getattr(module, "prepare_args", None)  # aliases, misplaced options
    if prepare is not None:
        try:
            args = prepare(args)
        except UserError as err:  # before any job: one line, whatever the mode
            print(f"{PROG} {name}: error: {err}", file=sys.stderr)
            return 2
    multirun = any(a in ("-m", "--multirun") for a in args)
    from amcli import run_folder
    from amcli.report.run import signals_interrupt

    run_folder.reset()
    try:
        # the handlers come before the run folder exists: a SIGTERM while a run starts still
        # ends it with a marker
        with hydra_argv(args), signals_interrupt():
            module.main()
        if multirun:
            return sweep_outcome(name)
    except SystemExit as stop:  # Hydra exits after --help, --cfg, --info
        return exit_code(stop.code)
    except UserErrorInCallback as stop:  # refused before the run began: nothing was written
        print(f"{PROG} {name}: error: {stop.error}", file=sys.stderr)
        return 2
    except UserError as err:
        print(f"{PROG} {name}: error: {err}", file=sys.stderr)
        if any(a in ("-m", "--multirun") for a in args):
            print(f"{PROG} {name}: a sweep job failed (the first failure above); the other jobs "
                  "ran: see summary.csv and FAILED in the sweep dir", file=sys.stderr)
        return 2
    except (CompactHydraException, OmegaConfBaseException) as err:
        print(f"{PROG} {name}: config error: {config_error_line(err)}; `{PROG} {name} --help` "
              "lists the options", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        import signal

        by = getattr(stop, "name", "SIGINT")
        run_folder.mark_ended("interrupted", f"interrupted by {by} while starting")
        print(f"{PROG} {name}: interrupted ({by}); what was finished is in the run folder",
              file=sys.stderr)
        return 128 + int(getattr(signal, by, signal.SIGINT))
    except BrokenPipeError:  # `amcli ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # the machine said no: a folder that cannot be written, a full disk
        print(f"{PROG} {name}: error: {os_error_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:
        if is_failed_job(err):  # submitit: the scheduler or a job said no
            return failed_job(name, str(err))
        return report_bug(name, err)
    finally:
        run_folder.release()
    return 0


def invoke(name: str, args: Sequence[str]) -> None:
    """Run command ``name`` with ``args`` (its overrides) in this process, exactly as
    ``amcli <name> <args>`` would, but let errors rise instead of printing them: a
    :class:`UserError` for bad input (a config error becomes one, in one line). The Python API
    (:func:`amcli.api.explain`) runs the CLI's own pipeline through this, so that the same
    options and seed give the same result."""
    from hydra.errors import CompactHydraException
    from omegaconf.errors import OmegaConfBaseException

    from amcli import run_folder

    module = importlib.import_module(COMMANDS[name].module)
    args = open_mapping_keys(quote_values(args))
    prepare = getattr(module, "prepare_args", None)
    if prepare is not None:
        args = prepare(args)
    run_folder.reset()
    try:
        with hydra_argv(args):
            module.main()
    except UserErrorInCallback as stop:
        raise stop.error from None
    except (CompactHydraException, OmegaConfBaseException) as err:
        raise UserError(f"config error: {config_error_line(err)}") from None
    finally:
        run_folder.release()

