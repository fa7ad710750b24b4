"""Volumes whose header and voxels live in two files, checked before ITK reads them.

Why: a detached NRRD (``data file:``) or MetaImage (``ElementDataFile``) header may name any file on the
disk, ``../other_user/private.raw`` or ``/etc/passwd``, and ITK reads it as voxels: the header's own folder
is the only place its data may come from. A NIfTI/Analyze pair (``.hdr`` + ``.img``) is read by ITK with a
missing tail filled with zeros and NaN voxels turned into 0, so its data file gets the byte-by-byte
check that single-file NIfTI gets (nifti_check.py).
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path, PurePath

from .errors import GANTranslateError
from .nifti_check import DATATYPES, _check_data, _described

NRRD_SUFFIXES = (".nrrd", ".nhdr")
META_SUFFIXES = (".mha", ".mhd")
HEADER_LIMIT = 1 << 20  # a text header longer than this is not a header


def check_header_and_data(path: Path) -> None:
    """One clear error when a two-file volume's data lies outside its folder, is short, or holds NaN."""
    suffix = path.suffix.lower()
    if suffix in NRRD_SUFFIXES:
        _check_names(path, _nrrd_data_files(path))
    elif suffix in META_SUFFIXES:
        _check_names(path, _meta_data_files(path))
    elif suffix in (".hdr", ".img") or path.name.lower().endswith(".img.gz"):
        check_pair(path)


def _header_lines(path: Path, stop_at_blank: bool) -> list[str]:
    with open(path, "rb") as handle:
        head = handle.read(HEADER_LIMIT)
    lines = []
    for raw in head.split(b"\n"):
        line = raw.decode("latin-1").rstrip("\r")
        if stop_at_blank and not line.strip():
            break
        lines.append(line)
    return lines


def _nrrd_data_files(path: Path) -> list[str]:
    lines = _header_lines(path, stop_at_blank=True)
    for index, line in enumerate(lines):
        key, separator, value = line.partition(": ")
        if separator and key.strip().lower() in ("data file", "datafile"):
            return _listed(value.strip(), path, index)
    return []


def _meta_data_files(path: Path) -> list[str]:
    lines = _header_lines(path, stop_at_blank=False)
    for index, line in enumerate(lines):
        key, _, value = line.partition("=")
        if key.strip() == "ElementDataFile":
            value = value.strip()
            return [] if value.upper() == "LOCAL" else _listed(value, path, index)
    return []


def _listed(value: str, path: Path, index: int) -> list[str]:
    """The file names a data-file value stands for: one name, a printf pattern (its first word), or LIST
    (the names on the lines after the header's own)."""
    if value.split()[:1] == ["LIST"]:
        text = [raw.decode("latin-1").strip() for raw in path.read_bytes()[:HEADER_LIMIT].split(b"\n")]
        return [line for line in text[index + 1:] if line]
    return [value.split()[0] if "%" in value else value] if value else []


def _check_names(path: Path, names: list[str]) -> None:
    folder = path.parent.resolve()
    for name in names:
        data = PurePath(name)
        target = (path.parent / name).resolve()
        if data.is_absolute() or ".." in data.parts or not target.is_relative_to(folder):
            raise GANTranslateError(f"{path}'s header takes its voxels from {name}, outside its own folder; a header "
                                    "reads data beside it only: put the data file next to the header and name it there")


def check_pair(path: Path) -> None:
    """The ``.img`` of a NIfTI/Analyze pair holds every voxel byte its ``.hdr`` promises, and no NaN."""
    header_path = path if path.suffix.lower() == ".hdr" else path.with_name(path.name.split(".")[0] + ".hdr")
    candidates = [header_path.with_suffix(".img"), header_path.with_name(header_path.stem + ".img.gz")]
    data_path = next((c for c in candidates if c.is_file()), None)
    if not header_path.is_file() or data_path is None:
        missing = header_path if not header_path.is_file() else candidates[0]
        raise GANTranslateError(f"{path} is one half of a header/data pair, and {missing} is missing; give both files")
    raw = header_path.read_bytes()[:348]
    for endian in "<>":
        if len(raw) == 348 and struct.unpack(endian + "i", raw[:4])[0] == 348:
            dims = struct.unpack(endian + "8h", raw[40:56])
            datatype, bitpix = struct.unpack(endian + "hh", raw[70:74])
            offset = max(int(struct.unpack(endian + "f", raw[108:112])[0]), 0)
            header = _described(dims, datatype, bitpix, offset, endian, b"", header_path)
            break
    else:
        raise GANTranslateError(f"{header_path} does not start with an Analyze/NIfTI header (damaged, or not one)")
    if datatype not in DATATYPES:
        return  # a type ITK's own checks refuse
    opener = gzip.open if data_path.name.lower().endswith(".gz") else open
    try:
        with opener(data_path, "rb") as stream:
            _check_data(stream, header, data_path)
    except (EOFError, OSError) as error:
        raise GANTranslateError(f"{data_path} is truncated or damaged ({error}); the pair is incomplete: copy or "
                                "export it again") from None
