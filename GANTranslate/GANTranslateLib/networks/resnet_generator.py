"""ResNet generator (Johnson et al. 2016), the CycleGAN default, in 2D or 3D.

Module layout and parameter names match pytorch-CycleGAN-and-pix2pix's ``ResnetGenerator`` so that its
state dicts load unchanged (``model.<index>.…``, ``model.<index>.conv_block.<index>.…``).
"""
from __future__ import annotations

from torch import Tensor, nn

from .layers import check_spatial_dims, check_upsample, conv, conv_transpose, norm_factory, reflection_pad, resize_conv, uses_bias


class ResnetBlock(nn.Module):
    """Two 3×3 convolutions with reflection padding and a residual connection."""

    def __init__(self, channels: int, spatial_dims: int, norm: str, dropout: bool) -> None:
        super().__init__()
        Conv, Pad, Norm = conv(spatial_dims), reflection_pad(spatial_dims), norm_factory(norm, spatial_dims)
        bias = uses_bias(norm)
        layers: list[nn.Module] = [Pad(1), Conv(channels, channels, 3, bias=bias), Norm(channels), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [Pad(1), Conv(channels, channels, 3, bias=bias), Norm(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Encoder (two stride-2 convolutions), ``n_blocks`` residual blocks, decoder, tanh output in [-1, 1].
    ``upsample``: 'transposed' (the reference's, the default) or 'nearest' / 'linear' (resize, then 3x3)."""

    size_divisor = 4  # two stride-2 downsamplings

    def __init__(
        self,
        input_nc: int = 1,
        output_nc: int = 1,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        dropout: bool = False,
        spatial_dims: int = 2,
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        check_spatial_dims(spatial_dims)
        check_upsample(upsample)
        Conv, ConvT = conv(spatial_dims), conv_transpose(spatial_dims)
        Pad, Norm = reflection_pad(spatial_dims), norm_factory(norm, spatial_dims)
        bias = uses_bias(norm)
        layers: list[nn.Module] = [Pad(3), Conv(input_nc, ngf, 7, bias=bias), Norm(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2**i
            layers += [Conv(c, c * 2, 3, stride=2, padding=1, bias=bias), Norm(c * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, spatial_dims, norm, dropout) for _ in range(n_blocks)]
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            layers += [
                ConvT(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias) if upsample == "transposed"
                else resize_conv(c, c // 2, spatial_dims, upsample, bias),
                Norm(c // 2),
                nn.ReLU(True),
            ]
        layers += [Pad(3), Conv(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)
