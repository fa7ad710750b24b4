"""The three GANs the trainer offers."""
from __future__ import annotations

from GANTranslateLib.errors import GANTranslateError

from .base import GANModel
from .cyclegan import CycleGAN
from .pix2pix import Pix2Pix
from .unified import UnifiedGAN


def build_model(config: dict, domains: list[str]) -> GANModel:
    name = config["model"]
    if name in ("cyclegan", "unified") and config["data"]["adjacent"]:
        raise GANTranslateError(f"{name} feeds generated images back into a generator, so data.adjacent must be 0")
    if name == "pix2pix":
        return Pix2Pix(config)
    if name == "cyclegan":
        return CycleGAN(config)
    return UnifiedGAN(config, domains)


__all__ = ["GANModel", "build_model"]
