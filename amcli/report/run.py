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

from amcli import run_folder
from amcli.files import write_json
from amcli.invocation import RunContext
from amcli.run_folder import MARKERS


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_info(seed: int | None, device: str, context: RunContext) -> dict[str, Any]:
    """The ``run`` record every command starts with (``context``: its overrides and command
    line)."""
    import torch

    from amcli import __version__

    return {
        "amcli_version": __version__,
        "torch_version": torch.__version__,
        "device": device,
        "seed": seed,
        "command_line": context.command_line,
        "overrides": list(context.overrides),
        "started": now(),
    }


def _scheduler_job(context: RunContext) -> bool:
    """This process runs exactly one sweep job for a scheduler (submitit sets
    SUBMITIT_EXECUTOR in the job's environment)."""
    import os

    return bool(os.environ.get("SUBMITIT_EXECUTOR")) and context.sweep is not None


def _update_sweep_summary(sweep: Path | None) -> None:
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


def log_traceback(err: BaseException, line: str) -> None:
    """Write ``err``'s traceback into the run's log files only (not the console, where the
    dispatcher prints one line that points here), and note on ``err`` where it went
    (``amcli_log``)."""
    import sys

    files = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    if not files:
        return
    logger = logging.getLogger("amcli")
    entry = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, line, (),
                              (type(err), err, err.__traceback__ or sys.exc_info()[2]))
    for handler in files:
        handler.handle(entry)
    try:
        err.amcli_log = files[0].baseFilename  # type: ignore[attr-defined]
    except AttributeError:  # an exception type that takes no attributes
        pass


def write_progress(folder: Path, record: dict[str, Any]) -> None:
    """metrics.json as it stands, status "running": what a killed run leaves behind."""
    write_json(folder / "metrics.json", {**record, "status": "running"})


@contextmanager
def run_record(context: RunContext, kind: str, run: dict[str, Any],
               finalize: Callable[[Path], Any] | None = None, overwrite: bool = False,
               resumes: bool = False) -> Iterator[dict[str, Any]]:
    """Yield the metrics dict to fill; on exit write metrics.json, then ``finalize(folder)``
    (files built from metrics.json, e.g. report.html), then the matching marker.

    An exception marks the run failed (its message in ``error``) and propagates; Ctrl-C marks it
    interrupted. The folder is claimed first (:func:`amcli.run_folder.claim`; the CLI claims a
    single run's folder before Hydra writes it): a sweep job that an earlier attempt left
    unfinished is cleared of that attempt's files, or continued where the command ``resumes``
    (and ``overwrite``, the user's option, is not given).
    """
    folder = context.folder
    claimed_here = not run_folder.is_claimed(folder)
    sweep_job = context.sweep is not None
    run_folder.claim(folder, overwrite=overwrite or sweep_job,
                     keep=run_folder.hydra_written(folder) if sweep_job else (),
                     resumes=resumes and not overwrite)
    record: dict[str, Any] = {"kind": kind, "status": "running", "run": run}
    status = "done"
    try:
        with signals_interrupt():
            yield record
    except KeyboardInterrupt as stop:
        status = "interrupted"
        record["interrupted_by"] = stop.name if isinstance(stop, SignalInterrupt) else "SIGINT"
        if not (isinstance(stop, SignalInterrupt) and _scheduler_job(context)):
            raise
        logging.getLogger("amcli").warning("%s: interrupted by %s; what was finished is written",
                                           folder, stop.name)
    except BaseException as err:
        from amcli.errors import UserError

        status = "failed"
        record["error"] = f"{type(err).__name__}: {err}"
        record["error_kind"] = "usage" if isinstance(err, UserError) else "bug"
        # Into the job's own log: in a sweep, that is where a job's failure is read. A user
        # error in a single run is printed once, on one line, by the dispatcher instead; so is
        # a bug's, pointing at the log that holds its traceback.
        if not isinstance(err, UserError):
            log_traceback(err, record["error"])
        if sweep_job:
            logging.getLogger("amcli").error("%s", record["error"])
        raise
    finally:
        record["status"] = status
        record["run"]["finished"] = now()
        broken = _breaks_types(record)
        if broken is not None and status == "done":
            status = record["status"] = "failed"
            record.update(error=str(broken), error_kind="bug")
        else:  # logged; a run that did not finish keeps its own outcome
            broken = None
        write_json(folder / "metrics.json", record)
        if finalize is not None:
            try:
                finalize(folder)
            except Exception as err:  # noqa: BLE001 - a report must never hide the run's outcome
                logging.getLogger("amcli").warning("could not write the run's report: %s", err)
        run_folder.finish(folder, also=(MARKERS[status],))
        (folder / MARKERS[status]).write_text(record.get("error", "") + "\n")
        if claimed_here:
            run_folder.release(folder)
        _update_sweep_summary(context.sweep)
    if broken is not None:  # a finished run whose record breaks its types: amcli's bug
        raise broken


def _breaks_types(record: dict[str, Any]) -> Exception | None:
    """The record's type error (amcli.report.record), or None; logged, and left for the
    caller to raise only where the run would otherwise pass for finished."""
    from amcli.report.record import RecordError, check_record

    try:
        check_record(record)
    except RecordError as err:
        logging.getLogger("amcli").error("%s", err)
        return err
    return None
