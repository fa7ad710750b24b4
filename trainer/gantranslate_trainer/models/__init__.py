"""The three GANs the trainer offers, by the name a config gives (``model:``)."""
from __future__ import annotations

from .base import GANModel
from .cyclegan import CycleGAN
from .pix2pix import Pix2Pix
from .unified import UnifiedGAN

MODEL_CLASSES: dict[str, type[GANModel]] = {"pix2pix": Pix2Pix, "cyclegan": CycleGAN, "unified": UnifiedGAN}


def build_model(config: dict, domains: list[str]) -> GANModel:
    name = config["model"]
    if name == "unified":
        return UnifiedGAN(config, domains)
    return MODEL_CLASSES[name](config)


__all__ = ["GANModel", "MODEL_CLASSES", "build_model"]
