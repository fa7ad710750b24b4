"""Adversarial losses (LSGAN, vanilla, hinge, WGAN-GP) and the optional image losses."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AdversarialLoss:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        """Loss of the discriminator's logits on real and (detached) fake images."""
        if self.kind == "lsgan":
            return 0.5 * (F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake)))
        if self.kind == "vanilla":
            return 0.5 * (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                          + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        if self.kind == "hinge":
            return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return fake.mean() - real.mean()  # wgan-gp (the penalty is added by the caller)

    def generator(self, fake: Tensor) -> Tensor:
        """Loss of the generator: make the discriminator call its images real."""
        if self.kind == "lsgan":
            return F.mse_loss(fake, torch.ones_like(fake))
        if self.kind == "vanilla":
            return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
        return -fake.mean()  # hinge and wgan-gp


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): unit gradient norm on random interpolates."""
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    (gradients,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((gradients.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gradient_difference(fake: Tensor, real: Tensor) -> Tensor:
    """Edge loss: L1 between the finite differences of both images along every spatial axis."""
    total = fake.new_zeros(())
    for axis in range(2, fake.dim()):
        total = total + F.l1_loss(torch.diff(fake, dim=axis), torch.diff(real, dim=axis))
    return total


class SSIMLoss(nn.Module):
    """1 − SSIM on [-1, 1] images, using MONAI's implementation (2D or 3D)."""

    def __init__(self, spatial_dims: int) -> None:
        super().__init__()
        from monai.losses import SSIMLoss as MonaiSSIMLoss

        self.loss = MonaiSSIMLoss(spatial_dims=spatial_dims, data_range=2.0, win_size=7)

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return self.loss(fake.float(), real.float())
