"""What Hydra is shown: ``amcli <command> <args>`` as if the command were its own program,
with values Hydra's grammar cannot read quoted, open mappings prefixed, and the lines of
Hydra's and sbatch's stderr that the dispatcher says better in one line dropped."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from amcli.invocation import PROG


@contextmanager
def hydra_argv(args: Sequence[str], env: dict[str, str] | None = None):
    """Present ``amcli <args>`` to Hydra as if the command were its own program.

    ``HYDRA_FULL_ERROR`` makes Hydra re-raise errors instead of printing them and exiting 1, so
    that :func:`run_command` can tell a user error (exit 2) from a config error (exit 1) from a
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

