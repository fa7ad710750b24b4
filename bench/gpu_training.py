"""Trainer throughput for bench/gpu.py: the trainer's own optimisation step (generator, then discriminator,
mixed precision through its GradScaler) at a batch size, in steps and images per second."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from gantranslate_trainer.config import load_config
from gantranslate_trainer.models import build_model
from gantranslate_trainer.training import make_optimisers, optimisation_step

from gpu_measure import synchronize

CLASSIC = [
    ("pix2pix, U-Net-256 (ngf 64)", "pix2pix", {"name": "unet_generator", "args": {"num_downs": 8, "ngf": 64, "norm": "batch"}},
     {"ndf": 64, "n_layers": 3, "norm": "batch"}),
    ("CycleGAN, ResNet-9 (ngf 64)", "cyclegan", {"name": "resnet_generator", "args": {"ngf": 64, "n_blocks": 9,
                                                                                       "norm": "instance"}},
     {"ndf": 64, "n_layers": 3, "norm": "instance"}),
]
TINY = [
    ("pix2pix, U-Net (ngf 2, 6 downs)", "pix2pix", {"name": "unet_generator", "args": {"num_downs": 6, "ngf": 2, "norm": "batch"}},
     {"ndf": 2, "n_layers": 2, "norm": "batch"}),
    ("CycleGAN, ResNet (ngf 2, 1 block)", "cyclegan", {"name": "resnet_generator", "args": {"ngf": 2, "n_blocks": 1,
                                                                                             "norm": "instance"}},
     {"ndf": 2, "n_layers": 2, "norm": "instance"}),
]
CARD_ONLY_ARGS = ("input_nc", "output_nc", "spatial_dims")  # the trainer sets these from the data


def training_setups(plan, cards: Path) -> list[tuple[str, str, dict, dict]]:
    """The classic full-size setups, and pix2pix with the generator of the bundled translation models (the
    first card without a residual connection, as the bundled T1 -> T2 model)."""
    setups = list(TINY if plan.tiny else CLASSIC)
    for path in sorted(cards.glob("*/model.json")):
        card = json.loads(path.read_text(encoding="utf-8"))
        architecture = card["architecture"]
        if "residual" not in architecture and card.get("conditioning", "none") == "none":
            args = {k: v for k, v in architecture["args"].items() if k not in CARD_ONLY_ARGS}
            if plan.tiny:
                args["ngf"] = 2  # the card's architecture at a width the tiny run can afford
            setups.append((f"pix2pix, the generator of {card['id']}", "pix2pix", {"name": architecture["name"], "args": args},
                           {"ndf": 2 if plan.tiny else 64, "n_layers": 3, "norm": args.get("norm", "instance")}))
            break
    return setups


def training_rate(model: str, generator: dict, discriminator: dict, size: int, batch: int, amp: bool,
                  device: torch.device, steps: int) -> dict:
    """Seconds per trainer step after two warm-up steps, and the rates they give."""
    torch.manual_seed(0)
    config = load_config(None, [f"model={model}", "data.root=not-read-by-the-benchmark", "data.source=A",
                                "data.target=B", f"data.crop=[{size},{size}]", f"network.generator={json.dumps(generator)}",
                                f"network.discriminator={json.dumps(discriminator)}", f"train.batch_size={batch}",
                                *(["train.pool_size=0"] if model == "cyclegan" else [])])
    gan = build_model(config, ["A", "B"]).to(device).train()
    a, b = (torch.rand(batch, 1, size, size, device=device) * 2 - 1 for _ in range(2))
    opt_g, opt_d = make_optimisers(gan, config["train"])
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    rng = np.random.default_rng(0)

    def step() -> None:
        optimisation_step(gan, {"source": a, "target": b}, opt_g, opt_d, scaler, rng, device.type, amp)

    for _ in range(2):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    return {"step_s": seconds, "steps_per_s": 1 / seconds, "images_per_s": batch / seconds}
