"""The one exception type users see: its message names the problem and the fix, on one line."""


class GANTranslateError(Exception):
    """A problem with the user's input, model or settings that the user can fix."""


class CancelledError(GANTranslateError):
    """The user asked to stop; nothing was written."""

    def __init__(self) -> None:
        super().__init__("cancelled by the user; nothing was written")


EXIT_ERROR = 1  # the command line's exit status for an error it reports in one line
