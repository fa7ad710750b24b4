"""MAE and ME in HU of a synthetic CT per tissue, the tissue told by the real CT's HU: a mean over the whole
body hides a model that gets soft tissue right and bone wrong, which is what matters for dose and for
attenuation correction.

Classes (of the real CT, inside the mask): fat -200 to -30 HU, soft tissue (muscle) -30 to 150 HU, bone from
200 HU; 150-200 HU (partial volume between muscle and bone) and below -200 HU (air, gas) are in none.
"""
from __future__ import annotations

import numpy as np

TISSUES = {"fat": (-200.0, -30.0), "soft": (-30.0, 150.0), "bone": (200.0, float("inf"))}


def tissue_masks(real_hu: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    mask = np.asarray(mask, bool)
    return {name: mask & (real_hu >= low) & (real_hu < high) for name, (low, high) in TISSUES.items()}


def tissue_errors(synthetic_hu: np.ndarray, real_hu: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """``mae_hu_<tissue>``, ``me_hu_<tissue>`` (synthetic minus real) and ``voxels_<tissue>`` for each tissue
    present inside the mask."""
    found: dict[str, float] = {}
    for name, region in tissue_masks(real_hu, mask).items():
        if not region.any():
            continue
        difference = synthetic_hu[region].astype(np.float64) - real_hu[region]
        found[f"mae_hu_{name}"] = float(np.abs(difference).mean())
        found[f"me_hu_{name}"] = float(difference.mean())
        found[f"voxels_{name}"] = float(region.sum())
    return found
