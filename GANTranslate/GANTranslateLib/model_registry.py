"""Where models live, and the one rule that finds a model by id.

Models live in the user's folder (``$GANTRANSLATE_MODELS`` or ``~/.gantranslate/models``, searched first,
so a user can override a bundled model) and in the folder bundled with the extension. A model is found by
id only in a folder named exactly as its card's id: a folder whose name and card disagree could otherwise
pass for another model, so it is never used by id (``models list`` names it). ``models list``,
``models info``, ``predict`` and the Slicer module all resolve through :func:`find_package`'s rule.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
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


def origin(folder: Path) -> str:
    """'bundled' or 'user' for the standard folders; the folder itself otherwise."""
    if folder.resolve() == BUNDLED_MODELS.resolve():
        return "bundled"
    if folder.resolve() == user_models_folder().resolve():
        return "user"
    return str(folder)


@dataclass(frozen=True)
class Listing:
    """What the model folders hold: the packages that win, the ones they shadow, and the unusable."""
    packages: list[ModelPackage]  # one per id, by the search order, sorted by id
    shadowed: list[ModelPackage]  # same id as a package earlier in the search order
    problems: list[str]  # folders that hold no usable package, and why


def scan(folders: list[Path] | None = None) -> Listing:
    winners: dict[str, ModelPackage] = {}
    shadowed, problems = [], []
    for folder in folders or model_folders():
        if not folder.is_dir():
            continue
        for card in sorted(folder.glob(f"*/{CARD_NAME}")):
            try:
                package = load_package(card.parent)
            except GANTranslateError as error:
                problems.append(str(error))  # a broken package must not hide the good ones
                continue
            if package.card.id != card.parent.name:
                problems.append(_misnamed(package))
                continue
            if package.card.id in winners:
                shadowed.append(package)
            else:
                winners[package.card.id] = package
    return Listing(sorted(winners.values(), key=lambda p: p.card.id), shadowed, problems)


def list_packages(folders: list[Path] | None = None) -> list[ModelPackage]:
    """Every usable package, one per id: the one :func:`find_package` would return."""
    return scan(folders).packages


def find_package(name: str | os.PathLike, folders: list[Path] | None = None) -> ModelPackage:
    """A package by path (any folder the user names), or by id: the first folder of the search order that
    holds a folder of that name whose card has that id."""
    path = Path(name)
    if path.exists():
        return load_package(path)
    searched = folders or model_folders()
    for folder in searched:
        candidate = folder / str(name)
        if (candidate / CARD_NAME).is_file():
            package = load_package(candidate)
            if package.card.id != candidate.name:
                raise GANTranslateError(_misnamed(package))
            return package
    raise GANTranslateError(
        f"model '{name}' not found as a path or id in {', '.join(str(f) for f in searched)}; "
        "run 'gantranslate models list' to see the installed models"
    )


def shadowing_note(package: ModelPackage) -> str | None:
    """When a package found by id is not the bundled model of that id, which it hides: said on every run, for
    a user's own export named like a bundled model would otherwise pass for it."""
    bundled = BUNDLED_MODELS / package.card.id
    if package.path.resolve() == bundled.resolve() or not (bundled / CARD_NAME).is_file():
        return None
    try:
        version = load_package(bundled).card.version
    except GANTranslateError:
        version = "(unreadable)"
    return (f"model {package.card.id} {package.card.version} is the package in {package.path}, not the bundled "
            f"{package.card.id} {version}, which it shadows; give a path with -m or rename one of them to choose")


def _misnamed(package: ModelPackage) -> str:
    return (f"{package.path} holds model '{package.card.id}', not '{package.path.name}': a model is found by id only "
            f"in a folder of that name; rename the folder to '{package.card.id}' (or give its path with -m)")
