"""Intensity normalisation into the network's [-1, 1] range and back, as a model card describes it.

Four methods, each per domain:
- ``window``: a fixed range (CT in HU), exactly invertible;
- ``percentile``: the input's own low/high percentiles inside a foreground mask (or a ``fixed_low``
  such as 0, so that dark tissue like CSF is never clipped onto the background value); outputs map
  back onto the ``reference`` range measured on the training data (MR, arbitrary scanner units);
- ``zscore``: mean/std inside the mask, clipped at ``clip`` standard deviations; outputs map back with
  the ``reference`` mean and std;
- ``histogram``: Nyúl–Udupa histogram standardisation. The input's foreground ``percentiles`` map
  piecewise linearly onto standard ``landmarks`` learned on the training subjects (0 onto -1), so
  that one tissue lands on one normalised value whichever scanner made the image; outputs map back
  through the training subjects' mean percentiles (``reference``).

Every method gives an :class:`IntensityMap`, a monotonic piecewise-linear map (two points for the
linear methods), used the same way by the engine, the evaluator and the trainer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import GANTranslateError

Spec = Mapping[str, Any]
TOP_LANDMARK = 0.6  # histogram: where the highest percentile of a training subject lands (room for brighter lesions)


@dataclass(frozen=True)
class IntensityMap:
    """Units -> normalised through ``points`` -> ``values`` (increasing; the first value is -1, the last 1)."""
    points: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def linear(cls, offset: float, scale: float) -> "IntensityMap":
        """normalised = (x - offset) / scale."""
        return cls((float(offset - scale), float(offset + scale)), (-1.0, 1.0))

    @classmethod
    def through(cls, points: Sequence[float], values: Sequence[float]) -> "IntensityMap":
        """Through the given points, extended with the end segments' slopes until they reach -1 and 1."""
        p, v = np.asarray(points, float), np.asarray(values, float)
        if np.any(np.diff(p) <= 0) or np.any(np.diff(v) <= 0):
            raise GANTranslateError("the volume's intensities are constant; it cannot be translated")
        if v[0] > -1:
            p = np.r_[p[0] - (v[0] + 1) * (p[1] - p[0]) / (v[1] - v[0]), p]
            v = np.r_[-1.0, v]
        if v[-1] < 1:
            p = np.r_[p, p[-1] + (1 - v[-1]) * (p[-1] - p[-2]) / (v[-1] - v[-2])]
            v = np.r_[v, 1.0]
        return cls(tuple(float(x) for x in p), tuple(float(x) for x in v))

    @property
    def is_linear(self) -> bool:
        return len(self.points) == 2

    @property
    def offset(self) -> float:
        return (self.points[0] + self.points[-1]) / 2

    @property
    def scale(self) -> float:
        """Units per normalised unit (for a linear map; the mean slope otherwise)."""
        return (self.points[-1] - self.points[0]) / 2

    def normalise(self, volume: np.ndarray) -> np.ndarray:
        """Into [-1, 1] (clipped): a new C-contiguous float32 array (the input may be a read-only view)."""
        if self.is_linear:
            return normalise(volume, self.offset, self.scale)
        out = np.interp(np.asarray(volume, np.float32), self.points, self.values).astype(np.float32)
        return np.ascontiguousarray(out)

    def denormalise(self, volume: np.ndarray) -> np.ndarray:
        """Back into units, in place on a float32 array (a linear map is not clipped)."""
        if self.is_linear:
            return denormalise(volume, self.offset, self.scale)
        volume[...] = np.interp(volume, self.values, self.points)
        return volume

    def to_json(self) -> list[list[float]]:
        return [list(self.points), list(self.values)]

    @classmethod
    def from_json(cls, data: Sequence[Sequence[float]]) -> "IntensityMap":
        return cls(tuple(float(x) for x in data[0]), tuple(float(x) for x in data[1]))


def foreground_mask(volume: np.ndarray, how: str = "nonzero") -> np.ndarray:
    """Voxels that belong to the subject, for intensity statistics. ``core``: Otsu's foreground within the
    central half of its bounding box, so that a head with its skull and scalp and a skull-stripped brain
    are both measured on the brain (scalp fat would otherwise set a skull-on scan's top percentile)."""
    if how == "all":
        return np.ones(volume.shape, dtype=bool)
    if how == "nonzero":
        return volume != 0
    if how in ("otsu", "core"):
        from skimage.filters import threshold_otsu

        if np.ptp(volume) == 0:
            return np.zeros(volume.shape, dtype=bool)
        mask = volume > threshold_otsu(volume)
        return central_half(mask) if how == "core" else mask
    raise GANTranslateError(f"unknown foreground mask '{how}' (use nonzero, otsu, core or all)")


