"""The ``amcli`` dispatcher: ``amcli <command> [hydra args]``.

Each command is its own ``@hydra.main`` application (own schema, own ``--help``, job name =
command name). The dispatcher takes the command word out of ``sys.argv`` and hands the rest to
that application, so ``-m``, ``--cfg job``, ``--help`` and ``--info`` work per command.

Exit codes: 0 done; 2 for every usage error, printed as one line: a
:class:`~amcli.errors.UserError`, a missing or unknown command, and Hydra's own config errors
(unknown key, bad choice, wrong type); 1 for bugs only; 130/143 for interrupts.

Shell completion: ``eval "$(amcli -sc install=bash)"`` installs one hook for every command. The
hook calls ``amcli -sc query=bash`` without the command word, so the dispatcher reads the command
from ``COMP_LINE`` and rewrites ``COMP_LINE`` for Hydra, which strips only the first word.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from amcli import __version__
from amcli.errors import UserError, UserErrorInCallback, os_error_line
from amcli.invocation import PROG, set_invocation


@dataclass(frozen=True)
class Command:
    """A registered command: the module holding its ``@hydra.main`` function ``main``."""

    module: str
    summary: str


#: Only commands that really work are registered; later issues add theirs here.
COMMANDS: dict[str, Command] = {
    "optimize": Command(
        "amcli.commands.optimize",
        "activation maximization: what does the classifier need to hear to say <target>?",
    ),
    "synth": Command(
        "amcli.commands.synth",
        "write the synthetic emotional-speech corpus (espeak-ng or NumPy engine)",
    ),
    "train-classifier": Command(
        "amcli.commands.train_classifier",
        "train a CNN/CRNN emotion classifier (raw or mel) on a dataset",
    ),
    "train-prior": Command(
        "amcli.commands.train_prior",
        "train a GAN or conditional-GAN prior (mel or raw) for method=latent",
    ),
    "evaluate": Command(
        "amcli.commands.evaluate",
        "accuracy, macro-F1 and confusion matrix of a checkpoint on a dataset",
    ),
    "report": Command(
        "amcli.commands.report",
        "rebuild a sweep's summary.csv, summarize a run, or measure the cues of a folder of WAVs",
    ),
    "list": Command(
        "amcli.commands.list_checkpoints",
        "the shipped checkpoints (and any folder given) with their metadata",
    ),
}

_COMPLETION_FLAGS = ("-sc", "--shell-completion")


def usage() -> str:
    """The command list printed by ``amcli``, ``amcli --help`` and after an unknown command."""
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} <command> [hydra overrides and flags]",
        "",
        "Explain audio classifiers by class-based activation maximization.",
        "",
        "commands:",
        *(f"  {name.ljust(width)}  {cmd.summary}" for name, cmd in COMMANDS.items()),
        "",
        "Every command takes Hydra overrides (key=value) and Hydra's flags:",
        f"  {PROG} <command> --help        the command's options and defaults",
        f"  {PROG} <command> --cfg job     print the composed config and exit",
        f"  {PROG} <command> --info        Hydra's view of the command's config search path",
        f"  {PROG} <command> -m a=1,2      a multirun sweep",
        f'  eval "$({PROG} -sc install=bash)"   shell completion for all commands',
        "",
        f"{PROG} {__version__}",
    ]
    return "\n".join(lines)


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
    if first in _COMPLETION_FLAGS or first.startswith("--shell-completion="):
        return _shell_completion(args)
    if first not in COMMANDS:
        print(f"{PROG}: unknown command '{first}'\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    rest = args[1:]
    if first == "report" and rest and "=" not in rest[0] and not rest[0].startswith("-"):
        rest = [f"dir={rest[0]}", *rest[1:]]  # `amcli report DIR`
    return _run_command(first, rest)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def _load(name: str) -> Callable[[], None]:
    return importlib.import_module(COMMANDS[name].module).main


@contextmanager
def _hydra_argv(args: Sequence[str], env: dict[str, str] | None = None):
    """Present ``amcli <args>`` to Hydra as if the command were its own program.

    ``HYDRA_FULL_ERROR`` makes Hydra re-raise errors instead of printing them and exiting 1, so
    that :func:`_run_command` can tell a user error (exit 2) from a config error (exit 1) from a
    bug (traceback).
    """
    saved_argv, saved_stderr = sys.argv, sys.stderr
    saved_env = {key: os.environ.get(key) for key in ("HYDRA_FULL_ERROR", *(env or {}))}
    sys.argv = [PROG, *args]
    os.environ["HYDRA_FULL_ERROR"] = "1"
    os.environ.update(env or {})
    multirun = any(a in ("-m", "--multirun") for a in args)
    sys.stderr = _DropLines(saved_stderr, _SWEEP_DROPS if multirun else _RUN_DROPS)
    try:
        yield
    finally:
        sys.argv, sys.stderr = saved_argv, saved_stderr
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: A single run: Hydra's "Error executing job with overrides: [...]" (the user knows the
#: overrides, and the dispatcher prints the error itself in one line).
_RUN_DROPS = ("Error executing job with overrides:",)
#: A sweep keeps Hydra's line (it says which job failed), but not sbatch's own error lines,
#: which submitit echoes before raising: the dispatcher says sbatch's reason in one line.
_SWEEP_DROPS = ("sbatch: error",)


class _DropLines:
    """stderr without the lines that start with ``prefixes``."""

    def __init__(self, stream, prefixes: tuple[str, ...]) -> None:
        self._stream, self._prefixes = stream, prefixes
        self._dropped = False  # print() writes its end="\n" separately: drop that one too

    def write(self, text: str) -> int:
        if self._dropped and text == "\n":
            self._dropped = False
            return 0
        self._dropped = False
        if not any(p in text for p in self._prefixes):
            return self._stream.write(text)
        kept = "".join(line for line in text.splitlines(keepends=True)
                       if not line.startswith(self._prefixes))
        if kept.strip():
            return self._stream.write(kept)
        self._dropped = True
        return 0

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


#: Keys whose values are paths (a comma in them is part of the name, not a sweep).
PATH_KEYS = ("input", "data.root", "frechet_reference", "hydra.run.dir", "hydra.sweep.dir",
             "resume", "out", "dir", "prior.checkpoint", "vocoder.path", "custom.weights",
             "hf.path", "classifier", "checkpoint", "judge")


def quote_values(args: Sequence[str]) -> list[str]:
    """Quote the ``key=value`` overrides that Hydra's grammar cannot read as typed: values
    with non-ASCII letters, quotes, ``#``, ``=``, brackets or ``<>&`` (common in file names),
    and paths that exist with a comma in their name. Quoted, Hydra reads them as the string the
    user meant; everything else is passed on untouched."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or arg.startswith("-") or not value or value[0] in "'\"":
            out.append(arg)
            continue
        quoted = f"{key}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        try:
            parsed = parser.parse_overrides([arg])[0]
            is_path = key.lstrip("+~") in PATH_KEYS and Path(value).expanduser().exists()
            if parsed.is_sweep_override() and is_path:
                arg = quoted
        except Exception:  # noqa: BLE001 - Hydra's grammar errors: try the quoted form
            try:
                parser.parse_overrides([quoted])
                arg = quoted
            except Exception:  # noqa: BLE001 - leave it to Hydra's own message
                pass
        out.append(arg)
    return out


