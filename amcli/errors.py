"""Errors that mean "the user asked for something that cannot work"."""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """A mistake the user can fix.

    The message names the problem and the fix in one line; the CLI prints it without a
    traceback and exits with code 2. Anything else that escapes a command is a bug.
    """


class UserErrorInCallback(BaseException):
    """A :class:`UserError` raised inside a Hydra callback.

    Hydra's callbacks turn every ``Exception`` into a warning and carry on, which would let a
    run start in a folder it was refused; a ``BaseException`` passes through. The dispatcher
    prints it as one line and exits 2, as for a UserError.
    """

    def __init__(self, error: UserError) -> None:
        super().__init__(str(error))
        self.error = error

    @classmethod
    def of(cls, err: Exception) -> UserErrorInCallback:
        """A UserError as it is; an OSError (a folder that cannot be made) as its one line."""
        return cls(err if isinstance(err, UserError) else UserError(os_error_line(err)))


#: what to do about an OSError, by its errno: the machine said no, and the fix is the user's
_OS_ADVICE = {
    errno.ENOSPC: "free some space, or write elsewhere (hydra.run.dir=DIR)",
    errno.EDQUOT: "free some of your quota, or write elsewhere (hydra.run.dir=DIR)",
    errno.EROFS: "give a folder amcli may write to (hydra.run.dir=DIR, or run from another "
                 "directory)",
    errno.ENOTDIR: "a part of the path is a file, not a folder; give another path",
    errno.EISDIR: "give a file there, not a folder",
    errno.EEXIST: "a file is in the way of a folder amcli would make; give another path",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "give a shorter path",
    errno.EMFILE: "raise the open-files limit (ulimit -n), or use fewer workers",
}


def os_error_line(err: OSError) -> str:
    """One line for an OSError: the path, what the system said, and the fix that fits the
    cause (a full disk is not a read-only folder, nor a missing file a write problem)."""
    where = f" {err.filename}" if err.filename else ""
    reason = err.strerror or str(err)
    if err.errno in (errno.EACCES, errno.EPERM):
        target = err.filename and os.path.exists(err.filename)
        readable = target and os.access(err.filename, os.R_OK)
        advice = ("give a folder amcli may write to (hydra.run.dir=DIR, or run from another "
                  "directory)" if not target or readable else
                  "give a file amcli may read, or change its permissions")
    else:
        advice = _OS_ADVICE.get(err.errno or -1, "check the path and the disk")
    return f"cannot use{where}: {reason}; {advice}"
