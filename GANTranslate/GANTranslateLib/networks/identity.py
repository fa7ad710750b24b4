"""A network that returns its centre input channel unchanged.

It is a real architecture of the package format, used to check the whole pipeline (I/O, orientation,
resampling, tiling, normalisation) end to end: any difference between input and output is the
pipeline's fault, never the network's.
"""
from __future__ import annotations

from torch import Tensor, nn


class IdentityGenerator(nn.Module):
    size_divisor = 1

    def __init__(self, input_nc: int = 1, output_nc: int = 1, spatial_dims: int = 2) -> None:
        super().__init__()
        if output_nc != 1:
            raise ValueError("the identity network has one output channel")
        self.centre = input_nc // 2

    def forward(self, x: Tensor) -> Tensor:
        return x[:, self.centre : self.centre + 1]
