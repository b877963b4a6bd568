"""Errors that mean "the user asked for something that cannot work"."""


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
