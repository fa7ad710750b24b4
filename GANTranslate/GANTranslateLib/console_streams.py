"""Console output that a non-UTF-8 locale (LANG=C on a cluster node, an old Windows console) cannot crash."""
from __future__ import annotations

import sys


def tolerate_unencodable_text() -> None:
    """Print '±' and '→' as escapes rather than raise UnicodeEncodeError after hours of work.

    The streams keep the locale's encoding, so a UTF-8 terminal is unchanged.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # absent on a test's or Slicer's replacement stream
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
