"""The catalog of models: the bundled ones and any published for download (an address and its sha256).

A download happens only when a user installs a catalog model by its id, and what arrives is checked
against the sha256 the catalog gives before anything is unpacked (model_install.py). Offline, installing
says so in one line; the bundled models need no network at all.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .errors import GANTranslateError

CATALOG = Path(__file__).resolve().parent.parent / "Resources" / "model_catalog.json"


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    version: str
    description: str
    url: Optional[str] = None  # None: bundled with the extension
    sha256: Optional[str] = None

    @property
    def bundled(self) -> bool:
        return self.url is None


def load_catalog(path: Path = CATALOG) -> list[CatalogEntry]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except json.JSONDecodeError as error:
        raise GANTranslateError(f"the model catalog {path} is not valid JSON ({error})") from None
    entries = []
    for item in data.get("models", []):
        entry = CatalogEntry(item["id"], item["version"], item.get("description", ""), item.get("url"), item.get("sha256"))
        if entry.url is not None and not (entry.sha256 and len(entry.sha256) == 64):
            raise GANTranslateError(f"catalog entry {entry.id} has a download address but no sha256; the catalog is damaged")
        entries.append(entry)
    return entries


def find_entry(model_id: str, path: Path = CATALOG) -> Optional[CatalogEntry]:
    return next((entry for entry in load_catalog(path) if entry.id == model_id), None)


def installable_entries(installed: dict[str, str], path: Path = CATALOG) -> list[CatalogEntry]:
    """Published models not installed yet, or installed at another version (``installed``: id -> version)."""
    return [entry for entry in load_catalog(path) if not entry.bundled and installed.get(entry.id) != entry.version]
