"""The sweep's ``summary.csv`` and ``index.html``, one row per job, built from the job folders on
disk; a run's own ``summary.csv`` (one row per item) and ``report.html``.

Hydra skips ``on_multirun_end`` when a job failed and never reports a job a signal ended, and the
submitit launcher reports failed or killed jobs as completed, so nothing here trusts the
launcher: every job's end (:func:`amcli.report.run.run_record`, whatever the status) rewrites the
whole summary from what the folders hold (markers, metrics.json, .hydra/overrides.yaml), under a
lock on the sweep folder, so jobs that end at the same moment never leave a stale or half-written
summary: the last one to take the lock reads every marker written before it. A job folder
without a marker is listed as "running" (or killed: out of memory leaves none).
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from amcli.files import atomic_write, take_lock
from amcli.run_folder import MARKERS, status_of

log = logging.getLogger(__name__)

COLUMNS = ("job", "overrides", "status", "items", "evidence_items", "reached", "not_reached",
           "not_an_explanation", "min_target_prob", "median_target_prob", "median_judge_prob",
           "error")


def job_dirs(sweep: Path) -> list[Path]:
    """Job folders of a sweep: the sub-folders holding a .hydra/ folder, in numeric order."""
    found = [p for p in sweep.iterdir() if p.is_dir() and (p / ".hydra").is_dir()]
    return sorted(found, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit()
                                        else 0, p.name))


def job_row(folder: Path, sweep: Path) -> dict[str, Any]:
    status = status_of(folder)
    status = "running" if status == "unfinished" else status
    overrides = ""
    overrides_file = folder / ".hydra" / "overrides.yaml"
    if overrides_file.is_file():
        import yaml

        overrides = " ".join(yaml.safe_load(overrides_file.read_text()) or [])
    row: dict[str, Any] = {"job": str(folder.relative_to(sweep)), "overrides": overrides,
                           "status": status, "items": "", "evidence_items": "", "reached": "",
                           "not_reached": "",
                           "not_an_explanation": "", "min_target_prob": "",
                           "median_target_prob": "", "median_judge_prob": "", "error": ""}
    metrics_file = folder / "metrics.json"
    if metrics_file.is_file():
        try:
            metrics = json.loads(metrics_file.read_text())
        except (ValueError, OSError):
            metrics = {}
        if not isinstance(metrics, dict):
            metrics = {}
        # the answers; the rest (e.g. attribution's one-family items) is evidence for them
        every = [i for i in metrics.get("items") or [] if isinstance(i, dict)]
        items = [i for i in every if i.get("answer", True)]
        verdicts = (metrics.get("summary") or {}).get("verdicts") or {}
        row.update(reached=verdicts.get("reached", ""),
                   not_reached=verdicts.get("not reached", ""),
                   not_an_explanation=verdicts.get("not an explanation", ""))
        probs = [i["target_prob"] for i in items if isinstance(i.get("target_prob"), float)]
        judge = [i["judge_prob"] for i in items if isinstance(i.get("judge_prob"), float)]
        row.update(items=len(items) if items else "",
                   evidence_items=len(every) - len(items) if every else "",
                   min_target_prob=f"{min(probs):.4f}" if probs else "",
                   median_target_prob=f"{float(np.median(probs)):.4f}" if probs else "",
                   median_judge_prob=f"{float(np.median(judge)):.4f}" if judge else "",
                   error=metrics.get("error", "") or (
                       f"interrupted by {metrics['interrupted_by']}"
                       if status == "interrupted" and metrics.get("interrupted_by") else ""))
    if status == "failed" and not row["error"]:
        row["error"] = (folder / MARKERS["failed"]).read_text().strip()
    return row


def _write_csv(path: Path, columns: list[str] | tuple[str, ...], rows: list[dict]) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    return atomic_write(path, write)


LOCK_FILE = ".summary.lock"


@contextmanager
def sweep_lock(sweep: Path) -> Iterator[None]:
    """An exclusive lock on the sweep folder (see :func:`amcli.files.take_lock`), held while the
    summary is read from the job folders and written."""
    fd = take_lock(sweep / LOCK_FILE, wait=True)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def write_summary(sweep: str | os.PathLike) -> Path:
    """(Re)write ``<sweep>/summary.csv`` and ``index.html`` from the job folders; returns the
    CSV's path."""
    from amcli.report.html import sweep_index_html

    sweep = Path(sweep)
    with sweep_lock(sweep):
        rows = [job_row(folder, sweep) for folder in job_dirs(sweep)]
        path = _write_csv(sweep / "summary.csv", COLUMNS, rows)
        text = sweep_index_html(sweep, rows)
        atomic_write(sweep / "index.html", lambda tmp: Path(tmp).write_text(text))
    return path


RUN_COLUMNS = ("target", "restart", "variant", "answer", "verdict", "output",
               "target_prob", "baseline_prob", "margin", "judge_prob", "judge_top1", "steps",
               "best_step", "stop_reason")


def run_rows(metrics: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per item of an optimize run: headline metrics, the columns of the run's method
    (``AMMethod.table_columns``), and every cue shift. ``answer`` says which items are the
    run's answers and which are evidence for them."""
    from amcli.am.methods import METHODS

    items = metrics.get("items") or []
    method = METHODS.get((metrics.get("run") or {}).get("method") or "")
    own = method.table_columns if method else ()
    cue_keys = sorted({k for i in items for k in ((i.get("cues") or {}).get("shift") or {})})
    rows = []
    for item in items:
        row = {k: item.get(k, "") for k in RUN_COLUMNS}
        row["answer"] = item.get("answer", True)
        if method:
            row.update({k: method.table_row(item).get(k) for k in own})
        shift = (item.get("cues") or {}).get("shift") or {}
        row.update({f"shift_{k}": shift.get(k, "") for k in cue_keys})
        rows.append({k: "" if v is None else v for k, v in row.items()})
    return [*RUN_COLUMNS, *own, *(f"shift_{k}" for k in cue_keys)], rows


def write_run_files(folder: str | os.PathLike) -> None:
    """A run's summary.csv (one row per item) and report.html, from its metrics.json."""
    from amcli.report.html import write_run_report

    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    columns, rows = run_rows(metrics)
    if rows:
        _write_csv(folder / "summary.csv", columns, rows)
    write_run_report(folder)


def unfinished(sweep: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of the jobs of a sweep that did not end DONE."""
    sweep = Path(sweep)
    return [row for row in (job_row(f, sweep) for f in job_dirs(sweep))
            if row["status"] != "done"] if sweep.is_dir() else []


def failed_error_kinds(sweep: Path | None) -> list[str]:
    """The ``error_kind`` (usage or bug) that each FAILED job of ``sweep`` recorded; "bug" for
    a job whose record does not say (it died before writing one)."""
    if sweep is None or not sweep.is_dir():
        return []
    kinds = []
    for folder in job_dirs(sweep):
        if (folder / MARKERS["failed"]).exists():
            try:
                kinds.append(json.loads((folder / "metrics.json").read_text())["error_kind"])
            except (OSError, ValueError, KeyError, TypeError):
                kinds.append("bug")
    return kinds
