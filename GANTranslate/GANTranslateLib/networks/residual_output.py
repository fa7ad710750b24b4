"""A generator that predicts a correction to one of its input channels rather than the whole image.

Why: where the answer is close to something the network is given, the degraded image itself for
denoising and super-resolution (as in DnCNN and VDSR), or the intensity prior for translation, a
network that starts from that image need only learn what differs, and an untrained one is already
as good as its starting point.
"""
from __future__ import annotations

from torch import Tensor, nn


class ResidualOutput(nn.Module):
    def __init__(self, inner: nn.Module, base_channel: int) -> None:
        super().__init__()
        self.inner = inner
        self.base_channel = base_channel
        self.size_divisor = getattr(inner, "size_divisor", 1)

    def forward(self, x: Tensor, *labels: Tensor) -> Tensor:
        """``x``: (B, C, ...); ``labels``: what the inner network takes besides (the target domain)."""
        return x[:, self.base_channel : self.base_channel + 1] + self.inner(x, *labels)
