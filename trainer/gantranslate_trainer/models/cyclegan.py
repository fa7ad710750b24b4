"""CycleGAN (Zhu et al. 2017): two generators, two PatchGANs, cycle and identity losses, image pools."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ..image_pool import ImagePool
from .base import GANModel, set_requires_grad


class CycleGAN(GANModel):
    OPTIONS = {
        "data": {"source": None, "target": None},
        "loss": {"cycle": 10.0,  # cycle consistency
                 "identity": 0.5},  # identity loss, as a fraction of 'cycle'
        "train": {"pool_size": 50},  # image pool of past fakes for the discriminators
    }

    @staticmethod
    def check(config: dict, fail) -> None:
        if not (config["data"]["source"] and config["data"]["target"]):
            fail("cyclegan needs data.source and data.target")
        if config["data"]["adjacent"]:
            fail("cyclegan feeds generated images back into a generator, so data.adjacent must be 0")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.generator_ab = self.make_generator(1)  # source -> target: the one exported
        self.generator_ba = self.make_generator(1)
        self.discriminator_a = self.make_discriminator(1)
        self.discriminator_b = self.make_discriminator(1)
        self.pool_a = ImagePool(config["train"]["pool_size"])
        self.pool_b = ImagePool(config["train"]["pool_size"])

    def generator_pass(self, batch):
        a, b = batch["source"], batch["target"]
        weights = self.config["loss"]
        set_requires_grad([self.discriminator_a, self.discriminator_b], False)
        fake_b, fake_a = self.generator_ab(a), self.generator_ba(b)
        cycle_a = weights["cycle"] * F.l1_loss(self.generator_ba(fake_b), a)
        cycle_b = weights["cycle"] * F.l1_loss(self.generator_ab(fake_a), b)
        terms = {
            "G_adv_AB": self.adversarial_weight * self.adversarial.generator(self.discriminator_b(fake_b)),
            "G_adv_BA": self.adversarial_weight * self.adversarial.generator(self.discriminator_a(fake_a)),
            "cycle_A": cycle_a,
            "cycle_B": cycle_b,
        }
        if weights["identity"]:
            scale = weights["identity"] * weights["cycle"]
            terms["idt_A"] = scale * F.l1_loss(self.generator_ba(a), a)
            terms["idt_B"] = scale * F.l1_loss(self.generator_ab(b), b)
        loss = sum(terms.values())
        return loss, self.logs(**terms), (fake_a.detach(), fake_b.detach())

    def discriminator_pass(self, batch, fakes, rng):
        fake_a, fake_b = fakes
        set_requires_grad([self.discriminator_a, self.discriminator_b], True)
        loss_a = self.critic_loss(self.discriminator_a, batch["source"], self.pool_a.query(fake_a, rng))
        loss_b = self.critic_loss(self.discriminator_b, batch["target"], self.pool_b.query(fake_b, rng))
        return loss_a + loss_b, self.logs(D_A=loss_a, D_B=loss_b)

    def generator_networks(self) -> list[nn.Module]:
        return [self.generator_ab, self.generator_ba]

    def discriminator_networks(self) -> list[nn.Module]:
        return [self.discriminator_a, self.discriminator_b]

    def export_generator(self) -> nn.Module:
        return self.generator_ab

    def translate(self, batch):
        return self.generator_ab(batch["source"])

    def extra_state(self) -> dict:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_extra_state(self, state, device) -> None:
        self.pool_a.load_state_dict(state["pool_a"], device)
        self.pool_b.load_state_dict(state["pool_b"], device)
