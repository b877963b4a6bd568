"""How many worker processes or threads a run may use, and how processes are started.

On a shared machine (a SLURM allocation, a container with a CPU quota) this process may run on
fewer CPUs than the node has: ``workers=0`` means the CPUs this process is allowed to run on (its
affinity), not every core of the node. Worker processes start by forkserver (spawn where there is
none), never by fork: forking a process after torch has started its threads can deadlock.
"""

from __future__ import annotations

import multiprocessing
import os


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS tells, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int, jobs: int | None = None) -> int:
    """``workers`` (0: :func:`usable_cpus`), at most ``jobs``, at least 1."""
    count = workers or usable_cpus()
    if jobs is not None:
        count = min(count, jobs)
    return max(1, count)


def process_context() -> multiprocessing.context.BaseContext:
    """forkserver where the platform has it, else spawn: never fork."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
