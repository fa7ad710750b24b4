"""Which preprocessing world a brain MR scan comes from: skull-stripped (most research data, BraTS kind) or
with the skull (most clinical data). A model trained on one world maps the other badly, so the trainer counts
both worlds in the card's input profile and the input guard names a mismatch either way.

The test: a skull-stripped scan is surrounded by one constant value (the stripping's fill, usually 0); a
scan with the skull by air noise. So in a shell 2-5 mm outside the head or brain (Otsu's foreground, holes
filled), the share of voxels holding the shell's most common exact value is high for a stripped scan
(0.40-1.0 on the project's whole-head and whole-brain scans) and low for a raw one (at most 0.23, the
zero-padding of an oblique field of view included). A crop through the brain has little such shell and
can score low: a known limit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .intensity import foreground_mask

SHELL_MM = (2.0, 5.0)
STRIPPED_SHARE = 0.35  # between the raw scans' highest share (0.23) and the stripped scans' lowest (0.40)
MIN_SHELL_VOXELS = 50


def skull_stripped_share(voxels: np.ndarray, spacing: Sequence[float]) -> float | None:
    """The share of the shell outside the foreground holding its most common value; None when the volume
    has no such shell (the head or brain fills the field of view)."""
    from scipy import ndimage

    values = np.asarray(voxels, dtype=np.float32)
    step = 2 if values.size > 4_000_000 else 1
    values = values[::step, ::step, ::step]
    foreground = ndimage.binary_fill_holes(foreground_mask(values, "otsu"))
    if not foreground.any() or foreground.all():
        return None
    depth = ndimage.distance_transform_edt(~foreground, sampling=[step * float(s) for s in spacing[::-1]])
    shell = values[(depth > SHELL_MM[0]) & (depth <= SHELL_MM[1])]
    if shell.size < MIN_SHELL_VOXELS:
        return None
    _, counts = np.unique(shell, return_counts=True)
    return float(counts.max() / shell.size)


def looks_skull_stripped(voxels: np.ndarray, spacing: Sequence[float]) -> bool | None:
    share = skull_stripped_share(voxels, spacing)
    return None if share is None else share >= STRIPPED_SHARE
