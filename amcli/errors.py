"""Errors that mean "the user asked for something that cannot work"."""


class UserError(Exception):
    """A mistake the user can fix.

    The message names the problem and the fix in one line; the CLI prints it without a
    traceback and exits with code 2. Anything else that escapes a command is a bug.
    """
