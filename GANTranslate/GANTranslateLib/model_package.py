"""A model package: a folder with ``model.json`` (the card) and ``model.safetensors`` (the weights).

Safetensors holds tensors only, so loading a package never executes code from it; pickled PyTorch
files are refused outright (convert trusted ones with ``gantranslate import-pix2pix``).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from .errors import GANTranslateError
from .model_card import ModelCard, parse_card

if TYPE_CHECKING:  # torch is imported only when weights are read or written, never to list models
    import torch
    from torch import nn

CARD_NAME = "model.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class ModelPackage:
    path: Path
    card: ModelCard

    def build_network(self) -> "nn.Module":
        """The generator with its weights, in eval mode, on the CPU."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from .networks import build_generator

        card = self.card
        network = build_generator(card.architecture, card.architecture_args, len(card.domains) if card.conditional else 0,
                                  card.residual_channel)
        weights_path = self.path / WEIGHTS_NAME
        if not weights_path.is_file():
            raise GANTranslateError(f"model package {self.path} has no {WEIGHTS_NAME}; the package is incomplete")
        try:
            weights = load_file(str(weights_path))
        except (SafetensorError, OSError, ValueError) as error:
            raise GANTranslateError(
                f"{weights_path} is not a valid safetensors file ({error}); re-export the model package"
            ) from None
        check_weights_match(network, weights, weights_path)
        network.load_state_dict(weights, strict=True)
        return network.eval()


def check_weights_match(network: "nn.Module", weights: "dict[str, torch.Tensor]", where: Path | str) -> None:
    """Compare names and shapes with what the card's architecture expects, naming the first mismatch."""
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise GANTranslateError(
            f"{where}: weights do not match the card's architecture ({detail}); the card and weights belong to different models"
        )
    for name, shape in expected.items():
        if tuple(weights[name].shape) != shape:
            raise GANTranslateError(
                f"{where}: weight '{name}' has shape {tuple(weights[name].shape)} but the card's architecture needs {shape}; "
                "fix architecture.args in the card"
            )


def load_package(path: str | os.PathLike) -> ModelPackage:
    """Read and validate a package's card (weights are read later, by :meth:`ModelPackage.build_network`)."""
    path = Path(path)
    if path.is_file():
        raise GANTranslateError(
            f"{path} is a file, not a model package (a folder with {CARD_NAME} and {WEIGHTS_NAME}); "
            "PyTorch checkpoints are never unpickled: convert a trusted one with 'gantranslate import-pix2pix'"
        )
    card_path = path / CARD_NAME
    if not card_path.is_file():
        raise GANTranslateError(f"{path} is not a model package: it has no {CARD_NAME}")
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GANTranslateError(f"{card_path} is not valid JSON ({error}); fix or replace the card") from None
    return ModelPackage(path, parse_card(data, str(card_path)))


def write_card(folder: str | os.PathLike, data: dict) -> ModelCard:
    """Replace a package's card, checked first and written atomically; the weights are untouched. For
    tools that record measurements in a card (held-out scores, the fast-mode error)."""
    folder = Path(folder)
    card = parse_card(data, str(folder / CARD_NAME))
    handle, temporary = tempfile.mkstemp(prefix=f".{CARD_NAME}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(card.to_json())
        os.replace(temporary, folder / CARD_NAME)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return card


def save_package(folder: str | os.PathLike, card: ModelCard | dict, network: "nn.Module",
                 weights_dtype: str = "float32") -> ModelPackage:
    """Write a package atomically: into a temporary folder beside the target, then rename.

    ``weights_dtype="float16"`` halves the file; loading casts back to the network's float32.
    """
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    card = card if isinstance(card, ModelCard) else parse_card(card)
    dtype = {"float32": torch.float32, "float16": torch.float16}[weights_dtype]
    state = {k: (v.to(dtype) if v.is_floating_point() else v).detach().to("cpu").contiguous()
             for k, v in network.state_dict().items()}
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file(state, str(tmp / WEIGHTS_NAME), metadata={"model_id": card.id, "version": card.version})
        (tmp / CARD_NAME).write_text(card.to_json(), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_package(folder)
