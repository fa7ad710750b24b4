"""Training step time: the trainer's step against the same networks trained the reference way.

The reference step follows the published algorithms as pytorch-CycleGAN-and-pix2pix runs them: eager
float32, the discriminator updated on the generator's detached output, LSGAN targets, L1 weight 100
(pix2pix), cycle weight 10 and identity 0.5 (CycleGAN). Both sides start from the same weights.
"""
from __future__ import annotations

import copy
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from gantranslate_trainer.config import load_config
from gantranslate_trainer.models import build_model
from gantranslate_trainer.training import make_optimisers, optimisation_step

ADAM = dict(lr=2e-4, betas=(0.5, 0.999))


def lsgan(prediction: torch.Tensor, real: bool) -> torch.Tensor:
    return F.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


def requires_grad(networks, flag: bool) -> None:
    for network in networks:
        network.requires_grad_(flag)


def reference_pix2pix_step(g, d, opt_g, opt_d, a, b) -> None:
    fake = g(a)
    requires_grad([d], True)
    opt_d.zero_grad()
    loss_d = 0.5 * (lsgan(d(torch.cat([a, fake.detach()], 1)), False) + lsgan(d(torch.cat([a, b], 1)), True))
    loss_d.backward()
    opt_d.step()
    requires_grad([d], False)
    opt_g.zero_grad()
    loss_g = lsgan(d(torch.cat([a, fake], 1)), True) + 100.0 * F.l1_loss(fake, b)
    loss_g.backward()
    opt_g.step()


def reference_cyclegan_step(g_ab, g_ba, d_a, d_b, opt_g, opt_d, a, b) -> None:
    fake_b, fake_a = g_ab(a), g_ba(b)
    rec_a, rec_b = g_ba(fake_b), g_ab(fake_a)
    requires_grad([d_a, d_b], False)
    opt_g.zero_grad()
    loss_g = (lsgan(d_b(fake_b), True) + lsgan(d_a(fake_a), True) + 10.0 * (F.l1_loss(rec_a, a) + F.l1_loss(rec_b, b))
              + 5.0 * (F.l1_loss(g_ab(b), b) + F.l1_loss(g_ba(a), a)))
    loss_g.backward()
    opt_g.step()
    requires_grad([d_a, d_b], True)
    opt_d.zero_grad()
    loss_d = 0.5 * (lsgan(d_b(b), True) + lsgan(d_b(fake_b.detach()), False)
                    + lsgan(d_a(a), True) + lsgan(d_a(fake_a.detach()), False))
    loss_d.backward()
    opt_d.step()


def trainer_config(model: str, size: int) -> dict:
    """The classic full-size setups: pix2pix with a U-Net-256, CycleGAN with a ResNet-9 (batch 1)."""
    generator = ({"name": "unet_generator", "args": {"num_downs": 8, "ngf": 64, "norm": "batch", "dropout": False}}
                 if model == "pix2pix" else {"name": "resnet_generator", "args": {"ngf": 64, "n_blocks": 9, "norm": "instance"}})
    norm = "batch" if model == "pix2pix" else "instance"
    discriminator = {"ndf": 64, "n_layers": 3, "norm": norm}
    return load_config(None, [f"model={model}", "data.root=not-read-by-the-benchmark", "data.source=A",
                              "data.target=B", f"data.crop=[{size},{size}]", f"network.generator={json.dumps(generator)}",
                              f"network.discriminator={json.dumps(discriminator)}", "train.batch_size=1",
                              *(["train.pool_size=0"] if model == "cyclegan" else [])])


def bench_training(model: str, size: int, repeats: int) -> dict:
    torch.manual_seed(0)
    config = trainer_config(model, size)
    gan = build_model(config, ["A", "B"]).train()
    a, b = torch.rand(2, 1, 1, size, size) * 2 - 1
    batch = {"source": a, "target": b}
    opt_g, opt_d = make_optimisers(gan, config["train"])
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    rng = np.random.default_rng(0)

    def trainer_step() -> None:
        optimisation_step(gan, batch, opt_g, opt_d, scaler, rng, "cpu", False)

    if model == "pix2pix":
        g, d = copy.deepcopy(gan.generator), copy.deepcopy(gan.discriminator)
        ref_g, ref_d = torch.optim.Adam(g.parameters(), **ADAM), torch.optim.Adam(d.parameters(), **ADAM)
        reference = lambda: reference_pix2pix_step(g, d, ref_g, ref_d, a, b)  # noqa: E731
    else:
        nets = [copy.deepcopy(n) for n in (gan.generator_ab, gan.generator_ba, gan.discriminator_a, gan.discriminator_b)]
        ref_g = torch.optim.Adam([*nets[0].parameters(), *nets[1].parameters()], **ADAM)
        ref_d = torch.optim.Adam([*nets[2].parameters(), *nets[3].parameters()], **ADAM)
        reference = lambda: reference_cyclegan_step(*nets, ref_g, ref_d, a, b)  # noqa: E731
    reference_s, trainer_s = interleaved(reference, trainer_step, repeats)
    return {"model": model, "input": f"{size}x{size}, batch 1", "baseline_step_s": reference_s,
            "trainer_step_s": trainer_s, "trainer_speedup": reference_s / trainer_s}


def interleaved(first, second, repeats: int) -> tuple[float, float]:
    """Median times of two steps measured in alternation, so that drift in the machine's speed hits both."""
    first(), second()
    times: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for run, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            run()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])
