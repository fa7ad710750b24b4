"""Light augmentation applied identically to every image of a sample (pairs stay aligned)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def augment(images: list[torch.Tensor], spec: dict[str, Any], rng: np.random.Generator, fills: list[float]) -> list[torch.Tensor]:
    """``images``: (C, H, W) or (C, D, H, W) tensors on one grid. Spatial changes hit all; intensity, the first."""
    if not spec.get("enabled", True):
        return images
    dims = images[0].dim() - 1
    if spec.get("flip_left_right", True) and rng.random() < 0.5:
        images = [torch.flip(x, dims=(-1,)) for x in images]
    angle = math.radians(rng.uniform(-1, 1) * float(spec.get("rotate_degrees", 0)))
    scale = 1 + rng.uniform(-1, 1) * float(spec.get("scale", 0))
    if angle or scale != 1:
        images = [_affine(x, angle, scale, dims, fill) for x, fill in zip(images, fills)]
    amount = float(spec.get("intensity", 0))
    if amount:
        gain, shift = 1 + rng.uniform(-amount, amount), rng.uniform(-amount, amount)
        images[0] = torch.clamp(images[0] * gain + shift, -1, 1)
    return images


def _affine(x: torch.Tensor, angle: float, scale: float, dims: int, fill: float) -> torch.Tensor:
    """Rotate in the in-plane (last two) axes and scale, about the centre; outside becomes ``fill``."""
    c, s = math.cos(angle) / scale, math.sin(angle) / scale
    if dims == 2:
        theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype)
    else:
        theta = torch.tensor([[c, -s, 0.0, 0.0], [s, c, 0.0, 0.0], [0.0, 0.0, 1 / scale, 0.0]], dtype=x.dtype)
    grid = F.affine_grid(theta[None], [1, *x.shape], align_corners=False)
    shifted = x[None] - fill  # sample in a frame where the fill value is zero
    return F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0] + fill
