"""A volume onto an axial grid (rows along patient left, columns along posterior, slices towards the head:
the orientation an HFS axial CT has), for planning systems that import axial CT only."""
from __future__ import annotations

import itertools
import math

import numpy as np
import SimpleITK as sitk

from .errors import GANTranslateError

# An axial box around an oblique volume holds at most this many times its voxels (or 2**24: a thin oblique
# slab's box is large but small in bytes), so that a hostile header cannot make it allocate without limit.
MAX_GROWTH, ALWAYS_ALLOWED = 8, 2 ** 24


def is_axial(image: sitk.Image) -> bool:
    return np.allclose(image.GetDirection(), np.eye(3).flatten(), atol=1e-6)


def axial_spacing(image: sitk.Image) -> tuple[float, float, float]:
    """Each patient axis takes the spacing of the image axis most nearly along it."""
    direction = np.abs(np.array(image.GetDirection()).reshape(3, 3))
    spacing = image.GetSpacing()
    order = [int(np.argmax(direction[axis])) for axis in range(3)]
    if sorted(order) != [0, 1, 2]:  # a 45-degree volume: no axis is clearly nearest, keep the finest step
        return (min(spacing),) * 3
    return tuple(float(spacing[i]) for i in order)


def resample_axial(image: sitk.Image, outside: float) -> sitk.Image:
    """``image`` onto the axial grid that holds all of it (linear interpolation; ``outside`` where it has no
    voxel). The physical positions are kept: a voxel of the result is the input at that point."""
    size = image.GetSize()
    corners = np.array([image.TransformIndexToPhysicalPoint(corner)
                        for corner in itertools.product(*[(0, n - 1) for n in size])])
    spacing = np.array(axial_spacing(image))
    low, high = corners.min(axis=0), corners.max(axis=0)
    shape = [int(math.ceil((h - lo) / s - 1e-6)) + 1 for lo, h, s in zip(low, high, spacing)]
    if np.prod(shape, dtype=np.float64) > max(MAX_GROWTH * np.prod(size, dtype=np.float64), ALWAYS_ALLOWED):
        raise GANTranslateError(f"an axial grid around this volume would hold {np.prod(shape, dtype=np.float64):.3g} "
                                "voxels; export it on its own grid instead")
    grid = sitk.Image(shape, sitk.sitkFloat32)
    grid.SetSpacing(tuple(float(v) for v in spacing))
    grid.SetOrigin(tuple(float(v) for v in low))
    return sitk.Resample(image, grid, sitk.Transform(), sitk.sitkLinear, float(outside), sitk.sitkFloat32)
