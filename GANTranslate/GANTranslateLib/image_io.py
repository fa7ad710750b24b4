"""Reading and writing volumes with SimpleITK: checks that give one clear line, and atomic writes."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .errors import GANTranslateError

# Single-file formats only: a header + data pair could not be renamed into place atomically.
WRITABLE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")


def full_suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def read_volume(path: str | os.PathLike) -> sitk.Image:
    """Read a scalar 3D volume (a 2D image becomes one slice) from a file or a DICOM series folder."""
    path = Path(path)
    if not path.exists():
        raise GANTranslateError(f"input not found: {path} (check the path)")
    try:
        image = _read_dicom_folder(path) if path.is_dir() else sitk.ReadImage(str(path))
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise GANTranslateError(
            f"cannot read {path} as an image ({reason}); give a NIfTI, NRRD, MHA file or a DICOM series folder"
        ) from None
    return _checked(image, path)


def _read_dicom_folder(folder: Path) -> sitk.Image:
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise GANTranslateError(f"no DICOM series in folder {folder}; give a folder of one DICOM series or an image file")
    if len(series) > 1:
        raise GANTranslateError(
            f"folder {folder} holds {len(series)} DICOM series; put the series to translate in a folder of its own"
        )
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0]))
    return reader.Execute()


def _checked(image: sitk.Image, path: Path) -> sitk.Image:
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise GANTranslateError(
            f"{path} has {image.GetNumberOfComponentsPerPixel()} components per voxel (RGB or vector image); "
            "convert it to a single-channel scalar volume first"
        )
    if image.GetDimension() == 4:
        raise GANTranslateError(f"{path} is 4D (a time series or multi-volume file); extract one 3D volume first")
    if image.GetDimension() not in (2, 3):
        raise GANTranslateError(f"{path} has {image.GetDimension()} dimensions; give a 3D volume")
    values = sitk.GetArrayViewFromImage(image)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise GANTranslateError(
            f"{path} contains NaN or infinite voxels; replace them (e.g. with 0) before translating"
        )
    return image


def find_volume(folder: Path, stems: list[str]) -> Path | None:
    """The first ``folder/stem.<suffix>`` that exists, for any readable single-file suffix."""
    for stem in stems:
        for suffix in WRITABLE_SUFFIXES:
            candidate = Path(folder) / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def check_writable(path: str | os.PathLike) -> Path:
    """Fail before any work is done if the output cannot be written where and as asked."""
    path = Path(path)
    if full_suffix(path) not in WRITABLE_SUFFIXES:
        raise GANTranslateError(
            f"cannot write '{path.name}': use one of {', '.join(WRITABLE_SUFFIXES)} for the output file"
        )
    if not path.parent.is_dir():
        raise GANTranslateError(f"output folder {path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise GANTranslateError(f"output folder {path.parent} is not writable; choose another output path")
    return path


def write_volume_atomic(image: sitk.Image, path: str | os.PathLike, compress: bool = True) -> None:
    """Write to a temporary file beside the target, then rename: a crash never leaves half a file."""
    path = check_writable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=full_suffix(path), dir=path.parent)
    os.close(fd)
    try:
        sitk.WriteImage(image, tmp_name, useCompression=compress or path.name.endswith(".gz"))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
