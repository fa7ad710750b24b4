"""Test series crafted from the real Hitachi MR slices (Testing/Data/dicom_hitachi_mr): the same pixels and
header, with the positions, orientations, echoes or character set a case needs (pydicom)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pydicom
from pydicom.uid import generate_uid

DATA = Path(__file__).parent / "Data"
HITACHI = DATA / "dicom_hitachi_mr"


def hitachi_slices() -> list:
    return [pydicom.dcmread(str(p)) for p in sorted(HITACHI.iterdir())]


def axes(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    orientation = np.array([float(v) for v in dataset.ImageOrientationPatient])
    return orientation[:3], orientation[3:], np.cross(orientation[:3], orientation[3:])


def craft_series(folder: Path, count: int, step: float = 4.0, shear: Sequence[float] = (0, 0, 0),
                 distances: Optional[Sequence[float]] = None, echoes: int = 1, frame_of_reference: bool = True,
                 edit=None) -> Path:
    """``count`` slices (the real slices' pixels, cycled) at ``distances`` along the normal (default k x step),
    each shifted in-plane by k x ``shear`` mm; ``echoes`` copies at each position with EchoNumbers 1..n;
    ``edit(k, dataset)`` changes a slice before it is saved."""
    folder.mkdir(parents=True, exist_ok=True)
    real = hitachi_slices()
    template = real[0]
    _, _, normal = axes(template)
    origin = np.array([float(v) for v in template.ImagePositionPatient])
    series_uid, frame = generate_uid(), generate_uid()
    distances = list(distances) if distances is not None else [k * step for k in range(count)]
    number = 0
    for k, distance in enumerate(distances):
        for echo in range(1, echoes + 1):
            dataset = copy.deepcopy(template)
            dataset.PixelData = real[k % len(real)].PixelData
            position = origin + distance * normal + k * np.asarray(shear, dtype=float)
            dataset.ImagePositionPatient = [f"{v:.6f}" for v in position]
            dataset.SeriesInstanceUID, dataset.SOPInstanceUID = series_uid, generate_uid()
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
            number += 1
            dataset.InstanceNumber = number
            if frame_of_reference:
                dataset.FrameOfReferenceUID = frame
            if echoes > 1:
                dataset.EchoNumbers = echo
                dataset.EchoTime = 12 * echo
            if edit is not None:
                edit(k, dataset)
            dataset.save_as(str(folder / f"{number:03d}.dcm"))
    return folder
