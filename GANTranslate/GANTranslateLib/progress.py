"""Progress reporting and cancellation, shared by the CLI, the Slicer module and the trainer."""
from __future__ import annotations

from typing import Callable, Optional

from .errors import CancelledError

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)
CancelCheck = Callable[[], bool]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: report nothing."""


def check_cancel(cancel: Optional[CancelCheck]) -> None:
    if cancel is not None and cancel():
        raise CancelledError()
