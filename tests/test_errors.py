"""One line per OSError, with the fix that fits its cause."""

from __future__ import annotations

import errno
import os

import pytest

from amcli.errors import os_error_line


@pytest.mark.parametrize(("code", "advice"), [
    (errno.ENOSPC, "free some space, or write elsewhere"),
    (errno.EROFS, "give a folder amcli may write to"),
    (errno.ENOENT, "check the path"),
    (errno.ENOTDIR, "a part of the path is a file"),
    (errno.EACCES, "give a folder amcli may write to"),  # a path not there yet: a write
    (errno.EEXIST, "a file is in the way"),
    (errno.EIO, "check the path and the disk"),
])
def test_each_cause_gets_its_own_fix(code, advice):
    line = os_error_line(OSError(code, os.strerror(code), "/data/run/x.wav"))
    assert line.startswith(f"cannot use /data/run/x.wav: {os.strerror(code)}; {advice}")
    assert "\n" not in line


def test_a_full_disk_is_not_called_a_read_only_folder():
    line = os_error_line(OSError(errno.ENOSPC, "No space left on device", "/data/run"))
    assert "may write to" not in line
