"""Dimension-agnostic layer factories, so every network exists in 2D and 3D from one definition."""
from __future__ import annotations

import functools
from typing import Callable

from torch import nn

NormFactory = Callable[[int], nn.Module]


def conv(spatial_dims: int) -> type[nn.Module]:
    return {2: nn.Conv2d, 3: nn.Conv3d}[spatial_dims]


def conv_transpose(spatial_dims: int) -> type[nn.Module]:
    return {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[spatial_dims]


def reflection_pad(spatial_dims: int) -> type[nn.Module]:
    return {2: nn.ReflectionPad2d, 3: nn.ReflectionPad3d}[spatial_dims]


def replication_pad(spatial_dims: int) -> type[nn.Module]:
    return {2: nn.ReplicationPad2d, 3: nn.ReplicationPad3d}[spatial_dims]


def norm_factory(norm: str, spatial_dims: int) -> NormFactory:
    """Return a constructor for the named normalisation ('batch', 'instance' or 'none').

    Instance norm is affine-free and keeps no running statistics, as in the pytorch-CycleGAN-and-pix2pix
    reference, so state dicts trained there load without renaming.
    """
    if norm == "batch":
        cls = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[spatial_dims]
        return functools.partial(cls, affine=True, track_running_stats=True)
    if norm == "instance":
        cls = {2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}[spatial_dims]
        return functools.partial(cls, affine=False, track_running_stats=False)
    if norm == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"unknown norm '{norm}' (use batch, instance or none)")


def uses_bias(norm: str) -> bool:
    """Batch norm has its own shift, so the convolution before it needs no bias."""
    return norm != "batch"


def check_spatial_dims(spatial_dims: int) -> None:
    if spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, not {spatial_dims}")
