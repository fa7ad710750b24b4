"""Resampling an oriented voxel array to the spacing a model expects, and back onto its own grid.

Both grids live in one local frame (identity direction, origin at the first voxel), so only spacing
and extent matter; the input's real geometry is restored afterwards by copying it, never recomputed.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import SimpleITK as sitk

from .errors import GANTranslateError

SPACING_TOLERANCE = 1e-3  # relative: closer than this counts as the same spacing
GROWTH_LIMIT = 16  # a resampled grid may hold this many times the input's voxels (e.g. 4 mm slices at 1 mm, x2 in-plane)
GRID_FLOOR = 1 << 24  # ... or this many (256^3), whichever is more, so small volumes are never refused


def model_spacing(spacing_xyz: Sequence[float], target_xyz: Sequence[float | None] | None) -> tuple[float, float, float]:
    """The spacing a model runs at: the card's, with the input's own where the card has none (None)."""
    if target_xyz is None:
        return tuple(float(s) for s in spacing_xyz)  # type: ignore[return-value]
    return tuple(float(s if t is None else t) for s, t in zip(spacing_xyz, target_xyz))  # type: ignore[return-value]


def needs_resampling(spacing_xyz: Sequence[float], target_xyz: Sequence[float | None] | None) -> bool:
    target = model_spacing(spacing_xyz, target_xyz)
    return any(abs(s - t) > SPACING_TOLERANCE * t for s, t in zip(spacing_xyz, target))


def _local_image(array_zyx: np.ndarray, spacing_xyz: Sequence[float]) -> sitk.Image:
    image = sitk.GetImageFromArray(array_zyx, isVector=False)
    image.SetSpacing([float(s) for s in spacing_xyz])
    return image


def model_grid(shape_zyx: Sequence[int], spacing_xyz: Sequence[float], target_xyz: Sequence[float]):
    """Size and origin (x, y, z) of a grid at ``target_xyz`` spacing that covers the volume's whole extent,
    centred on it, so no edge voxel is lost and nothing shifts."""
    spacing, target = np.asarray(spacing_xyz, float), np.asarray(target_xyz, float)
    extent = np.asarray(shape_zyx[::-1]) * spacing
    size = np.maximum(np.ceil(extent / target - 1e-6).astype(int), 1)
    first_edge = -0.5 * spacing - 0.5 * (size * target - extent)
    return [int(s) for s in size], (first_edge + 0.5 * target).tolist()


def check_grid(shape_zyx: Sequence[int], spacing_xyz: Sequence[float], target_xyz: Sequence[float]) -> None:
    """Refuse, before allocating it, a model grid far larger than the input: a 38 KB volume whose header says
    100 mm voxels (or a card asking for 0.01 mm) would otherwise become 6400^2 slices and exhaust the memory."""
    size, _ = model_grid(shape_zyx, spacing_xyz, target_xyz)
    voxels, given = float(np.prod(size, dtype=float)), float(np.prod(shape_zyx, dtype=float))
    if voxels > max(GROWTH_LIMIT * given, GRID_FLOOR):
        shown = lambda values: " x ".join(f"{v:g}" for v in values)  # noqa: E731
        raise GANTranslateError(
            f"resampling the {shown(shape_zyx[::-1])} input ({shown(spacing_xyz)} mm voxels) to the model's "
            f"{shown(target_xyz)} mm would make a {shown(size)} grid ({voxels * 4 / 2**30:.1f} GB, {voxels / given:.0f} "
            "times the input); check the input's voxel size in its header (or the card's spacing)")


def resample_to_spacing(
    array_zyx: np.ndarray, spacing_xyz: Sequence[float], target_xyz: Sequence[float], fill: float
) -> np.ndarray:
    """Linear resampling onto :func:`model_grid`."""
    size, origin = model_grid(array_zyx.shape, spacing_xyz, target_xyz)
    out = sitk.Resample(
        _local_image(array_zyx, spacing_xyz), size, sitk.Transform(), sitk.sitkLinear, origin,
        [float(t) for t in target_xyz], np.eye(3).ravel().tolist(), fill, sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(out)


def resample_back(
    array_zyx: np.ndarray, model_spacing_xyz: Sequence[float], shape_zyx: Sequence[int],
    spacing_xyz: Sequence[float], fill: float,
) -> np.ndarray:
    """Inverse of :func:`resample_to_spacing`: back onto the original shape and spacing."""
    image = _local_image(array_zyx, model_spacing_xyz)
    image.SetOrigin(model_grid(shape_zyx, spacing_xyz, model_spacing_xyz)[1])
    reference = sitk.Image([int(s) for s in reversed(shape_zyx)], sitk.sitkFloat32)
    reference.SetSpacing([float(s) for s in spacing_xyz])
    out = sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear, fill, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)
