"""Intensity normalisation into the network's [-1, 1] range and back, as a model card describes it.

Three methods, each per domain:
- ``window``: a fixed range (CT in HU), exactly invertible;
- ``percentile``: the input's own low/high percentiles inside a foreground mask (or a ``fixed_low``
  such as 0, so that dark tissue like CSF is never clipped onto the background value); outputs map
  back onto the ``reference`` range measured on the training data (MR, arbitrary scanner units);
- ``zscore``: mean/std inside the mask, clipped at ``clip`` standard deviations; outputs map back with
  the ``reference`` mean and std.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .errors import GANTranslateError

Spec = Mapping[str, Any]


def foreground_mask(volume: np.ndarray, how: str = "nonzero") -> np.ndarray:
    """Voxels that belong to the subject, for intensity statistics."""
    if how == "all":
        return np.ones(volume.shape, dtype=bool)
    if how == "nonzero":
        return volume != 0
    if how == "otsu":
        from skimage.filters import threshold_otsu

        return volume > threshold_otsu(volume)
    raise GANTranslateError(f"unknown foreground mask '{how}' (use nonzero, otsu or all)")


def input_range(volume: np.ndarray, spec: Spec) -> tuple[float, float]:
    """The (offset, scale) that maps this volume into [-1, 1]: normalised = (x - offset) / scale."""
    method = spec["method"]
    if method == "window":
        low, high = float(spec["min"]), float(spec["max"])
        return (low + high) / 2, (high - low) / 2
    values = volume[foreground_mask(volume, spec.get("mask", "nonzero"))]
    if values.size == 0:
        raise GANTranslateError(
            "the volume has no foreground voxels for intensity normalisation (it is empty or all zero); "
            "check that the right volume was chosen"
        )
    if method == "percentile":
        high = float(np.percentile(values, spec["high"]))
        low = float(spec["fixed_low"]) if "fixed_low" in spec else float(np.percentile(values, spec.get("low", 0)))
        if high <= low:
            raise GANTranslateError("the volume's intensities are constant; it cannot be translated")
        return float(low + high) / 2, float(high - low) / 2
    if method == "zscore":
        std = float(values.std())
        if std == 0:
            raise GANTranslateError("the volume's intensities are constant; it cannot be translated")
        return float(values.mean()), std * float(spec["clip"])
    raise GANTranslateError(f"unknown normalisation method '{method}'")


def output_range(spec: Spec) -> tuple[float, float]:
    """The (offset, scale) that maps the network's [-1, 1] output back to the domain's units."""
    method = spec["method"]
    if method == "window":
        return input_range(np.empty(0), spec)
    if method == "percentile":
        low, high = spec["reference"]
        return (low + high) / 2, (high - low) / 2
    if method == "zscore":
        mean, std = spec["reference"]
        return float(mean), float(std) * float(spec["clip"])
    raise GANTranslateError(f"unknown normalisation method '{method}'")


def normalise(volume: np.ndarray, offset: float, scale: float) -> np.ndarray:
    """Map into [-1, 1] (clipped): a new C-contiguous float32 array (the input may be a read-only view)."""
    out = np.array(volume, dtype=np.float32, order="C")
    out -= np.float32(offset)
    out /= np.float32(scale)
    return np.clip(out, -1.0, 1.0, out=out)


def denormalise(volume: np.ndarray, offset: float, scale: float) -> np.ndarray:
    """Inverse of :func:`normalise` (without the clipping), in place on a float32 array."""
    volume *= np.float32(scale)
    volume += np.float32(offset)
    return volume
