"""pix2pix (Isola et al. 2017): U-Net generator, conditional PatchGAN, adversarial + L1 loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import GANModel, set_requires_grad


class Pix2Pix(GANModel):
    # the options of this model alone, merged into the config's defaults when a run names it
    OPTIONS = {
        "data": {"source": None, "target": None,
                 # feed the source mapped through a look-up table learned on the training pairs as an extra
                 # input channel (intensity_prior.py)
                 "intensity_prior": False},
        "loss": {"l1": 100.0},  # L1 to the target
    }

    @staticmethod
    def check(config: dict, fail) -> None:
        if not (config["data"]["source"] and config["data"]["target"]):
            fail("pix2pix needs data.source and data.target")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        channels = 2 * config["data"]["adjacent"] + 1 if self.dims == 2 else 1
        prior = self.init_prior([config["data"]["source"], config["data"]["target"]])
        self.generator = self.make_generator(channels + prior, image_channels=channels)
        self.discriminator = self.make_discriminator(channels + 1)  # sees (source, target or fake)

    def generator_pass(self, batch):
        source, target = batch["source"], batch["target"]
        set_requires_grad([self.discriminator], False)
        fake = self.generator(self.generator_input(source, 0, 1))
        adversarial = self.adversarial_weight * self.adversarial.generator(self.discriminator(torch.cat([source, fake], 1)))
        l1 = self.config["loss"]["l1"] * F.l1_loss(fake, target)
        extra = self.image_losses(fake, target)
        loss = adversarial + l1 + sum(extra.values())
        return loss, self.logs(G_adv=adversarial, G_L1=l1, **extra), fake.detach()

    def discriminator_pass(self, batch, fake, rng):
        set_requires_grad([self.discriminator], True)
        source, target = batch["source"], batch["target"]
        loss = self.critic_loss(self.discriminator, torch.cat([source, target], 1), torch.cat([source, fake], 1))
        return loss, self.logs(D=loss)

    def translate(self, batch):
        return self.generator(self.generator_input(batch["source"], 0, 1))
