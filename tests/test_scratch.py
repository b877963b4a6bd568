"""amcli's temporary folders: a folder whose process died without cleaning up is removed by the
next one; a live process's folder, or one amcli did not write, never is."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from amcli.scratch import MARKER, make_scratch, remove_orphans

PREFIX = "amcli-test-"


def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def folder(root, pid: int, marker: str | None = None, suffix: str = "abc"):
    path = root / f"{PREFIX}{pid}-{suffix}"
    path.mkdir()
    (path / "metrics.json").write_text("{}")
    if marker is not None:
        (path / MARKER).write_text(marker)
    return path


def test_the_folders_of_dead_processes_go_and_the_others_stay(tmp_path):
    dead = dead_pid()
    orphan = folder(tmp_path, dead, socket.gethostname())
    live = folder(tmp_path, os.getpid(), socket.gethostname())
    unmarked = folder(tmp_path, dead, suffix="def")  # not amcli's: never touched
    elsewhere = tmp_path / f"{PREFIX}{dead}-xyz"  # another machine's (a shared folder)
    elsewhere.mkdir()
    (elsewhere / MARKER).write_text(socket.gethostname() + "-other")
    not_a_pid = tmp_path / f"{PREFIX}notes-1"
    not_a_pid.mkdir()
    assert remove_orphans(PREFIX, tmp_path) == [orphan]
    assert not orphan.exists()
    assert live.exists() and unmarked.exists() and elsewhere.exists() and not_a_pid.exists()


def test_a_new_folder_carries_its_process_and_marker_and_clears_orphans(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    orphan = folder(tmp_path, dead_pid(), socket.gethostname())
    made = make_scratch(PREFIX)
    assert made.parent == tmp_path and made.name.startswith(f"{PREFIX}{os.getpid()}-")
    assert (made / MARKER).read_text() == socket.gethostname()
    assert not orphan.exists()
    assert remove_orphans(PREFIX, tmp_path) == []  # its own folder is its live process's
