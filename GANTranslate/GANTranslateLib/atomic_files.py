"""Writing without ever destroying or half-writing: temporary names, checked renames, guarded folder swaps.

Every file or folder the tool makes is first written under a temporary name of its own beside the
target (``.gantranslate-partial-<pid>-<name>``), checked, given the permissions the user's umask asks
for, and only then renamed into place. A target folder that is not empty is replaced only when asked
(``force``) and only when it is a model package: never a user's folder. A write interrupted by kill -9
leaves a temporary file whose process is gone; the next write into that folder removes it.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .errors import GANTranslateError

PARTIAL_PREFIX = ".gantranslate-partial-"


def umask_mode(executable: bool = False) -> int:
    """The permissions a plain ``open()`` would give a new file (or folder), honouring the umask."""
    current = os.umask(0)
    os.umask(current)
    return (0o777 if executable else 0o666) & ~current


def temporary_file(target: Path, suffix: str) -> Path:
    """A new empty file beside ``target`` under a name that marks it as ours and as unfinished."""
    remove_stale_partials(target.parent)
    handle, name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-{target.name}.", suffix=suffix,
                                    dir=target.parent)
    os.close(handle)
    return Path(name)


def temporary_folder(target: Path) -> Path:
    remove_stale_partials(target.parent)
    return Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-{target.name}.", dir=target.parent))


def remove_stale_partials(folder: Path) -> None:
    """Remove our temporary files and folders whose writing process no longer runs (killed mid-write)."""
    try:
        entries = list(folder.glob(f"{PARTIAL_PREFIX}*"))
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(PARTIAL_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish_file(temporary: Path, target: Path) -> None:
    """Give the finished temporary file the umask's permissions and rename it onto ``target``."""
    os.chmod(temporary, umask_mode())
    os.replace(temporary, target)


def publish_folder(staged: Path, target: Path, force: bool, is_replaceable: Callable[[Path], bool],
                   what: str = "model package") -> None:
    """Rename a finished folder onto ``target``. An existing empty folder is replaced; a non-empty one only
    with ``force`` and only when ``is_replaceable`` says it is one of ours (a model package)."""
    os.chmod(staged, umask_mode(executable=True))
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise GANTranslateError(f"{target} exists and is not a folder; choose another output folder")
    if target.is_dir() and any(target.iterdir()):
        if not is_replaceable(target):
            raise GANTranslateError(
                f"{target} is a folder with other files in it (not a {what}); it is left as it is: "
                "choose a new or empty folder"
            )
        if not force:
            raise GANTranslateError(f"{target} already holds a {what}; pass --force to replace it, or choose another folder")
        old = temporary_folder(target)
        os.rmdir(old)
        os.replace(target, old)  # out of the way in one rename; put back if the new one cannot go in
        try:
            os.replace(staged, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    if target.is_dir():
        target.rmdir()
    os.replace(staged, target)


def describe_write_error(error: BaseException, target: Path, needed_bytes: int = 0) -> GANTranslateError:
    """One line for a failed write: a full disk or a read-only folder named as such."""
    folder = target.parent
    code = getattr(error, "errno", None)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if code == errno.ENOSPC or (free is not None and needed_bytes and free < needed_bytes):
        return GANTranslateError(f"no space left in {folder} to write {target.name}: free some space or write elsewhere; "
                                 "nothing was written under that name")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return GANTranslateError(f"{folder} cannot be written to ({os.strerror(code)}); choose another folder")
    reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return GANTranslateError(f"could not write {target} ({reason}); nothing was written under that name")
