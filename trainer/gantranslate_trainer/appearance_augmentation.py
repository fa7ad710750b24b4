"""Source appearance augmentation: random monotonic intensity curves, gamma, bias field, noise and blur.

Why: trained on a few scanners, a network can learn each one's histogram instead of the anatomy, and
then fail on the next scanner. Changing how the *source* looks, never the target, teaches it that the
same anatomy may come with other intensities, smoothness and shading. MONAI's transforms do the work;
they act on the source scaled to [0, 1], and background (normalised -1: outside a skull-stripped brain
or the field of view) stays exactly background, as inference sees it.
"""
from __future__ import annotations

import numpy as np
import torch
from monai.transforms import (Compose, RandAdjustContrast, RandBiasField, RandGaussianNoise, RandGaussianSmooth,
                              RandHistogramShift)


def appearance_transforms(probability: float) -> Compose:
    """Each transform applied with ``probability``, in the order a scanner would: contrast, shading, blur, noise."""
    return Compose([
        RandHistogramShift(num_control_points=(4, 8), prob=probability),  # a random monotonic intensity curve
        RandAdjustContrast(gamma=(0.6, 1.6), prob=probability),
        RandBiasField(degree=3, coeff_range=(0.0, 0.2), prob=probability),
        RandGaussianSmooth(sigma_x=(0.0, 1.0), sigma_y=(0.0, 1.0), prob=probability),  # anisotropic: thicker slices
        RandGaussianNoise(std=0.03, prob=probability),
    ])


def augment_appearance(source: torch.Tensor, transforms: Compose, rng: np.random.Generator) -> torch.Tensor:
    """``source``: (C, H, W) or (C, D, H, W) in [-1, 1]; the transforms draw from a generator seeded by ``rng``,
    so a sample is the same whenever it is drawn again (resumed runs)."""
    transforms.set_random_state(seed=int(rng.integers(2**31)))
    background = source <= -1
    unit = (source + 1) / 2
    changed = torch.as_tensor(transforms(unit), dtype=source.dtype).clamp(0, 1)
    out = changed * 2 - 1
    out[background] = -1
    return out
