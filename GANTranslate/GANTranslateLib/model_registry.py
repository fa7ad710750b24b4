"""Where models live: a per-user folder and the models bundled with the extension."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import GANTranslateError
from .model_package import CARD_NAME, ModelPackage, load_package

BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "Resources" / "Models"


def user_models_folder() -> Path:
    """``$GANTRANSLATE_MODELS`` or ``~/.gantranslate/models``: survives extension updates."""
    return Path(os.environ.get("GANTRANSLATE_MODELS", Path.home() / ".gantranslate" / "models"))


def model_folders() -> list[Path]:
    """Search order: the user's folder first, so a user can override a bundled model of the same id."""
    return [user_models_folder(), BUNDLED_MODELS]


def list_packages(folders: list[Path] | None = None) -> list[ModelPackage]:
    """Every valid package in the folders; the first of two with the same id wins."""
    found: dict[str, ModelPackage] = {}
    for folder in folders or model_folders():
        if not folder.is_dir():
            continue
        for card in sorted(folder.glob(f"*/{CARD_NAME}")):
            try:
                package = load_package(card.parent)
            except GANTranslateError:
                continue  # a broken package elsewhere must not hide the good ones; 'models info' explains
            found.setdefault(package.card.id, package)
    return sorted(found.values(), key=lambda p: p.card.id)


def find_package(name: str | os.PathLike, folders: list[Path] | None = None) -> ModelPackage:
    """A package by path, or by id in the model folders."""
    path = Path(name)
    if path.exists():
        return load_package(path)
    searched = folders or model_folders()
    for folder in searched:
        candidate = folder / str(name)
        if (candidate / CARD_NAME).is_file():
            return load_package(candidate)
    for package in list_packages(searched):
        if package.card.id == str(name):
            return package
    raise GANTranslateError(
        f"model '{name}' not found as a path or id in {', '.join(str(f) for f in searched)}; "
        "run 'gantranslate models list' to see the installed models"
    )
