"""Whether a model's card clears its outputs for clinical use: a series that is not cleared says so.

The card's ``intended_use`` is free text, so the rule is one-sided: a card counts as cleared only when it
says nothing that limits it (no "not for clinical", "research", "demonstration", ...). A missing or empty
intended use, or a model whose card cannot be found, is not cleared: a synthetic CT never reaches a
planning system looking clinical by default.
"""
from __future__ import annotations

import re
from typing import Optional

NOT_FOR_CLINICAL_USE = "NOT FOR CLINICAL USE"
_LIMITING = re.compile(r"\bnot\b[^.;]*\b(clinical|diagnos\w*|dose|planning|treatment|patients?)\b|research|demonstrat\w*"
                       r"|investigational|experimental|education\w*|teaching|\bdemo\b|not (cleared|approved)",
                       re.IGNORECASE)


def cleared_for_clinical_use(intended_use: Optional[str]) -> bool:
    """True only for a stated intended use with no limiting words (see the module docstring)."""
    text = (intended_use or "").strip()
    return bool(text) and _LIMITING.search(text) is None


def card_intended_use(model_id: str, model_version: str) -> Optional[str]:
    """The intended use on the card of an installed model of that id and version; None if there is none
    (the model was removed, or another version is installed now)."""
    from .errors import GANTranslateError
    from .model_registry import find_package

    try:
        card = find_package(model_id).card
    except (GANTranslateError, OSError, ValueError):
        return None
    return card.data.get("intended_use") if card.version == model_version else None
