"""Check a single-frame DICOM series before its slices are stacked, so that a grid is never guessed.

A reader that stacks files by position and takes the spacing of the first two puts every voxel of a
series with a missing slice, uneven steps, a duplicated or foreign slice, two interleaved echoes or a
gantry tilt in the wrong place without a word. Here every slice is checked: one orientation, one size,
one echo and time point, distinct positions along the slice normal at one even step, and in-plane
offsets that are either none or a constant shear (a gantry tilt, which the reader then resamples onto an
orthogonal grid). Anything else is refused with the problem named.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .dicom_headers import SliceHeader
from .errors import GANTranslateError

ORIENTATION_TOLERANCE = 1e-3  # of a unit vector
POSITION_TOLERANCE_MM = 0.01


@dataclass(frozen=True)
class SeriesGrid:
    """The checked series: its slices in order along the normal, and the grid they lie on."""
    slices: list[SliceHeader]
    origin: np.ndarray      # the first slice's position
    direction: np.ndarray   # 3x3, columns: row direction, column direction, slice normal
    spacing: tuple[float, float, float]  # along the row direction, the column direction, the normal
    shear: np.ndarray       # in-plane offset of each slice from the one before it (mm; zero unless tilted)

    @property
    def tilted(self) -> bool:
        return bool(np.linalg.norm(self.shear) * (len(self.slices) - 1) > POSITION_TOLERANCE_MM)


def plane_name(orientation: np.ndarray) -> str:
    """axial, coronal or sagittal: the patient axis closest to the slice normal."""
    normal = np.cross(orientation[:3], orientation[3:])
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


def choose_echo(slices: list[SliceHeader], echo: Optional[str]) -> list[SliceHeader]:
    """The slices of one echo: all when the series has one; those of ``echo`` when asked; otherwise refused."""
    echoes = sorted({s.echo for s in slices}, key=_number_first)
    if echo is not None:
        chosen = [s for s in slices if _same_echo(s.echo, str(echo))]
        if not chosen:
            raise GANTranslateError(f"the series has no echo {echo}; its echoes are {', '.join(echoes) or 'not numbered'}")
        return chosen
    if len(echoes) > 1:
        raise GANTranslateError(f"the series holds {len(echoes)} echoes ({', '.join(echoes)}) that would be interleaved "
                                f"into one volume; choose one with --echo (e.g. --echo {echoes[0]})")
    return slices


def _same_echo(stated: str, asked: str) -> bool:
    """``--echo 20`` chooses an echo stated as 20, 20.0 or 20.00 (an Effective Echo Time is a float)."""
    return stated == asked or (_number_first(stated)[0] == _number_first(asked)[0] != float("inf"))


def _number_first(text: str) -> tuple[float, str]:
    try:
        return float(text), text
    except ValueError:
        return float("inf"), text


def check_series(slices: list[SliceHeader], what: str) -> SeriesGrid:
    """The grid of a single-frame series (``what`` names it in messages), or an error naming the problem."""
    for s in slices:
        if s.position is None or s.orientation is None or s.pixel_spacing is None:
            raise GANTranslateError(f"{s.file.name} in {what} has no valid Image Position, Image Orientation or Pixel "
                                    "Spacing: its slices cannot be placed; give a series that has them")
    first = slices[0]
    for s in slices[1:]:
        if np.abs(s.orientation - first.orientation).max() > ORIENTATION_TOLERANCE:
            raise GANTranslateError(
                f"{s.file.name} in {what} is a {plane_name(s.orientation)} slice among {plane_name(first.orientation)} "
                "ones (a localizer or another plane in the series); move it out of the folder")
        if s.shape != first.shape or not np.allclose(s.pixel_spacing, first.pixel_spacing, rtol=1e-4):
            raise GANTranslateError(f"{s.file.name} in {what} differs in size or pixel spacing from {first.file.name}; "
                                    "a series is read only when every slice has one grid")
    temporal = sorted({s.temporal for s in slices} - {""})
    if len(temporal) > 1:
        raise GANTranslateError(f"{what} is a time series ({len(temporal)} temporal positions); "
                                "put the files of one time point in a folder of their own")
    row, column = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row, column)
    if abs(np.linalg.norm(normal) - 1) > ORIENTATION_TOLERANCE or abs(float(row @ column)) > ORIENTATION_TOLERANCE:
        raise GANTranslateError(f"{what} has an Image Orientation whose directions are not orthonormal; it cannot be placed")
    ordered = sorted(slices, key=lambda s: float(normal @ s.position))
    distances = np.array([float(normal @ s.position) for s in ordered])
    _refuse_duplicates(ordered, distances, what)
    step = _even_step(distances, what, first)
    shear = _shear(ordered, distances, normal, what)
    direction = np.column_stack([row / np.linalg.norm(row), column / np.linalg.norm(column), normal / np.linalg.norm(normal)])
    rows_apart, columns_apart = first.pixel_spacing
    return SeriesGrid(ordered, ordered[0].position, direction, (columns_apart, rows_apart, step), shear)


def _refuse_duplicates(ordered: list[SliceHeader], distances: np.ndarray, what: str) -> None:
    for index in np.flatnonzero(np.diff(distances) < POSITION_TOLERANCE_MM):
        a, b = ordered[index], ordered[index + 1]
        raise GANTranslateError(
            f"{a.file.name} and {b.file.name} in {what} lie at the same position ({distances[index]:.2f} mm along the "
            "slice normal): a duplicated slice, or two acquisitions in one series; keep one of them")


def _even_step(distances: np.ndarray, what: str, first: SliceHeader) -> float:
    if len(distances) == 1:
        return 1.0
    steps = np.diff(distances)
    step = float(np.median(steps))
    tolerance = max(POSITION_TOLERANCE_MM, 0.01 * step)
    worst = int(np.argmax(np.abs(steps - step)))
    if abs(steps[worst] - step) <= tolerance:
        return float(np.mean(steps))
    gap = f"{steps[worst]:.3g} mm between the slices at {distances[worst]:.2f} and {distances[worst + 1]:.2f} mm"
    if abs(steps[worst] / step - round(steps[worst] / step)) < 0.05 and round(steps[worst] / step) >= 2:
        problem = f"a slice is missing ({gap}, where the others are {step:.3g} mm apart)"
    else:
        problem = f"its slices are unevenly spaced ({gap}; most are {step:.3g} mm apart)"
    raise GANTranslateError(f"{what}: {problem}; it cannot be read on a regular grid without moving slices: "
                            "complete the series, or resample it onto a regular grid first")


def _shear(ordered: list[SliceHeader], distances: np.ndarray, normal: np.ndarray, what: str) -> np.ndarray:
    """The in-plane offset per slice: zero for a plain series, a constant for a gantry tilt."""
    if len(ordered) == 1:
        return np.zeros(3)
    offsets = np.array([s.position - ordered[0].position - (d - distances[0]) * normal
                        for s, d in zip(ordered, distances)])
    per_slice = (offsets[-1] - offsets[0]) / (len(ordered) - 1)
    expected = np.outer(np.arange(len(ordered)), per_slice)
    if np.abs(offsets - expected).max() > max(POSITION_TOLERANCE_MM, 0.05 * min(ordered[0].pixel_spacing)):
        raise GANTranslateError(f"the slices of {what} are shifted in-plane by irregular amounts (not a gantry tilt); "
                                "they cannot be placed on one grid")
    return per_slice


MAX_VOXELS = 2 ** 30  # per file: a header may claim any size; the reader allocates what it claims
UNCOMPRESSED = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2")


def check_pixel_bytes(path: Path, dataset) -> None:
    """Refuse a file whose header claims more pixels than is sane, or (uncompressed) more bytes than the file
    holds: ITK would allocate what the header says, or fail deep inside with no file named."""
    rows, columns = int(dataset.get("Rows") or 0), int(dataset.get("Columns") or 0)
    frames, samples = int(dataset.get("NumberOfFrames") or 1), int(dataset.get("SamplesPerPixel") or 1)
    voxels = rows * columns * frames * samples
    if voxels > MAX_VOXELS:
        raise GANTranslateError(f"{path.name} claims {rows} x {columns} x {frames} pixels, more than a volume can be "
                                "here; the file is damaged or not an image series")
    meta = getattr(dataset, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")) if meta is not None else "1.2.840.10008.1.2"
    needed = voxels * max(int(dataset.get("BitsAllocated") or 16), 1) // 8
    if syntax in UNCOMPRESSED and path.stat().st_size < needed:
        raise GANTranslateError(f"{path.name} holds {path.stat().st_size} bytes, fewer than its {rows} x {columns}"
                                f"{f' x {frames}' if frames > 1 else ''} pixels need ({needed}): a truncated or damaged "
                                "file; copy the series again")
