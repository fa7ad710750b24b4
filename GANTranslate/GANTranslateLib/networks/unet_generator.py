"""U-Net generator (the pix2pix default), in 2D or 3D.

Built recursively from the innermost block outwards, with the same nesting and parameter names as
pytorch-CycleGAN-and-pix2pix's ``UnetGenerator`` (``model.model.1.model.…``), so its checkpoints load. ``upsample``: 'transposed' (the
reference's 4x4 stride-2 transposed convolutions; the default, so imported checkpoints load and match) or
'nearest' / 'linear' (resize, then a 3x3 convolution: no built-in checkerboard texture).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .layers import check_spatial_dims, check_upsample, conv, conv_transpose, norm_factory, resize_conv, uses_bias


class UnetSkipConnectionBlock(nn.Module):
    """One resolution level: downsample, run the inner levels, upsample, concatenate the skip."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        spatial_dims: int,
        norm: str,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        dropout: bool = False,
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        self.outermost = outermost
        Conv, ConvT, Norm = conv(spatial_dims), conv_transpose(spatial_dims), norm_factory(norm, spatial_dims)
        bias = uses_bias(norm)

        def up(channels_in: int, with_bias: bool) -> nn.Module:
            if upsample == "transposed":
                return ConvT(channels_in, outer_nc, 4, stride=2, padding=1, bias=with_bias)
            return resize_conv(channels_in, outer_nc, spatial_dims, upsample, with_bias)

        down_conv = Conv(input_nc or outer_nc, inner_nc, 4, stride=2, padding=1, bias=bias)
        if outermost:
            up_conv = up(inner_nc * 2, True)
            layers = [down_conv, submodule, nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            up_conv = up(inner_nc, bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, Norm(outer_nc)]
        else:
            up_conv = up(inner_nc * 2, bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, Norm(inner_nc), submodule]
            layers += [nn.ReLU(True), up_conv, Norm(outer_nc)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` stride-2 levels; input sides must be multiples of ``2**num_downs``."""

    def __init__(
        self,
        input_nc: int = 1,
        output_nc: int = 1,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "batch",
        dropout: bool = False,
        spatial_dims: int = 2,
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        check_spatial_dims(spatial_dims)
        check_upsample(upsample)
        if num_downs < 5:
            raise ValueError(f"num_downs must be at least 5, not {num_downs}")
        self.size_divisor = 2**num_downs
        kw = dict(spatial_dims=spatial_dims, norm=norm, upsample=upsample)
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, dropout=dropout, **kw)
        for mult in (4, 2, 1):
            block = UnetSkipConnectionBlock(ngf * mult, ngf * mult * 2, submodule=block, **kw)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, **kw)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)
