"""Run folders amcli owns: claimed before anything is written into them, locked while a run
writes them, and cleared only of what an earlier amcli run wrote.

Why: Hydra writes into whatever ``hydra.run.dir`` names. Two runs into one folder at once, or a
rerun into a finished run, used to leave one run's metrics beside the other's audio and plots;
a folder of the user's own files would take a run's files among them. So a run folder is
*claimed* before Hydra writes its ``.hydra/`` files:

- a folder that holds files amcli did not write is refused;
- a folder an amcli run is writing is refused at once (an advisory lock on ``.amcli.lock`` that
  the kernel drops when the process ends, so a killed run leaves no stale lock);
- a folder holding an earlier run is refused unless ``overwrite=true``, and then exactly the
  files that run wrote are removed first (its marker lists them; files the user added later
  stay).

A sweep's job folders are the sweep's own: a job that an earlier attempt left unfinished is
cleared and redone without asking, as sweeps always did. The sweep folder itself is refused
when it holds another sweep (other overrides) unless ``overwrite=true``.

The marker file (:data:`amcli.files.MARKER`) records the kind of folder, the files that were
there before the run (``foreign``: never touched) and, once the run ends, the files it wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

from amcli.errors import UserError
from amcli.files import MARKER, folder_kind, read_marker, take_lock, write_marker

#: The status markers a run ends with (exactly one of them).
MARKERS = {"done": "DONE", "failed": "FAILED", "interrupted": "INTERRUPTED"}
#: The lock file inside a run folder (held with flock while a run writes the folder).
LOCK = ".amcli.lock"
RUN = "run"
SWEEP = "sweep"

#: folder -> open descriptor holding its lock, for the folders this process writes
_locks: dict[Path, int] = {}
#: folders this process has claimed (checked, cleared, marked) in this invocation
_claimed: set[Path] = set()
#: the job folder this process is running now (for a marker on an early interrupt)
_current: list[Path] = []
#: the sweep folder this process launches jobs into
_sweep: list[Path] = []


def files_in(folder: Path) -> list[str]:
    """The files under ``folder`` (recursive, relative POSIX paths), the lock excluded."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel != LOCK:
                found.append(rel)
    return sorted(found)


def status_of(folder: Path) -> str:
    """done, failed or interrupted (from the marker file), else unfinished."""
    return next((s for s, m in MARKERS.items() if (folder / m).exists()), "unfinished")


def _is_earlier_run(folder: Path) -> bool:
    """A run folder amcli wrote: marked as one, or (written before the marker existed) a
    Hydra folder with metrics.json or a status marker."""
    kind = folder_kind(folder)
    if kind is not None:
        return kind == RUN
    return (folder / ".hydra").is_dir() and (
        (folder / "metrics.json").is_file() or status_of(folder) != "unfinished")


def lock(folder: Path) -> None:
    """Take ``folder``'s lock for this process, or refuse at once naming the process that
    holds it. Idempotent within one process."""
    folder = folder.absolute()
    if folder in _locks:
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = take_lock(folder / LOCK, wait=False)
    except OSError:
        try:
            holder = (folder / LOCK).read_text().strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise UserError(f"{folder} is being written by another amcli run (pid {holder}); wait "
                        "for it, or choose another folder with hydra.run.dir=DIR") from None
    if fd is None:  # no locks on this platform: the ownership checks still hold
        return
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _locks[folder] = fd


def release(folder: Path | None = None) -> None:
    """Drop the lock on ``folder`` (all of this process's locks when None)."""
    folders = list(_locks) if folder is None else [folder.absolute()]
    for f in folders:
        fd = _locks.pop(f, None)
        if fd is not None:
            os.close(fd)
        _claimed.discard(f)
    if folder is None:
        _claimed.clear()


def reset() -> None:
    """Forget the job and sweep folders of an earlier invocation in this process (the
    dispatcher calls it first; the folders are kept after the locks go, for the lines that
    report how the invocation ended)."""
    release()
    _current.clear()
    _sweep.clear()


def claim(folder: Path, overwrite: bool, keep: tuple[str, ...] = (),
          resumes: bool = False) -> None:
    """Make ``folder`` this run's own, before anything is written into it (see the module's
    docstring). ``keep``: paths this run has written already (a sweep job's ``.hydra/`` files
    and log, which Hydra writes before the job starts). ``resumes``: the command continues an
    earlier run that did not finish DONE in its own folder (train-prior does, from its saved
    state), so such a folder is taken as it is (the caller drops it when the user asked for an
    overwrite). Idempotent within one process."""
    folder = folder.absolute()
    if folder in _claimed:
        return
    present = [f for f in files_in(folder) if f != MARKER and not f.startswith(keep)]
    if present and not _is_earlier_run(folder):
        raise _not_ours(folder, present, "run folder with hydra.run.dir=DIR")
    lock(folder)
    if present and resumes and status_of(folder) != "done":
        _claimed.add(folder)  # continued: its files and its marker stay as they are
        return
    try:
        if present:
            if not overwrite:
                raise UserError(
                    f"{folder} holds an earlier run ({status_of(folder)}); add overwrite=true "
                    "to replace it, or choose another folder with hydra.run.dir=DIR")
            clear(folder, keep)
        write_marker(folder, RUN, foreign=[f for f in files_in(folder)
                                          if f != MARKER and not f.startswith(keep)])
    except BaseException:
        release(folder)
        raise
    _claimed.add(folder)


