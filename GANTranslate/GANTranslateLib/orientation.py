"""Bring a volume's voxel array into the anatomical orientation a model expects, and back, exactly.

Only axis permutations and flips are used (no interpolation), so the round trip is lossless and an
oblique volume is handled in its closest anatomical orientation, as radiologists read it. Codes follow
ITK/DICOM (LPS) convention: "LPS" means the first index increases towards the patient's Left, the
second towards Posterior, the third towards Superior.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Physical axis (0 = x, 1 = y, 2 = z in LPS) and sign for each code letter.
_LETTERS = {"L": (0, 1), "R": (0, -1), "P": (1, 1), "A": (1, -1), "S": (2, 1), "I": (2, -1)}


def closest_axes(direction: np.ndarray) -> list[tuple[int, int]]:
    """For each image index axis, the (physical axis, sign) it runs closest to.

    Assigns the strongest direction cosines first, so that even a 45° oblique volume gets a valid
    one-to-one assignment.
    """
    cosines = np.abs(direction)
    assigned: dict[int, tuple[int, int]] = {}
    used_physical: set[int] = set()
    for flat in np.argsort(-cosines, axis=None):
        physical, index_axis = divmod(int(flat), 3)
        if index_axis in assigned or physical in used_physical:
            continue
        sign = 1 if direction[physical, index_axis] >= 0 else -1
        assigned[index_axis] = (physical, sign)
        used_physical.add(physical)
    return [assigned[i] for i in range(3)]


def orientation_code(direction: np.ndarray) -> str:
    """The three-letter code of a direction matrix (3×3, columns are the index axes)."""
    names = {v: k for k, v in _LETTERS.items()}
    return "".join(names[axis] for axis in closest_axes(direction))


@dataclass(frozen=True)
class Reorientation:
    """How to turn an index-ordered (x, y, z) array into the target orientation.

    ``source_axis[t]`` is the input index axis that becomes target axis t; ``flip[t]`` says whether it
    runs the other way.
    """

    source_axis: tuple[int, int, int]
    flip: tuple[bool, bool, bool]

    @classmethod
    def between(cls, direction: np.ndarray, target_code: str) -> "Reorientation":
        current = closest_axes(direction)
        source_axis, flip = [], []
        for letter in target_code:
            physical, sign = _LETTERS[letter]
            index_axis = next(i for i, (p, _) in enumerate(current) if p == physical)
            source_axis.append(index_axis)
            flip.append(current[index_axis][1] != sign)
        return cls(tuple(source_axis), tuple(flip))

    def apply_zyx(self, array: np.ndarray) -> np.ndarray:
        """Reorient an array in SimpleITK's (z, y, x) order; returns a view where possible."""
        xyz = array.transpose(2, 1, 0).transpose(self.source_axis)
        flips = tuple(t for t in range(3) if self.flip[t])
        return np.flip(xyz, flips).transpose(2, 1, 0) if flips else xyz.transpose(2, 1, 0)

    def invert_zyx(self, array: np.ndarray) -> np.ndarray:
        """Undo :meth:`apply_zyx` exactly."""
        xyz = array.transpose(2, 1, 0)
        flips = tuple(t for t in range(3) if self.flip[t])
        if flips:
            xyz = np.flip(xyz, flips)
        return xyz.transpose(np.argsort(self.source_axis)).transpose(2, 1, 0)

    def spacing(self, spacing_xyz: tuple[float, float, float]) -> tuple[float, float, float]:
        """Voxel spacing along the target axes."""
        return tuple(float(spacing_xyz[a]) for a in self.source_axis)  # type: ignore[return-value]


AXIS_LETTERS = {"axial": "SI", "coronal": "PA", "sagittal": "LR"}


def numpy_axis(orientation: str, letters: str) -> int:
    """The numpy (z, y, x) axis that runs along the anatomical direction ``letters`` (e.g. 'LR') in an array
    of this orientation (e.g. 'LPS', whose x runs left-right)."""
    return 2 - next(i for i, letter in enumerate(orientation) if letter in letters)


def slice_numpy_axis(orientation: str, axis: str) -> int:
    """The numpy (z, y, x) axis along which ``axis`` slices (axial, coronal, sagittal) are taken."""
    return numpy_axis(orientation, AXIS_LETTERS[axis])
