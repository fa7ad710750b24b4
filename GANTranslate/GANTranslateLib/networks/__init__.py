"""Generators and discriminators by name, as a model card names them."""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from .conditional_generator import ConditionalGenerator
from .identity import IdentityGenerator
from .patch_discriminator import NLayerDiscriminator
from .residual_output import ResidualOutput
from .resnet_generator import ResnetGenerator
from .unet_generator import UnetGenerator

GENERATORS: dict[str, Callable[..., nn.Module]] = {
    "resnet_generator": ResnetGenerator,
    "unet_generator": UnetGenerator,
    "identity": IdentityGenerator,
}

__all__ = [
    "GENERATORS",
    "ConditionalGenerator",
    "IdentityGenerator",
    "NLayerDiscriminator",
    "ResidualOutput",
    "ResnetGenerator",
    "UnetGenerator",
    "build_generator",
]


def build_generator(name: str, args: dict[str, Any], num_domains: int = 0, residual_channel: int | None = None) -> nn.Module:
    """Build a generator; with ``num_domains`` > 0 it is wrapped to take the target domain as input, and
    with a ``residual_channel`` it outputs that input channel plus its prediction."""
    if name not in GENERATORS:
        raise ValueError(f"unknown architecture '{name}' (known: {', '.join(sorted(GENERATORS))})")
    try:
        backbone = GENERATORS[name](**args)
    except TypeError as error:
        raise ValueError(f"bad arguments for architecture '{name}': {error}") from None
    network = ConditionalGenerator(backbone, num_domains) if num_domains else backbone
    return network if residual_channel is None else ResidualOutput(network, residual_channel)
