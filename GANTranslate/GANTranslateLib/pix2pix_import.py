"""Turn a pytorch-CycleGAN-and-pix2pix generator checkpoint into a GANTranslate model package.

The checkpoint is read with ``torch.load(weights_only=True)``, which accepts tensors only and refuses
any pickle that would run code. Architecture names follow the reference repository's ``--netG``.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from .errors import GANTranslateError
from .model_card import SCHEMA_VERSION
from .model_package import ModelPackage, check_weights_match, save_package
from .networks import build_generator

REFERENCE_ARCHITECTURES: dict[str, tuple[str, dict[str, Any]]] = {
    "resnet_9blocks": ("resnet_generator", {"n_blocks": 9}),
    "resnet_6blocks": ("resnet_generator", {"n_blocks": 6}),
    "unet_256": ("unet_generator", {"num_downs": 8}),
    "unet_128": ("unet_generator", {"num_downs": 7}),
}


def read_state_dict(checkpoint: Path) -> dict[str, torch.Tensor]:
    if not checkpoint.is_file():
        raise GANTranslateError(f"checkpoint not found: {checkpoint} (check the path)")
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0]
        raise GANTranslateError(
            f"refused {checkpoint}: it is not a plain tensor checkpoint and loading it could run code ({first})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise GANTranslateError(f"cannot read {checkpoint} as a PyTorch checkpoint ({error})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GANTranslateError(f"{checkpoint} holds no generator state dict; give a net_G .pth file")
    # DataParallel prefixes; InstanceNorm running stats written by old reference versions.
    state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def import_pix2pix(
    checkpoint: Path,
    output: Path,
    *,
    arch: str,
    source: str,
    target: str,
    norm: str = "batch",
    ngf: int = 64,
    input_nc: int = 1,
    output_nc: int = 1,
    dropout: bool = False,
    model_id: str | None = None,
    source_normalization: dict[str, Any] | None = None,
    target_normalization: dict[str, Any] | None = None,
    axis: str = "axial",
    orientation: str = "LPS",
    license: str = "unknown (imported checkpoint; ask its author)",
    force: bool = False,
) -> ModelPackage:
    if arch not in REFERENCE_ARCHITECTURES:
        raise GANTranslateError(f"unknown --arch '{arch}' (use {', '.join(REFERENCE_ARCHITECTURES)})")
    name, extra = REFERENCE_ARCHITECTURES[arch]
    args = {"input_nc": input_nc, "output_nc": output_nc, "ngf": ngf, "norm": norm, "dropout": dropout,
            "spatial_dims": 2, **extra}
    network = build_generator(name, args)
    state = read_state_dict(checkpoint)
    if norm == "instance":
        state = {k: v for k, v in state.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    check_weights_match(network, state, f"{checkpoint} (as {arch}, norm={norm}, ngf={ngf})")
    network.load_state_dict(state)
    card = {
        "schema_version": SCHEMA_VERSION,
        "id": model_id or f"imported-{source}-to-{target}-{arch}".lower().replace("_", "-"),
        "version": "1.0.0",
        "name": f"{source} → {target} (imported pix2pix/CycleGAN {arch})",
        "description": f"Imported from {checkpoint.name}, a pytorch-CycleGAN-and-pix2pix generator checkpoint.",
        "task": "translation",
        "domains": [source, target],
        "directions": [[source, target]],
        "conditioning": "none",
        "architecture": {"name": name, "args": args},
        "mode": "2d",
        "slice": {"axis": axis, "adjacent": 0, "channel_mode": "replicate" if input_nc > 1 else "adjacent"},
        "spacing": None,
        "orientation": orientation,
        "normalization": {
            source: source_normalization or {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 255]},
            target: target_normalization or {"method": "window", "min": 0, "max": 255},
        },
        "training_data": "unknown (imported)",
        "license": license,
    }
    return save_package(output, card, network, force=force)
