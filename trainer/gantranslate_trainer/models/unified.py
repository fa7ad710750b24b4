"""One generator and one discriminator for every contrast (StarGAN; Dai et al. 2020, unified GAN).

The generator takes the image and the target-domain label. The discriminator scores realism and
classifies the domain. Losses: adversarial, domain classification, reconstruction back to the source
domain, and L1 to the real target where the subject has it (paired).
"""
from __future__ import annotations

import torch.nn.functional as F

from ..losses import gradient_penalty
from .base import GANModel, set_requires_grad


class UnifiedGAN(GANModel):
    OPTIONS = {
        "data": {"domains": None,  # every domain (default: all in dataset.json)
                 "directions": None,  # the [source, target] pairs it learns and ships (default: every pair)
                 "intensity_prior": False},  # as pix2pix's
        "loss": {"l1": 100.0,  # L1 to the target where the subject has it (paired)
                 "cycle": 10.0,  # reconstruction back to the source domain
                 "domain": 1.0},  # domain classification
    }

    @staticmethod
    def check(config: dict, fail) -> None:
        data = config["data"]
        if data["adjacent"]:
            fail("unified feeds generated images back into the generator, so data.adjacent must be 0")
        if data["directions"] is None:
            return
        if not data["domains"]:
            fail("data.directions needs data.domains, the domains the directions are drawn from")
        if not data["directions"]:
            fail("data.directions is empty: list [source, target] pairs, or leave it out for every pair")
        for pair in data["directions"]:
            if not (isinstance(pair, list) and len(pair) == 2 and pair[0] != pair[1] and set(pair) <= set(data["domains"])):
                fail(f"data.directions: {pair!r} is not a [source, target] pair of two different domains in data.domains")

    def __init__(self, config: dict, domains: list[str]) -> None:
        super().__init__(config)
        self.num_domains = len(domains)
        prior = self.init_prior(domains)
        self.generator = self.make_generator(1 + prior + self.num_domains, num_domains=self.num_domains)
        self.discriminator = self.make_discriminator(1, num_domains=self.num_domains)

    def generator_pass(self, batch):
        x, target = batch["source"], batch["target"]
        source_domain, target_domain = batch["source_domain"], batch["target_domain"]
        weights = self.config["loss"]
        set_requires_grad([self.discriminator], False)
        fake = self.generator(self.generator_input(x, source_domain, target_domain), target_domain)
        realism, domain_logits = self.discriminator.forward_with_domain(fake)
        terms = {
            "G_adv": self.adversarial_weight * self.adversarial.generator(realism),
            "G_domain": weights["domain"] * F.cross_entropy(domain_logits, target_domain),
            "reconstruction": weights["cycle"] * F.l1_loss(
                self.generator(self.generator_input(fake, target_domain, source_domain), source_domain), x),
        }
        paired = batch["paired"].view(-1, *([1] * (x.dim() - 1))).to(x.dtype)
        if weights["l1"] and bool(paired.any()):
            terms["L1_paired"] = weights["l1"] * (paired * (fake - target).abs()).sum() / (paired.sum() * fake[0].numel())
            terms.update(self.image_losses(fake[paired.flatten() > 0], target[paired.flatten() > 0]))
        return sum(terms.values()), self.logs(**terms), fake.detach()

    def discriminator_pass(self, batch, fake, rng):
        set_requires_grad([self.discriminator], True)
        real = batch["target"]
        real_realism, real_domain = self.discriminator.forward_with_domain(real)
        fake_realism = self.discriminator(fake)
        adversarial = self.adversarial.discriminator(real_realism, fake_realism)
        if self.adversarial.kind == "wgan-gp":
            adversarial = adversarial + self.config["loss"]["gradient_penalty"] * gradient_penalty(self.discriminator, real, fake)
        domain = self.config["loss"]["domain"] * F.cross_entropy(real_domain, batch["target_domain"])
        return adversarial + domain, self.logs(D_adv=adversarial, D_domain=domain)

    def translate(self, batch):
        source, target = batch["source_domain"], batch["target_domain"]
        return self.generator(self.generator_input(batch["source"], source, target), target)
