"""NIfTI files checked byte by byte before ITK reads them.

Why: ITK's NIfTI reader fills a truncated file (a cut-off download, a full disk) with zeros without a
word, reads a corrupt gzip stream as far as it goes, and turns NaN voxels into 0. A translation of such
a volume looks plausible and is wrong. So the header is parsed here, the whole (decompressed) stream is
read, its length compared with what the header promises, and float voxels scanned for NaN and infinity.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import GANTranslateError

CHUNK = 1 << 24
# NIfTI datatype code -> numpy type (the scalar types; others are refused by the reader's own checks)
DATATYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}


def is_nifti(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def check_nifti(path: Path) -> None:
    """Raise one clear error if the file is truncated, its compression is corrupt, or it holds NaN/infinite voxels."""
    compressed = path.name.lower().endswith(".gz")
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as stream:
            header = _header(stream, path)
            _check_data(stream, header, path)
    except gzip.BadGzipFile as error:
        if "Not a gzipped file" in str(error):
            raise GANTranslateError(f"cannot read {path}: it is named .gz but is not gzip-compressed; give a NIfTI, "
                                    "NRRD, MHA file or a DICOM series folder") from None
        raise GANTranslateError(f"{path} is truncated or its compression is corrupt ({error}); the file is "
                                "incomplete: copy or export it again") from None
    except (EOFError, zlib.error, OSError) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise GANTranslateError(f"cannot read {path} ({error.strerror})") from None
        raise GANTranslateError(
            f"{path} is truncated or its compression is corrupt ({error}); the file is incomplete: copy or export it again"
        ) from None


def _header(stream: BinaryIO, path: Path) -> dict:
    raw = stream.read(540)
    for endian in "<>":
        if len(raw) >= 348 and struct.unpack(endian + "i", raw[:4])[0] == 348:
            dims = struct.unpack(endian + "8h", raw[40:56])
            datatype, bitpix = struct.unpack(endian + "hh", raw[70:74])
            offset = int(struct.unpack(endian + "f", raw[108:112])[0])
            return _described(dims, datatype, bitpix, max(offset, 352), endian, raw, path)
        if len(raw) >= 540 and struct.unpack(endian + "i", raw[:4])[0] == 540:
            datatype, bitpix = struct.unpack(endian + "hh", raw[12:16])
            dims = struct.unpack(endian + "8q", raw[16:80])
            offset = struct.unpack(endian + "q", raw[168:176])[0]
            return _described(dims, datatype, bitpix, max(offset, 544), endian, raw, path)
    raise GANTranslateError(f"cannot read {path}: it does not start with a NIfTI header (damaged, or not NIfTI); "
                            "give a NIfTI, NRRD, MHA file or a DICOM series folder")


def _described(dims, datatype: int, bitpix: int, offset: int, endian: str, raw: bytes, path: Path) -> dict:
    rank = dims[0]
    if not 1 <= rank <= 7 or any(d < 1 for d in dims[1:rank + 1]):
        raise GANTranslateError(f"{path} has an impossible NIfTI header (dimensions {list(dims[1:rank + 1])}); the file is damaged")
    voxels = int(np.prod([int(d) for d in dims[1:rank + 1]], dtype=np.int64))
    return {"bytes": voxels * max(bitpix, 8) // 8, "offset": offset, "raw": raw,
            "dtype": np.dtype(endian + DATATYPES[datatype]) if datatype in DATATYPES else None}


def _check_data(stream: BinaryIO, header: dict, path: Path) -> None:
    raw, offset, total, dtype = header["raw"], header["offset"], header["bytes"], header["dtype"]
    block = raw[offset:offset + total]  # the data may begin inside the bytes read for the header
    skip = offset - len(raw)
    if skip > 0 and len(stream.read(skip)) < skip:
        raise EOFError("the file ends inside its header")
    floating = dtype is not None and dtype.kind == "f"
    remaining, carry = total - len(block), b""
    while True:
        if floating:
            block, carry = carry + block, b""
            usable = len(block) - len(block) % dtype.itemsize
            block, carry = block[:usable], block[usable:]
            if not np.isfinite(np.frombuffer(block, dtype)).all():
                raise GANTranslateError(f"{path} contains NaN or infinite voxels; replace them (e.g. with 0) before translating")
        if remaining <= 0:
            break
        block = stream.read(min(CHUNK, remaining))
        if not block:
            raise EOFError(f"{total - remaining} of {total} voxel bytes present")
        remaining -= len(block)
    while stream.read(CHUNK):  # the rest of the stream: a gzip file's trailer (CRC and length) is checked at its end
        pass
