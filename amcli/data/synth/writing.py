"""Writing a corpus beside the plain one (stretched, combined): its planned clips rendered in
worker processes, in plan order, and its metadata.csv, written last and atomically."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from amcli.files import atomic_write
from amcli.workers import process_context, resolve_workers


def _worker_init() -> None:
    # Like DataLoader workers: one intra-op thread per process, so N workers use N cores.
    import torch

    torch.set_num_threads(1)


def run_jobs(render: Callable[[Any], dict[str, object]], jobs: Sequence[Any], workers: int,
             progress: Callable[[int], object] | None = None) -> list[dict[str, object]]:
    """``render(job)`` for every job (a module-level function, so that it pickles), in
    ``workers`` processes (0: the usable CPUs; 1: in this process), the rows in job order;
    ``progress(1)`` after each clip (tqdm's ``update``)."""
    rows: list[dict[str, object]] = []

    def collect(results: Any) -> None:
        for row in results:
            rows.append(row)
            if progress:
                progress(1)

    count = resolve_workers(workers, len(jobs))
    if count == 1:
        collect(map(render, jobs))
    else:
        with ProcessPoolExecutor(count, mp_context=process_context(),
                                 initializer=_worker_init) as pool:
            collect(pool.map(render, jobs, chunksize=4))
    return rows


def write_metadata(path: Path, rows: list[dict[str, object]], columns: Sequence[str]) -> None:
    """The corpus' metadata.csv, one row per clip; written last, so a corpus that has it is
    complete."""
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)
