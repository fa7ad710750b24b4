"""What the training loop needs from a GAN: two losses, two parameter groups, one generator to ship.

``forward(mode, ...)`` dispatches to the generator or discriminator pass, so that one
DistributedDataParallel wrapper sees exactly one forward and one backward per optimiser step.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from GANTranslateLib.intensity_prior import BINS, with_prior
from GANTranslateLib.model_card import residual_base_channel
from GANTranslateLib.networks import NLayerDiscriminator, build_generator

from ..losses import AdversarialLoss, SSIMLoss, gradient_difference, gradient_penalty


def set_requires_grad(networks: list[nn.Module], flag: bool) -> None:
    for network in networks:
        for parameter in network.parameters():
            parameter.requires_grad_(flag)


class GANModel(nn.Module):
    OPTIONS: dict = {}  # the config options of one model, beside config.DEFAULTS (each model class sets its own)

    @staticmethod
    def check(config: dict, fail) -> None:
        """Check the model's own options; ``fail(message)`` raises."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = config
        self.dims = config["data"]["dims"]
        self.adversarial = AdversarialLoss(config["loss"]["gan"])
        self.adversarial_weight = float(config["loss"]["adversarial"])
        self.ssim = SSIMLoss(self.dims) if config["loss"]["ssim"] else None
        self.prior_domains: list[str] = []

    # --- the intensity prior (GANTranslateLib/intensity_prior.py) -------------------------
    def init_prior(self, domains: list[str]) -> int:
        """Hold one look-up table per (source, target) pair when the config asks for the prior; returns
        the extra generator input channels it needs (0 or 1)."""
        if not self.config["data"].get("intensity_prior"):  # an option of pix2pix and unified only
            return 0
        self.prior_domains = list(domains)
        self.register_buffer("prior_tables", torch.zeros(len(domains), len(domains), BINS))  # saved with the model
        return 1

    def set_prior(self, tables: dict[str, np.ndarray]) -> None:
        """Tables keyed 'SOURCE->TARGET', learned on the training pairs (preprocessing.fit_prior_tables)."""
        for key, table in tables.items():
            source, target = key.split("->")
            self.prior_tables[self.prior_domains.index(source), self.prior_domains.index(target)] = torch.as_tensor(table)

    def prior_for_card(self, directions: list[list[str]]) -> dict[str, list[float]] | None:
        if not self.prior_domains:
            return None
        index = self.prior_domains.index
        return {f"{s}->{t}": self.prior_tables[index(s), index(t)].tolist() for s, t in directions}

    def generator_input(self, x: Tensor, source: Tensor | int, target: Tensor | int) -> Tensor:
        """``x`` with the prior channel appended (when the model has one); source and target are domain
        indices into ``prior_domains``, one per batch item or one for the batch."""
        if not self.prior_domains:
            return x
        return with_prior(x, self.prior_tables[source, target])

    # --- construction helpers -------------------------------------------------------------
    def generator_args(self, input_nc: int) -> dict[str, Any]:
        args = dict(self.config["network"]["generator"]["args"])
        args.update(input_nc=input_nc, output_nc=1, spatial_dims=self.dims)
        return args

    def make_generator(self, input_nc: int, num_domains: int = 0, image_channels: int = 1) -> nn.Module:
        """``input_nc``: every channel the backbone sees; the image channels come first, then the prior."""
        spec = self.config["network"]["generator"]
        residual = residual_base_channel(spec["residual"], image_channels)
        return build_generator(spec["name"], self.generator_args(input_nc), num_domains, residual)

    def make_discriminator(self, input_nc: int, num_domains: int = 0) -> NLayerDiscriminator:
        spec = self.config["network"]["discriminator"]
        return NLayerDiscriminator(input_nc=input_nc, ndf=spec["ndf"], n_layers=spec["n_layers"], norm=spec["norm"],
                                   spatial_dims=self.dims, num_domains=num_domains)

    # --- shared loss pieces ---------------------------------------------------------------
    def image_losses(self, fake: Tensor, real: Tensor) -> dict[str, Tensor]:
        """Optional edge and SSIM terms, already weighted."""
        weights = self.config["loss"]
        terms = {}
        if weights["edge"]:
            terms["edge"] = weights["edge"] * gradient_difference(fake, real)
        if self.ssim is not None:
            terms["ssim"] = weights["ssim"] * self.ssim(fake, real)
        return terms

    def critic_loss(self, critic: nn.Module, real_in: Tensor, fake_in: Tensor) -> Tensor:
        loss = self.adversarial.discriminator(critic(real_in), critic(fake_in))
        if self.adversarial.kind == "wgan-gp":
            loss = loss + self.config["loss"]["gradient_penalty"] * gradient_penalty(critic, real_in, fake_in)
        return loss

    # --- the interface the loop uses ------------------------------------------------------
    def forward(self, mode: str, batch: dict[str, Tensor], fakes: Any = None, rng: np.random.Generator | None = None):
        if mode == "generator":
            return self.generator_pass(batch)
        return self.discriminator_pass(batch, fakes, rng)

    def generator_pass(self, batch: dict[str, Tensor]):  # -> (loss, logs, fakes)
        raise NotImplementedError

    def discriminator_pass(self, batch: dict[str, Tensor], fakes: Any, rng: np.random.Generator | None):
        raise NotImplementedError

    # Defaults for models with one generator and one discriminator (pix2pix, unified); CycleGAN overrides.
    def generator_networks(self) -> list[nn.Module]:
        return [self.generator]

    def discriminator_networks(self) -> list[nn.Module]:
        return [self.discriminator]

    def export_generator(self) -> nn.Module:
        """The network that goes into the model package."""
        return self.generator

    def translate(self, batch: dict[str, Tensor]) -> Tensor:
        """Synthetic target for a batch, for image grids."""
        raise NotImplementedError

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict, device: torch.device) -> None:
        pass

    @staticmethod
    def logs(**terms: Tensor) -> dict[str, float]:
        return {k: float(v.detach()) for k, v in terms.items()}
