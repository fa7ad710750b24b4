"""Installing a model package into the user's models folder: from a folder, a .zip, or a URL.

A download happens only when the user asks for one, and only with the sha256 the catalogue (or the user)
gives: a file that does not match is deleted before anything is unpacked. Archives are unpacked safely
(no absolute paths, no '..'), then validated as a package, then moved into place in one rename.
"""
from __future__ import annotations

import hashlib
import shutil
import stat
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable, Optional

from .errors import GANTranslateError
from .atomic_files import describe_write_error, publish_folder
from .model_catalog import CATALOG, find_entry
from .model_package import CARD_NAME, is_model_package, load_package
from .model_registry import user_models_folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_model(source: str, sha256: Optional[str] = None, models_folder: Optional[Path] = None,
                  catalog: Optional[Path] = None, force: bool = False,
                  report: Callable[[str], None] = lambda line: None) -> str:
    """Install and return the model id. ``source``: a package folder, a .zip file, an http(s)/file URL, or the id
    of a model the catalog publishes (its address and sha256 come from there). An installed package of the same
    id is replaced by a newer or equal version only (``force``: any), and ``report`` is told what was replaced."""
    expected_id = None
    if "://" not in source and not Path(source).exists():
        entry = find_entry(source, catalog or CATALOG)
        if entry is None:
            raise GANTranslateError(f"{source} is not a model folder, .zip file, URL, or a model id in the catalog; "
                                    "'gantranslate models catalog' lists the catalog")
        if entry.bundled:
            raise GANTranslateError(f"{source} is bundled with GANTranslate: it is installed already")
        source, sha256, expected_id = entry.url, entry.sha256, entry.id
    destination_root = Path(models_folder or user_models_folder())
    try:
        destination_root.mkdir(parents=True, exist_ok=True)
        return _install(source, sha256, destination_root, expected_id, force, report)
    except OSError as error:
        raise describe_write_error(error, destination_root / "model package") from None


def _install(source: str, sha256: Optional[str], destination_root: Path, expected_id: Optional[str], force: bool,
             report: Callable[[str], None]) -> str:
    with tempfile.TemporaryDirectory(dir=destination_root, prefix=".install-") as scratch:
        scratch = Path(scratch)
        if "://" in source:
            if not sha256:
                raise GANTranslateError("a download needs the expected sha256 (--sha256) so that it can be verified")
            archive = scratch / "download.zip"
            try:
                urllib.request.urlretrieve(source, archive)  # noqa: S310 - only when the user asks
            except OSError as error:
                reason = getattr(error, "reason", error)
                raise GANTranslateError(f"could not download {source} ({reason}; offline?): download the .zip elsewhere and "
                                        "install it from the file with 'gantranslate models install FILE.zip'") from None
            package_dir = _unpack(archive, scratch / "unpacked", sha256)
        elif Path(source).is_dir():
            package_dir = Path(source)
        elif Path(source).is_file():
            package_dir = _unpack(Path(source), scratch / "unpacked", sha256)
        else:
            raise GANTranslateError(f"{source} is not a model folder, .zip file or URL")
        check_regular_files(package_dir)
        package = load_package(package_dir)  # validates the card
        package.build_network()  # and that the weights match it
        if expected_id is not None and package.card.id != expected_id:
            raise GANTranslateError(f"the catalog's {expected_id} download holds model '{package.card.id}', not "
                                    f"{expected_id}; nothing installed (the catalog entry is wrong)")
        replaced = check_replacement(destination_root / package.card.id, package.card.version, force)
        staged = scratch / "staged"
        staged.mkdir()
        for entry in package_dir.iterdir():
            shutil.copyfile(entry, staged / entry.name, follow_symlinks=False)
        # installing a newer version of a model replaces the installed package, never a folder of other files
        publish_folder(staged, destination_root / package.card.id, force=True, is_replaceable=is_model_package)
        if replaced is not None:
            report(f"replaced {package.card.id} {replaced} by {package.card.version} in {destination_root / package.card.id}")
        return package.card.id


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("+")[0].split("-")[0].split("."))


def check_replacement(installed: Path, version: str, force: bool) -> Optional[str]:
    """The version of the package an install would replace (None: nothing there). An older version never
    replaces a newer one without ``force``: models install old.zip replaced 7.0.0 by 2.1.0 without a word."""
    if not is_model_package(installed):
        return None
    try:
        current = load_package(installed).card.version
    except GANTranslateError:
        return "(a damaged package)"
    if version_key(version) < version_key(current) and not force:
        raise GANTranslateError(f"{installed.name} {current} is installed and this package is {version}, an older "
                                "version; nothing installed (pass --force to replace it)")
    return current


def check_regular_files(package_dir: Path) -> None:
    """A package is plain files: a link could make the install copy files from anywhere on the disk."""
    for entry in package_dir.iterdir():
        if entry.is_symlink() or not entry.is_file():
            kind = "a symbolic link" if entry.is_symlink() else "not a plain file"
            raise GANTranslateError(f"{entry} is {kind}; a model package holds plain files only, nothing installed")


EXPANSION_LIMIT = 50  # weights compress by less than 2x: a member growing 50-fold is a zip bomb, not a model
SMALL_MEMBER = 1 << 20  # a card or a licence text may compress well


def check_unpacked_size(members: list[zipfile.ZipInfo], archive: Path, folder: Path) -> None:
    """Before anything is written, the archive's declared sizes must be those of a model package and fit
    on the disk: a 13 MB zip holding a 1 GiB member was unpacked whole. (Python's zipfile never writes
    more than a member declares.)"""
    for info in members:
        if info.file_size > SMALL_MEMBER and info.file_size > EXPANSION_LIMIT * max(info.compress_size, 1):
            raise GANTranslateError(f"{archive.name}: {info.filename} would expand from {info.compress_size} to "
                                    f"{info.file_size} bytes, which no model package does; not installed")
    total = sum(info.file_size for info in members)
    free = shutil.disk_usage(folder).free
    if 2 * total > free:  # unpacked, then copied into place
        raise GANTranslateError(f"{archive.name} unpacks to {total / 2**20:.0f} MB and is installed by a copy, but "
                                f"{folder} has {free / 2**20:.0f} MB free; free some space, nothing installed")


def _unpack(archive: Path, target: Path, sha256: Optional[str]) -> Path:
    if sha256 and sha256_of(archive).lower() != sha256.lower():
        archive.unlink()
        raise GANTranslateError(f"{archive.name} does not match the expected sha256; it was deleted, nothing installed")
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                resolved = (target / info.filename).resolve()
                if not resolved.is_relative_to(target.resolve()):
                    raise GANTranslateError(f"{archive.name} contains an unsafe path ({info.filename}); not installed")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise GANTranslateError(f"{archive.name} contains a symbolic link ({info.filename}); not installed")
            check_unpacked_size(bundle.infolist(), archive, target.parent)
            bundle.extractall(target)
    except zipfile.BadZipFile:
        raise GANTranslateError(f"{archive.name} is not a zip archive of a model package") from None
    cards = list(target.rglob(CARD_NAME))
    if len(cards) != 1:
        raise GANTranslateError(f"{archive.name} must hold exactly one model package (found {len(cards)} model.json)")
    return cards[0].parent
