"""A run folder's record: ``metrics.json`` and exactly one marker, DONE, FAILED or INTERRUPTED.

Commands wrap their work in :func:`run_record`, which writes ``metrics.json`` once at the end,
atomically, with the status that matches the marker: a folder without a marker is a run that is
still going or was killed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from amcli.files import atomic_write

MARKERS = {"done": "DONE", "failed": "FAILED", "interrupted": "INTERRUPTED"}


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic JSON write (temp file + rename)."""
    def write(tmp: str) -> None:
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=2, default=_jsonable)
            handle.write("\n")

    atomic_write(path, write)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def run_info(seed: int | None, device: str, overrides: list[str] | None = None) -> dict[str, Any]:
    import torch

    from amcli import __version__
    from amcli.cli import invocation

    return {
        "amcli_version": __version__,
        "torch_version": torch.__version__,
        "device": device,
        "seed": seed,
        "command_line": invocation(),
        "overrides": list(overrides or []),
        "started": now(),
    }


def _in_sweep() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except (ImportError, ValueError):
        return False


@contextmanager
def run_record(folder: Path, kind: str, run: dict[str, Any],
               finalize: Callable[[Path], Any] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the metrics dict to fill; on exit write metrics.json, then ``finalize(folder)``
    (files built from metrics.json, e.g. report.html), then the matching marker.

    An exception marks the run failed (its message in ``error``) and propagates; Ctrl-C marks it
    interrupted. Stale markers of an earlier attempt in the same folder are removed first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for marker in MARKERS.values():
        (folder / marker).unlink(missing_ok=True)
    record: dict[str, Any] = {"kind": kind, "status": "running", "run": run}
    status = "done"
    try:
        yield record
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException as err:
        from amcli.errors import UserError

        status = "failed"
        record["error"] = f"{type(err).__name__}: {err}"
        # Into the job's own log: in a sweep, that is where a job's failure is read. A user
        # error in a single run is printed once, on one line, by the dispatcher instead.
        if not isinstance(err, UserError) or _in_sweep():
            logging.getLogger("amcli").error("%s", record["error"],
                                             exc_info=not isinstance(err, UserError))
        raise
    finally:
        record["status"] = status
        record["run"]["finished"] = now()
        write_json(folder / "metrics.json", record)
        if finalize is not None:
            try:
                finalize(folder)
            except Exception as err:  # noqa: BLE001 - a report must never hide the run's outcome
                logging.getLogger("amcli").warning("could not write the run's report: %s", err)
        (folder / MARKERS[status]).write_text(record.get("error", "") + "\n")