#: Open mappings: any key may be added under them (``data.label_map.calm=neutral``), which
#: Hydra's struct mode would otherwise refuse unless typed with ``+``.
OPEN_MAPPINGS = ("data.label_map.",)


def open_mapping_keys(args: Sequence[str]) -> list[str]:
    """Give ``key=value`` under an open mapping Hydra's add-or-override prefix ``++``."""
    return [f"++{a}" if a.startswith(OPEN_MAPPINGS) and "=" in a else a for a in args]


def _run_command(name: str, args: Sequence[str]) -> int:
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
        with _hydra_argv(args), signals_interrupt():
            module.main()
        if multirun:
            return _sweep_outcome(name)
    except SystemExit as stop:  # Hydra exits after --help, --cfg, --info
        return _exit_code(stop.code)
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
        if _is_failed_job(err):  # submitit: the scheduler or a job said no
            return _failed_job(name, str(err))
        return _bug(name, err)
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
        with _hydra_argv(args):
            module.main()
    except UserErrorInCallback as stop:
        raise stop.error from None
    except (CompactHydraException, OmegaConfBaseException) as err:
        raise UserError(f"config error: {config_error_line(err)}") from None
    finally:
        run_folder.release()


def _bug(name: str, err: BaseException) -> int:
    """An unexpected failure: its traceback goes into the run's log (printed here when there is
    no run folder), and one line says where; exit 1."""
    from amcli import run_folder

    log = getattr(err, "amcli_log", None)
    if log is None:  # it happened before the run's record began
        run_folder.mark_ended("failed", f"{type(err).__name__}: {err}")
        log = run_folder.append_to_log("".join(traceback.format_exception(err)))
    if log is None:
        traceback.print_exception(err)
        return 1
    print(f"{PROG} {name}: internal error: {type(err).__name__}: {err}; this is a bug in "
          f"{PROG}, not in your input: the traceback is in {log} (please report it with that "
          "file)", file=sys.stderr)
    return 1


