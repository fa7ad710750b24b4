"""A gantry-tilted series onto an orthogonal grid at the acquired positions.

In a tilted CT (or any series whose slices shift in-plane by a constant step) slice k's first pixel lies
k x shear beside where an orthogonal stack puts it. Stacked as is, every voxel is up to (slices - 1) x
shear mm off. Each slice is moved back by its own offset (one affine resampling, linear), onto a grid
widened to hold every slice whole; what no slice covers is the series' lowest value.
"""
from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk


def resample_tilted(stacked: sitk.Image, shear: np.ndarray) -> sitk.Image:
    """``stacked``: the slices in order on the orthogonal grid of the first one (origin, direction, the step
    along the normal); ``shear``: the in-plane offset (mm, patient coordinates) of each slice from the last."""
    direction = np.array(stacked.GetDirection()).reshape(3, 3)
    spacing = np.array(stacked.GetSpacing())
    size = np.array(stacked.GetSize())
    normal = direction[:, 2]
    origin = np.array(stacked.GetOrigin())
    # A point of the true (sheared) series at orthogonal-stack point p is p + shear * (normal . (p - origin)) / step;
    # the inverse, true -> stacked, is the resampling transform (shear is perpendicular to the normal).
    inverse = np.eye(3) - np.outer(shear, normal) / spacing[2]
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(tuple(float(v) for v in inverse.flatten()))
    transform.SetCenter(tuple(float(v) for v in origin))
    total = shear * (size[2] - 1)  # the last slice's offset, in row and column steps
    along = [float(total @ direction[:, axis]) for axis in (0, 1)]
    extra = [int(math.ceil(abs(a) / spacing[axis] - 1e-6)) for axis, a in enumerate(along)]
    start = origin + sum(min(0.0, a) * direction[:, axis] for axis, a in enumerate(along))
    grid = sitk.Image([int(size[0] + extra[0]), int(size[1] + extra[1]), int(size[2])], sitk.sitkFloat32)
    grid.SetSpacing(tuple(float(v) for v in spacing))
    grid.SetDirection(stacked.GetDirection())
    grid.SetOrigin(tuple(float(v) for v in start))
    lowest = float(sitk.GetArrayViewFromImage(stacked).min())
    return sitk.Resample(stacked, grid, transform, sitk.sitkLinear, lowest, sitk.sitkFloat32)  # interpolated: float
