"""Model packages made on the fly for the benchmark: a card for any architecture and seeded weights."""
from __future__ import annotations

from pathlib import Path

import torch

from GANTranslateLib.model_card import parse_card
from GANTranslateLib.model_package import ModelPackage
from GANTranslateLib.networks import build_generator


def random_card(arch: str, args: dict, patch: tuple | None = None) -> dict:
    """A two-domain card with a fixed intensity window: slice-wise, or patch-wise with ``patch``."""
    card = {"schema_version": 1, "id": f"bench-{arch}", "version": "1.0.0", "name": arch, "task": "translation",
            "domains": ["A", "B"], "directions": [["A", "B"]], "architecture": {"name": arch, "args": args},
            "mode": "3d" if patch else "2d", "spacing": None, "orientation": "LPS", "license": "n/a",
            "normalization": {d: {"method": "window", "min": 0, "max": 1000} for d in ("A", "B")}}
    if patch:
        card["patch"] = {"size": list(patch), "overlap": 0.25}
    else:
        card["slice"] = {"axis": "axial"}
    return card


def random_network(arch: str, args: dict, patch: tuple | None = None) -> tuple[ModelPackage, torch.nn.Module]:
    """The package (card only; the weights are passed to the engine directly) and a seeded network."""
    torch.manual_seed(0)
    return ModelPackage(Path("."), parse_card(random_card(arch, args, patch))), build_generator(arch, args).eval()
