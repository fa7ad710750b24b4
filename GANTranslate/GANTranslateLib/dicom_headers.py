"""The headers of one DICOM series, read with pydicom (no pixels): what the reader checks before it trusts
the series' grid, and what a synthetic series copies and references from its source."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import GANTranslateError


@dataclass(frozen=True)
class SliceHeader:
    """One image (a file, or one frame of a multi-frame file) and where it lies."""
    file: Path
    sop_class: str
    sop_instance: str
    position: Optional[np.ndarray]     # Image Position (Patient), mm
    orientation: Optional[np.ndarray]  # Image Orientation (Patient): row then column direction
    pixel_spacing: Optional[tuple[float, float]]  # between rows, between columns (DICOM's order)
    shape: tuple[int, int]             # rows, columns
    echo: str                          # echo number (or echo time) as written, "" when absent
    temporal: str                      # temporal position identifier, "" when absent
    frames: int                        # Number of Frames of its file (1 for a single-frame image)


def _pydicom():
    try:
        import pydicom
    except ImportError:  # pragma: no cover - a dependency of the engine; stock Slicer has it
        raise GANTranslateError("reading DICOM needs pydicom: pip install pydicom") from None
    return pydicom


def read_header(path: Path):
    """A file's header (no pixel data), or None when it is not a DICOM file (a README, a DICOMDIR...)."""
    pydicom = _pydicom()
    try:
        dataset = pydicom.dcmread(str(path), stop_before_pixels=True)
    except (pydicom.errors.InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError):
        return None
    if dataset.get("Rows") is None or dataset.get("Columns") is None:
        return None  # not an image (a DICOMDIR, a structured report...)
    return dataset


def series_files(folder: Path) -> dict[str, list[tuple[Path, object]]]:
    """The image files of a folder (not its subfolders), by Series Instance UID, with their headers."""
    series: dict[str, list[tuple[Path, object]]] = {}
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        dataset = read_header(path)
        if dataset is not None:
            series.setdefault(str(dataset.get("SeriesInstanceUID", "")), []).append((path, dataset))
    return series


def _numbers(value, count: int) -> Optional[np.ndarray]:
    try:
        numbers = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return numbers if numbers.shape == (count,) and np.isfinite(numbers).all() else None


def _text(dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None or value == "":
        return ""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return str(value)
    return "\\".join(str(v) for v in value)


def slices_of(path: Path, dataset) -> list[SliceHeader]:
    """Each image of a file: one for a classic image, one per frame for an enhanced multi-frame one."""
    frames = int(dataset.get("NumberOfFrames") or 1)
    shape = (int(dataset.Rows), int(dataset.Columns))
    common = dict(file=path, sop_class=str(dataset.get("SOPClassUID", "")), sop_instance=str(dataset.get("SOPInstanceUID", "")),
                  shape=shape, frames=frames)
    if frames == 1 or "PerFrameFunctionalGroupsSequence" not in dataset:
        return [SliceHeader(position=_numbers(dataset.get("ImagePositionPatient"), 3),
                            orientation=_numbers(dataset.get("ImageOrientationPatient"), 6),
                            pixel_spacing=_spacing(dataset.get("PixelSpacing")), echo=_echo(dataset),
                            temporal=_text(dataset, "TemporalPositionIdentifier"), **common)]
    shared = dataset.get("SharedFunctionalGroupsSequence", [None])[0]
    result = []
    for item in dataset.PerFrameFunctionalGroupsSequence:
        def macro(sequence: str, keyword: str):
            for group in (item, shared):
                if group is not None and sequence in group and len(group[sequence].value) and \
                        keyword in group[sequence].value[0]:
                    return group[sequence].value[0].get(keyword)
            return None
        result.append(SliceHeader(position=_numbers(macro("PlanePositionSequence", "ImagePositionPatient"), 3),
                                  orientation=_numbers(macro("PlaneOrientationSequence", "ImageOrientationPatient"), 6),
                                  pixel_spacing=_spacing(macro("PixelMeasuresSequence", "PixelSpacing")),
                                  echo=str(macro("MREchoSequence", "EffectiveEchoTime") or ""),
                                  temporal=str(macro("FrameContentSequence", "TemporalPositionIndex") or ""),
                                  **common))
    return result


def _spacing(value) -> Optional[tuple[float, float]]:
    numbers = _numbers(value, 2) if value is not None else None
    return (float(numbers[0]), float(numbers[1])) if numbers is not None and (numbers > 0).all() else None


def _echo(dataset) -> str:
    return _text(dataset, "EchoNumbers") or _text(dataset, "EchoTime")


@dataclass(frozen=True)
class SourceSeries:
    """A source series: its first header (patient, study, frame of reference) and every image of it."""
    first: object
    slices: list[SliceHeader]


def source_series(source_dicom: Optional[Path], echo: Optional[str] = None) -> Optional[SourceSeries]:
    """The series of ``source_dicom`` (its folder, or one file of it: the other files of that folder with the
    same Series Instance UID join it), only its images of ``echo`` when one was chosen; None when there is
    no source."""
    if source_dicom is None:
        return None
    source_dicom = Path(source_dicom)
    if source_dicom.is_dir():
        found = series_files(source_dicom)
        if len(found) != 1:
            return None
        members = next(iter(found.values()))
    else:
        dataset = read_header(source_dicom)
        if dataset is None:
            raise GANTranslateError(f"{source_dicom} is not a DICOM image; give a file of the source series or its folder")
        members = series_files(source_dicom.parent).get(str(dataset.get("SeriesInstanceUID", ""))) or [(source_dicom, dataset)]
    slices = [s for path, dataset in members for s in slices_of(path, dataset)]
    if echo is not None:  # the images translated: a synthetic slice does not come from the other echoes
        from .dicom_series_check import choose_echo

        slices = choose_echo(slices, echo)
    return SourceSeries(members[0][1], slices)
