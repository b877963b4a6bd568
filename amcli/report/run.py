"""A run folder's record: ``metrics.json`` and exactly one marker, DONE, FAILED or INTERRUPTED.

Commands wrap their work in :func:`run_record`, which writes ``metrics.json`` once at the end,
atomically, with the status that matches the marker: a folder without a marker is a run that is
still going or was killed.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from amcli.files import write_json

MARKERS = {"done": "DONE", "failed": "FAILED", "interrupted": "INTERRUPTED"}


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


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


def _sweep_dir() -> Path | None:
    """The sweep folder when this run is a job of a Hydra multirun, else None."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        config = HydraConfig.get()
        return Path(config.sweep.dir) if config.mode == RunMode.MULTIRUN else None
    except (ImportError, ValueError):
        return None


def _in_sweep() -> bool:
    return _sweep_dir() is not None


def _scheduler_job() -> bool:
    """This process runs exactly one sweep job for a scheduler (submitit sets
    SUBMITIT_EXECUTOR in the job's environment)."""
    import os

    return bool(os.environ.get("SUBMITIT_EXECUTOR")) and _in_sweep()


def _update_sweep_summary() -> None:
    sweep = _sweep_dir()
    if sweep is None or not sweep.is_dir():
        return
    from amcli.report.sweep import write_summary

    try:
        write_summary(sweep)
    except OSError as err:  # the summary must never fail a job
        logging.getLogger("amcli").warning("could not update the sweep summary: %s", err)


#: Signals that end a run the way Ctrl-C does.
STOP_SIGNALS = ("SIGTERM", "SIGUSR2")


class SignalInterrupt(KeyboardInterrupt):
    """KeyboardInterrupt raised by a scheduler's signal; ``name`` says which."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGUSR2 raise :class:`SignalInterrupt` (main thread only;
    the previous handlers come back after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame) -> None:
        raise SignalInterrupt(signal.Signals(signum).name)

    saved = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            saved[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def write_progress(folder: Path, record: dict[str, Any]) -> None:
    """metrics.json as it stands, status "running": what a killed run leaves behind."""
    write_json(folder / "metrics.json", {**record, "status": "running"})


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
        with signals_interrupt():
            yield record
    except KeyboardInterrupt as stop:
        status = "interrupted"
        record["interrupted_by"] = stop.name if isinstance(stop, SignalInterrupt) else "SIGINT"
        if not (isinstance(stop, SignalInterrupt) and _scheduler_job()):
            raise
        logging.getLogger("amcli").warning("%s: interrupted by %s; what was finished is written",
                                           folder, stop.name)
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
        _update_sweep_summary()