def config_error_line(err: BaseException) -> str:
    """Hydra's and OmegaConf's multi-line config errors in one line: what went wrong, and the
    key (the cause's ``full_key``) it went wrong at."""
    parts: list[str] = []
    key = None
    for e in (err, err.__cause__):
        if e is None:
            continue
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        for ln in lines:
            if ln.startswith("full_key:"):
                key = key or ln.split(":", 1)[1].strip()
            elif not ln.startswith(("object_type", "reference_type", "value:",
                                    "To append to your config")) and ln not in parts:
                parts.append(ln)
    text = " ".join(parts) or type(err).__name__
    return text + (f" (key {key})" if key and key not in text else "")


def _sweep_outcome(name: str) -> int:
    """After a sweep: 0 when every job ended DONE, else one line naming the others and 1."""
    from amcli.report.sweep import LAST_SWEEP, unfinished

    if not LAST_SWEEP:
        return 0
    rows = unfinished(LAST_SWEEP[0])
    if not rows:
        return 0
    jobs = ", ".join(f"{r['job']} {r['status']}" + (f" ({r['error']})" if r["error"] else "")
                     for r in rows)
    print(f"{PROG} {name}: {len(rows)} sweep job(s) did not finish: {jobs}; run the same "
          f"command again to redo only those (see {LAST_SWEEP[0] / 'summary.csv'})",
          file=sys.stderr)
    return 1


def _is_failed_job(err: Exception) -> bool:
    try:
        from submitit.core.utils import FailedJobError
    except ImportError:  # the launcher is not installed: no job of it can fail
        return False
    return isinstance(err, FailedJobError)


def _failed_job(name: str, text: str) -> int:
    """submitit's FailedJobError in one line: sbatch's refusal (exit 2, the user's settings;
    sbatch says why only in its own words), or the last line of a job's traceback, with exit 2
    when every failed job's record says it was a usage error, else 1."""
    from amcli.report.sweep import failed_error_kinds
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    refusal = next((line for line in lines if "sbatch: error" in line), None)
    if refusal:
        reason = refusal[refusal.index("sbatch: error"):]
        print(f"{PROG} {name}: error: the scheduler refused the job: {reason} (check "
              "hydra.launcher.partition, gpus_per_node, mem_gb, cpus_per_task, timeout_min)",
              file=sys.stderr)
        return 2
    last = lines[-1] if lines else "no details"
    from amcli import run_folder

    print(f"{PROG} {name}: error: a sweep job failed: {last}; the other jobs ran: see "
          "summary.csv and FAILED in the sweep dir", file=sys.stderr)
    kinds = failed_error_kinds(run_folder.current_sweep())
    return 2 if kinds and set(kinds) == {"usage"} else 1


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _shell_completion(args: list[str]) -> int:
    """``-sc install=bash`` / ``-sc query=bash`` for all commands at once."""
    value = args[1] if len(args) > 1 and args[0] in _COMPLETION_FLAGS else args[0].split("=", 1)[1]
    any_command = next(iter(COMMANDS))
    if not value.startswith("query"):
        # install/uninstall print a hook keyed on the executable's name only: one serves all.
        return _run_command(any_command, ["-sc", value])

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
    with _hydra_argv(["-sc", value], env={"COMP_LINE": new_line,
                                          "COMP_POINT": str(len(new_line))}):
        try:
            _load(command)()
        except SystemExit as stop:
            return _exit_code(stop.code)
    return 0