def is_claimed(folder: Path) -> bool:
    return folder.absolute() in _claimed


def clear(folder: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """Remove the files an earlier amcli run wrote into ``folder`` (its marker's list; for a
    run killed before it wrote the list, everything but the files that were there before
    it), then the folders that leaves empty. Returns what was removed."""
    marker = read_marker(folder)
    foreign = set(marker.get("foreign") or [])
    written = marker.get("files")
    candidates = written if isinstance(written, list) else files_in(folder)
    removed = []
    for rel in candidates:
        if rel in foreign or rel == MARKER or rel.startswith(keep):
            continue
        path = folder / rel
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(rel)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(sub.iterdir()):
            sub.rmdir()
    return removed


def finish(folder: Path, also: tuple[str, ...] = ()) -> None:
    """Record in the marker which files the run wrote (all but those there before it, and
    ``also``: what it writes after this, its status marker), so that an overwrite removes
    exactly those."""
    folder = folder.absolute()
    marker = read_marker(folder)
    foreign = set(marker.get("foreign") or [])
    written = sorted({*also, *(f for f in files_in(folder) if f not in foreign and f != MARKER)})
    write_marker(folder, marker.get("kind", RUN), foreign=sorted(foreign), files=written)


def started(folder: Path) -> None:
    """Hydra has made ``folder`` for the job this process runs now."""
    _current[:] = [folder.absolute()]


def mark_ended(status: str, text: str) -> None:
    """The job ended (``status``: failed or interrupted) before its record began: give its
    folder the marker, so that no sweep lists it as running forever."""
    for folder in _current:
        if folder.is_dir() and status_of(folder) == "unfinished":
            (folder / MARKERS[status]).write_text(text + "\n")


def append_to_log(text: str) -> str | None:
    """Append ``text`` to the log of the job this process runs (its ``*.log``); returns that
    file's path, or None when there is no job folder or log."""
    for folder in _current:
        logs = sorted(folder.glob("*.log"))
        if logs:
            with open(logs[0], "a") as handle:
                handle.write(text)
            return str(logs[0])
    return None


def _not_ours(folder: Path, present: list[str], choose: str) -> UserError:
    """The refusal of a folder that holds what amcli did not write (or another kind of amcli
    folder, e.g. a corpus)."""
    kind = folder_kind(folder)
    what = f"an amcli {kind}" if kind else "files amcli did not write"
    return UserError(f"{folder} holds {what} ({len(present)} file(s), e.g. {present[0]}); "
                     f"choose a new or empty {choose}")


def without_overwrite(overrides: list[str]) -> list[str]:
    """Task overrides without ``overwrite=...``: it says how to run, not what (a sweep's or a
    job's identity leaves it out)."""
    return [o for o in overrides if not o.lstrip("+~").startswith("overwrite=")]


def _sweep_key(overrides: list[str]) -> list[str]:
    """A sweep's identity: its overrides, ``overwrite`` aside, in a stable order."""
    return sorted(without_overwrite(overrides))


def check_sweep(sweep: Path, overrides: list[str], overwrite: bool) -> None:
    """Before a sweep writes ``sweep``: refuse a folder amcli did not write; refuse another
    sweep's folder unless ``overwrite`` (then clear it); a rerun of the same sweep is welcome
    (it redoes the unfinished jobs)."""
    sweep = sweep.absolute()
    key = _sweep_key(overrides)
    present = [f for f in files_in(sweep) if f != MARKER]
    if present:
        kind = folder_kind(sweep)
        legacy = kind is None and (sweep / "multirun.yaml").is_file()
        if kind != SWEEP and not legacy:
            raise _not_ours(sweep, present, "sweep folder with hydra.sweep.dir=DIR")
        recorded = read_marker(sweep).get("overrides") if kind else _multirun_overrides(sweep)
        if recorded is not None and _sweep_key(list(recorded)) != key:
            if not overwrite:
                raise UserError(
                    f"{sweep} holds another sweep ({' '.join(recorded) or 'no overrides'}); "
                    "run that sweep's command to finish it, add overwrite=true to replace it, "
                    "or choose another folder with hydra.sweep.dir=DIR")
            clear(sweep)
    write_marker(sweep, SWEEP, foreign=[], overrides=key)
    _sweep[:] = [sweep]


def current_sweep() -> Path | None:
    """The sweep folder this process launched jobs into (None outside a sweep)."""
    return _sweep[0] if _sweep else None


def _multirun_overrides(sweep: Path) -> list[str] | None:
    try:
        import yaml

        data = yaml.safe_load((sweep / "multirun.yaml").read_text())
        return list(data["hydra"]["overrides"]["task"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def hydra_written(folder: Path) -> tuple[str, ...]:
    """What Hydra writes into a job folder before the job starts: ``.hydra/`` and the log."""
    logs = tuple(p.name for p in folder.glob("*.log")) if folder.is_dir() else ()
    return (".hydra/", *logs)

