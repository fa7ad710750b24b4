"""Reading and writing volumes with SimpleITK: checks that give one clear line, and atomic writes."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import SimpleITK as sitk

from .atomic_files import describe_write_error, publish_file, temporary_file
from .errors import GANTranslateError
from .header_data_check import check_header_and_data
from .nifti_check import check_nifti, is_nifti

# Single-file formats only: a header + data pair could not be renamed into place atomically.
WRITABLE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")


def full_suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def read_volume(path: str | os.PathLike, *, echo: Optional[str] = None, notes: Optional[list[str]] = None) -> sitk.Image:
    """Read a scalar 3D volume (a 2D image becomes one slice) from a file or a DICOM series folder.

    A DICOM series is checked slice by slice before it is stacked (dicom_series_check); ``echo`` chooses one
    echo of a multi-echo series; what the reader did to place the voxels (a tilt resampled) is appended to
    ``notes``."""
    path = check_encodable(Path(path))
    if not path.exists():
        raise GANTranslateError(f"input not found: {path} (check the path)")
    if path.is_file() and is_nifti(path):
        check_nifti(path)  # ITK would zero-fill a truncated file and zero NaN voxels without a word
    elif path.is_file():
        check_header_and_data(path)  # a data file outside the header's folder; a short or NaN .hdr/.img pair
    notes = notes if notes is not None else []
    multi_frame = _multi_frame_header(path) if path.is_file() else None
    if echo is not None and not path.is_dir() and multi_frame is None:
        raise GANTranslateError(f"--echo chooses an echo of a DICOM series folder or multi-frame file; {path} is neither")
    try:
        if path.is_dir():
            image = read_dicom_folder(path, echo, notes)
        elif multi_frame is not None:
            from .dicom_multi_frame import read_multi_frame
            from .dicom_series_check import check_pixel_bytes

            check_pixel_bytes(path, multi_frame)
            image = read_multi_frame(path, multi_frame, echo, notes)
        else:
            image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise GANTranslateError(
            f"cannot read {path} as an image ({reason}); give a NIfTI, NRRD, MHA file or a DICOM series folder"
        ) from None
    return _checked(image, path)


def _multi_frame_header(path: Path):
    """The header of a multi-frame DICOM file, or None (another format, or a single-frame image)."""
    if is_nifti(path) or full_suffix(path) in (".nrrd", ".nhdr", ".mha", ".mhd"):
        return None
    from .dicom_headers import read_header

    dataset = read_header(path)
    return dataset if dataset is not None and int(dataset.get("NumberOfFrames") or 1) > 1 else None


def read_dicom_folder(folder: Path, echo: Optional[str], notes: list[str]) -> sitk.Image:
    """The folder's one DICOM series on the grid its headers state (checked first), or an error."""
    from .dicom_headers import series_files, slices_of
    from .dicom_multi_frame import place_on_grid, read_multi_frame
    from .dicom_series_check import check_pixel_bytes, check_series, choose_echo

    series = series_files(folder)
    if not series:
        batch = any(p.is_dir() for p in folder.iterdir())  # a folder of series folders: a batch, given as a glob
        raise GANTranslateError(f"no DICOM series in folder {folder}; give a folder of one DICOM series or an image file"
                                + (f" (for a batch of its series folders: -i '{folder / '*'}' in quotes, or a .csv)"
                                   if batch else ""))
    if len(series) > 1:
        raise GANTranslateError(
            f"folder {folder} holds {len(series)} DICOM series; put the series to translate in a folder of its own"
        )
    members = next(iter(series.values()))
    for path, dataset in members:
        check_pixel_bytes(path, dataset)
    if any(int(dataset.get("NumberOfFrames") or 1) > 1 for _, dataset in members):
        if len(members) > 1:
            raise GANTranslateError(f"folder {folder} holds {len(members)} files of a multi-frame series; "
                                    "give one multi-frame file (its path) at a time")
        return read_multi_frame(members[0][0], members[0][1], echo, notes)  # as the file given by its path
    slices = choose_echo([s for path, dataset in members for s in slices_of(path, dataset)], echo)
    grid = check_series(slices, f"the DICOM series in {folder}")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(s.file) for s in grid.slices])
    warn = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # ITK's own spacing warning: the check above speaks instead
    try:
        image = reader.Execute()
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(warn)
    image = place_on_grid(image, grid, notes)
    return image


def _checked(image: sitk.Image, path: Path) -> sitk.Image:
    if "complex" in image.GetPixelIDTypeAsString():
        raise GANTranslateError(
            f"{path} holds complex-valued voxels (raw MR data); give a magnitude image (e.g. the absolute value)"
        )
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


