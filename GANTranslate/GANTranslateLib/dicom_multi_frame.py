"""An enhanced (multi-frame) DICOM file read on the grid its per-frame headers state.

ITK stacks the frames in file order and, when they are not at one even step in that order (frames stored
out of order, a missing position), gives up on the geometry without a word: 1 x 1 x 1 mm spacing, the
first frame's origin. The frames are checked as a single-frame series is (one orientation, one echo and
time point, one even step, no duplicate), put in order along the slice normal, and placed on the checked
grid; an echo is chosen with ``echo`` as for a series.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk

from .dicom_headers import slices_of
from .dicom_series_check import SeriesGrid, check_series, choose_echo
from .errors import GANTranslateError


def read_multi_frame(path: Path, dataset, echo: Optional[str], notes: list[str]) -> sitk.Image:
    """The file's frames of one echo, in order along the normal, on the grid their headers state."""
    frames = slices_of(path, dataset)
    image = sitk.ReadImage(str(path))
    if len(frames) == 1 or image.GetNumberOfComponentsPerPixel() != 1:  # no per-frame positions: as ITK reads it
        if echo is not None:
            raise GANTranslateError(f"--echo chooses an echo of a series; {path.name} has no per-frame echo to choose from")
        return image
    grid = check_series(choose_echo(frames, echo), f"the multi-frame file {path.name}")
    array = sitk.GetArrayViewFromImage(image)
    if array.shape[0] != len(frames):
        raise GANTranslateError(f"{path.name} states {len(frames)} frames but holds {array.shape[0]}; the file is damaged")
    order = {id(frame): index for index, frame in enumerate(frames)}
    stacked = sitk.GetImageFromArray(np.ascontiguousarray(array[[order[id(frame)] for frame in grid.slices]]))
    return place_on_grid(stacked, grid, notes)


def place_on_grid(stacked: sitk.Image, grid: SeriesGrid, notes: list[str]) -> sitk.Image:
    """Slices stacked in the grid's order given the grid's geometry; a tilted grid resampled, with a note."""
    stacked.SetOrigin(tuple(float(v) for v in grid.origin))
    stacked.SetDirection(tuple(float(v) for v in grid.direction.flatten()))
    stacked.SetSpacing(grid.spacing)
    if not grid.tilted:
        return stacked
    from .dicom_tilt import resample_tilted

    shift = float(np.linalg.norm(grid.shear))
    notes.append(f"the DICOM series is gantry-tilted (each slice shifted {shift:.3g} mm in-plane, "
                 f"{shift * (len(grid.slices) - 1):.3g} mm over the series): resampled onto an orthogonal grid "
                 "at the acquired positions (the grid is widened to hold every slice)")
    return resample_tilted(stacked, grid.shear)