def central_half(mask: np.ndarray) -> np.ndarray:
    """The mask within the central half (along each axis) of its bounding box."""
    found = np.nonzero(mask)
    if not found[0].size:
        return mask
    box = tuple(slice(int(lo + 0.25 * (hi - lo)), int(hi - 0.25 * (hi - lo)) + 1)
                for lo, hi in ((axis.min(), axis.max()) for axis in found))
    core = np.zeros_like(mask)
    core[box] = mask[box]
    return core


def foreground_values(volume: np.ndarray, spec: Spec) -> np.ndarray:
    values = volume[foreground_mask(volume, spec.get("mask", "nonzero"))]
    if values.size == 0:
        raise GANTranslateError(
            "the volume has no foreground voxels for intensity normalisation (it is empty or all zero); "
            "check that the right volume was chosen"
        )
    return values


def input_map(volume: np.ndarray, spec: Spec) -> IntensityMap:
    """The map that brings this volume into [-1, 1] as ``spec`` (a card's normalisation entry) says."""
    method = spec["method"]
    if method == "window":
        low, high = float(spec["min"]), float(spec["max"])
        return IntensityMap.linear((low + high) / 2, (high - low) / 2)
    if method not in ("percentile", "zscore", "histogram"):
        raise GANTranslateError(f"unknown normalisation method '{method}'")
    values = foreground_values(volume, spec)
    if method == "percentile":
        high = float(np.percentile(values, spec["high"]))
        low = float(spec["fixed_low"]) if "fixed_low" in spec else float(np.percentile(values, spec.get("low", 0)))
        if high <= low:
            raise GANTranslateError("the volume's intensities are constant; it cannot be translated")
        return IntensityMap.linear((low + high) / 2, (high - low) / 2)
    if method == "zscore":
        std = float(values.std())
        if std == 0:
            raise GANTranslateError("the volume's intensities are constant; it cannot be translated")
        return IntensityMap.linear(float(values.mean()), std * float(spec["clip"]))
    points = histogram_points(values, spec)
    return IntensityMap.through(points, [-1.0, *spec["landmarks"]])


def histogram_points(foreground: np.ndarray, spec: Spec) -> list[float]:
    """A volume's histogram-standardisation points: 0, then its foreground percentiles. Percentiles that
    coincide (a clipped top, coarse integer intensities) are moved apart by a hair of the range, so the
    map stays strictly increasing."""
    points = np.array([0.0, *np.percentile(foreground, spec["percentiles"])])
    if points[-1] <= 0:
        raise GANTranslateError(
            "the volume's foreground intensities are not positive, which histogram standardisation needs; "
            "check that the right volume was chosen"
        )
    hair = 1e-6 * points[-1]
    for i in range(1, len(points)):
        points[i] = max(points[i], points[i - 1] + hair)
    return points.tolist()


def learn_landmarks(foregrounds: Sequence[np.ndarray], percentiles: Sequence[float]) -> tuple[list[float], list[float]]:
    """Nyúl–Udupa training: each subject's percentiles, scaled so that 0 -> -1 and its highest percentile
    -> TOP_LANDMARK, averaged into the standard landmarks; and the mean percentiles in units (the
    reference that outputs map back through)."""
    spec = {"percentiles": list(percentiles)}
    raw = np.asarray([histogram_points(values, spec)[1:] for values in foregrounds])
    scaled = -1 + (TOP_LANDMARK + 1) * raw / raw[:, -1:]
    return scaled.mean(axis=0).tolist(), raw.mean(axis=0).tolist()


def input_range(volume: np.ndarray, spec: Spec) -> tuple[float, float]:
    """The (offset, scale) of a linear method: normalised = (x - offset) / scale."""
    mapping = input_map(volume, spec)
    return mapping.offset, mapping.scale


def output_map(spec: Spec) -> IntensityMap:
    """The map between the network's [-1, 1] output and the domain's units."""
    method = spec["method"]
    if method == "window":
        return input_map(np.empty(0), spec)
    if method == "percentile":
        low, high = spec["reference"]
        return IntensityMap.linear((low + high) / 2, (high - low) / 2)
    if method == "zscore":
        mean, std = spec["reference"]
        return IntensityMap.linear(float(mean), float(std) * float(spec["clip"]))
    if method == "histogram":
        return IntensityMap.through([0.0, *spec["reference"]], [-1.0, *spec["landmarks"]])
    raise GANTranslateError(f"unknown normalisation method '{method}'")


def output_range(spec: Spec) -> tuple[float, float]:
    mapping = output_map(spec)
    return mapping.offset, mapping.scale


def keeps_zero_background(spec: Spec) -> bool:
    """MR normalisations read voxels that are exactly 0 as 'no data' (outside a skull-stripped brain, or the
    field of view): the output keeps them as background."""
    return spec["method"] != "window" and spec.get("mask", "nonzero") in ("nonzero", "otsu", "core")


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