def check_encodable(path: Path) -> Path:
    """ITK aborts the whole process (a C++ exception, SIGABRT) on a path that is not valid UTF-8, such as a
    Latin-1 'caf\\xe9.nii.gz', in any locale: such a name is refused before ITK sees it."""
    if "\x00" in str(path):  # Python itself refuses such a path with a ValueError
        raise GANTranslateError(f"the file name {ascii(str(path))} holds a NUL character; no file can have that name")
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(path).encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise GANTranslateError(f"the file name {shown} is not valid UTF-8, which ITK cannot open; rename it "
                                "(e.g. with 'convmv -f latin1 -t utf8') and give it again") from None
    return path


def find_volume(folder: Path, stems: list[str]) -> Path | None:
    """The first ``folder/stem.<suffix>`` that exists, for any readable single-file suffix."""
    for stem in stems:
        for suffix in WRITABLE_SUFFIXES:
            candidate = Path(folder) / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def check_writable(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Fail before any work is done if the output cannot be written where and as asked, or would replace
    one of the ``inputs`` (by whatever path it is named)."""
    path = check_encodable(Path(path))
    if path.is_dir():
        raise GANTranslateError(f"output {path} is a folder; give a file name such as {path / 'output.nii.gz'}")
    if full_suffix(path) not in WRITABLE_SUFFIXES:
        raise GANTranslateError(
            f"cannot write '{path.name}': use one of {', '.join(WRITABLE_SUFFIXES)} for the output file"
        )
    if not path.parent.is_dir():
        raise GANTranslateError(f"output folder {path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise GANTranslateError(f"output folder {path.parent} is not writable; choose another output path")
    for given in inputs:
        if same_file(path, Path(given)):
            raise GANTranslateError(f"output {path} is the input {given}; the input is never overwritten: choose another output name")
    return path


def check_replaceable(path: Path, replace: bool) -> None:
    """An existing output file is replaced only when GANTranslate wrote it (its header says SYNTHETIC) or when
    asked: a file of that name may be an acquired image (-o T2.nii.gz in a subject's folder)."""
    if replace or not path.exists() or written_by_gantranslate(path):
        return
    raise GANTranslateError(f"output {path} exists and was not written by GANTranslate (it may be an acquired image); "
                            "choose another name, or pass --force-overwrite to replace it")


def written_by_gantranslate(path: Path) -> bool:
    """Whether a volume file's header carries GANTranslate's SYNTHETIC note (translation.mark_synthetic)."""
    return synthetic_note_of(path) is not None


def synthetic_note_of(path: Path) -> Optional[str]:
    """The SYNTHETIC note in a volume file's header (which model made it, from what), or None."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return None
    for key in ("GANTranslate_synthetic", "ITK_FileNotes", "descrip"):
        if reader.HasMetaDataKey(key) and reader.GetMetaData(key).startswith("SYNTHETIC "):
            return reader.GetMetaData(key).strip()
    return None


def same_note(found: str, expected: str) -> bool:
    """Whether a header's note is ``expected`` (NIfTI keeps 79 characters of it)."""
    return found == expected or (len(found) >= 79 and expected.startswith(found))


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path, or the same inode (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct(paths: dict[str, str | os.PathLike | None]) -> None:
    """Outputs given under several names (e.g. -o and --disagreement-map) must be different files."""
    named = [(label, Path(p)) for label, p in paths.items() if p is not None]
    for i, (label, path) in enumerate(named):
        for other_label, other in named[i + 1:]:
            if same_file(path, other):
                raise GANTranslateError(f"{label} and {other_label} are the same file ({path}); give each its own name")


def write_volume_atomic(image: sitk.Image, path: str | os.PathLike, compress: bool = True) -> None:
    """Write to a temporary file beside the target, read it back and compare, then rename: a crash, a full
    disk or a writer that fails without saying so (ITK's NIfTI writer on a full disk) never leaves a short
    or wrong file under the real name."""
    path = check_writable(path)
    expected = sitk.GetArrayViewFromImage(image)
    try:
        temporary = temporary_file(path, full_suffix(path))
    except OSError as error:
        raise describe_write_error(error, path, expected.nbytes) from None
    try:
        sitk.WriteImage(image, str(temporary), useCompression=compress or path.name.endswith(".gz"))
        _verify(temporary, image)
        publish_file(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, (RuntimeError, OSError, _IncompleteWrite)):
            raise describe_write_error(error, path, expected.nbytes) from None
        raise


class _IncompleteWrite(Exception):
    pass


def _verify(written: Path, image: sitk.Image) -> None:
    try:
        if is_nifti(written):
            check_nifti(written)
        back = sitk.ReadImage(str(written))
    except (GANTranslateError, RuntimeError) as error:
        raise _IncompleteWrite(f"the written file does not read back: {error}") from None
    if back.GetSize() != image.GetSize() or not np.array_equal(sitk.GetArrayViewFromImage(back),
                                                                sitk.GetArrayViewFromImage(image)):
        raise _IncompleteWrite("the written file does not read back as what was written")
