"""Text from a card or a file, made safe to print on a terminal.

Why: a card is written by whoever made the model. Printed raw, an escape sequence in its name or licence
sets the window title, clears the screen or rewrites a line already shown ("model approved for clinical
use"); a bidirectional override reorders what is read. Such characters are shown as escapes instead.
"""
from __future__ import annotations

import unicodedata


def printable(text: object) -> str:
    """``text`` with every control and format character (ESC, CR, BEL, bidi overrides...) escaped."""
    return "".join(_shown(c) for c in str(text))


def _shown(character: str) -> str:
    if unicodedata.category(character) not in ("Cc", "Cf"):
        return character
    return character.encode("unicode_escape").decode("ascii")
