"""Atomic file writes (a reader, or a crash, never sees half a file) and the one strict JSON
writer."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place
    with the usual permissions (mkstemp creates 0600). The temp file is removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks (checkpoints are checked against it)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with only what strict JSON holds: non-finite floats become None (NaN and inf
    are not JSON: jq and JSON.parse reject them), tensors and arrays lists, paths strings,
    tuples lists, other objects their ``str``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item"):
        return jsonable(value.item())
    return str(value)


def json_text(data: Any, indent: int | None = 2) -> str:
    """Strict JSON of ``data`` (see :func:`jsonable`); ``json.dumps`` with ``allow_nan=False``
    guarantees no NaN or inf reaches a file."""
    return json.dumps(jsonable(data), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """The one JSON writer: strict JSON, written atomically, newline-terminated."""
    text = json_text(data) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def take_lock(path: str | os.PathLike, wait: bool) -> int | None:
    """Open ``path`` (created if missing) and take an exclusive lock on it; returns the open
    descriptor, whose closing (or the process's end) releases the lock. None where the
    platform has no such locks (Windows). Without ``wait``, raises BlockingIOError at once when
    another process holds it.

    POSIX record locks (``fcntl.lockf``), not ``flock``: they hold on NFS, where sweeps on a
    cluster write, and in sandboxes that accept flock calls without enforcing them. They
    belong to the process, so one process must open each lock file once.
    """
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


#: the file that says amcli made a folder (its content: what kind of folder, which version)
MARKER = ".amcli"

#: the listing of an amcli synth corpus, one row per clip; written last, so a corpus that has it
#: is complete (here, beside the marker, so that the readers of corpora do not import the writer)
METADATA = "metadata.csv"


def write_marker(folder: str | os.PathLike, kind: str, **fields: Any) -> None:
    """Say that amcli made ``folder`` (a corpus, a run, a sweep), with what else the owner
    records (a run: the files it found and the files it wrote): only such folders does amcli
    ever clear or overwrite."""
    from amcli import __version__

    write_json(Path(folder) / MARKER, {"kind": kind, "amcli_version": __version__, **fields})


def read_marker(folder: str | os.PathLike) -> dict[str, Any]:
    """The marker amcli wrote into ``folder``; empty when there is none or it is unreadable."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def folder_kind(folder: str | os.PathLike) -> str | None:
    """The kind amcli recorded for a folder it made, or None (not made by amcli, or its marker
    is unreadable)."""
    kind = read_marker(folder).get("kind")
    return str(kind) if kind is not None else None
