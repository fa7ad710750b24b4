"""A generator that predicts a correction to one of its input channels rather than the whole image.

Why: where the answer is close to something the network is given, the degraded image itself for
denoising and super-resolution (as in DnCNN and VDSR), or the intensity prior for translation, a
network that starts from that image need only learn what differs. The layer that makes the output
starts at zero, so an untrained network returns its starting point exactly: a randomly initialised
U-Net's output is O(1) (its normalised activations see to that), and unlearning that noise to the
precision a restoration needs took the trainer thousands of steps.
"""
from __future__ import annotations

from torch import Tensor, nn


class ResidualOutput(nn.Module):
    def __init__(self, inner: nn.Module, base_channel: int) -> None:
        super().__init__()
        self.inner = inner
        self.base_channel = base_channel
        self.size_divisor = getattr(inner, "size_divisor", 1)
        convolutions = [m for m in inner.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d))]
        output_layer = convolutions[-1]  # registered last: the layer that produces the output (U-Net and ResNet)
        nn.init.zeros_(output_layer.weight)
        if output_layer.bias is not None:
            nn.init.zeros_(output_layer.bias)

    def forward(self, x: Tensor, *labels: Tensor) -> Tensor:
        """``x``: (B, C, ...); ``labels``: what the inner network takes besides (the target domain)."""
        return x[:, self.base_channel : self.base_channel + 1] + self.inner(x, *labels)
