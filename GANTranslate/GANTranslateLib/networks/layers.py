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


UPSAMPLING = ("transposed", "nearest", "linear")


def check_upsample(upsample: str) -> None:
    if upsample not in UPSAMPLING:
        raise ValueError(f"upsample must be one of {', '.join(UPSAMPLING)}, not {upsample!r}")


def resize_conv(in_channels: int, out_channels: int, spatial_dims: int, mode: str, bias: bool = True) -> nn.Module:
    """Double the size by interpolation ('nearest' or 'linear'), then a 3x3 convolution: unlike a stride-2
    transposed convolution, every output voxel gets the same number of kernel taps, so no period-2
    (checkerboard) texture is built in (Odena et al., Distill 2016)."""
    interpolation = "nearest" if mode == "nearest" else {2: "bilinear", 3: "trilinear"}[spatial_dims]
    extra = {} if interpolation == "nearest" else {"align_corners": False}
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=interpolation, **extra),
                         conv(spatial_dims)(in_channels, out_channels, 3, padding=1, padding_mode="replicate", bias=bias))
