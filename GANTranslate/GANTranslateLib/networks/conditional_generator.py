"""A generator conditioned on the target domain: one network for every contrast.

As in StarGAN and Dai et al. 2020 (unified multi-contrast GAN), the target domain is given as one-hot
channels that are constant over the image and concatenated to the input.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class ConditionalGenerator(nn.Module):
    def __init__(self, backbone: nn.Module, num_domains: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_domains = num_domains
        self.size_divisor = getattr(backbone, "size_divisor", 1)

    def forward(self, x: Tensor, target_domain: Tensor) -> Tensor:
        """``target_domain``: (N,) integer domain indices."""
        one_hot = nn.functional.one_hot(target_domain.long(), self.num_domains).to(x.dtype)
        label_maps = one_hot.view(*one_hot.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
        return self.backbone(torch.cat([x, label_maps], dim=1))
