"""amcli's own temporary folders, and what is left of them when their process died.

A temporary folder is removed by its owner, at the latest when the interpreter exits. A process
that ends without running its exit handlers cannot: a notebook kernel that is killed, a worker
that leaves through ``os._exit``, a job that runs out of time. Each such death leaves a folder
(hundreds of kilobytes: a run's WAVs, plots and arrays), and a machine that runs notebooks all day
gathers hundreds of them.

So every folder is named after its process (``<prefix><pid>-<random>``) and holds a marker with
the machine's name; making a new one removes the folders of the same prefix whose process, on
this machine, is gone. Only folders with amcli's marker are touched: amcli never deletes what it
did not write. A process id the system has given to a new process keeps its dead owner's folder
until that process ends too, which errs on the side of keeping.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

#: the file that marks a temporary folder as amcli's: the name of the machine that made it
MARKER = ".amcli-scratch"


def make_scratch(prefix: str) -> Path:
    """A new temporary folder ``<prefix><pid>-<random>`` with amcli's marker, after removing
    the folders of the same prefix left by processes of this machine that no longer run."""
    remove_orphans(prefix)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    (path / MARKER).write_text(socket.gethostname())
    return path


def remove_orphans(prefix: str, folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove the folders ``<prefix><pid>-*`` in ``folder`` (the temporary directory) that carry
    amcli's marker for this machine and whose process is gone; the folders removed."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)) or not _ours(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _ours(path: Path) -> bool:
    try:
        return (path / MARKER).read_text() == socket.gethostname()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user counts as running)."""
    if pid <= 0 or os.name == "nt":  # Windows' os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
