"""A model package: a folder with ``model.json`` (the card) and ``model.safetensors`` (the weights).

Safetensors holds tensors only, so loading a package never executes code from it; pickled PyTorch
files are refused outright (convert trusted ones with ``gantranslate import-pix2pix``).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from .atomic_files import (describe_write_error, publish_file, publish_folder, temporary_file, temporary_folder,
                           umask_mode)
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
        """The generator with its weights, in eval mode, on the CPU. The card's architecture is first built
        without memory (PyTorch's meta device) and compared with the shapes in the weights file's header,
        so a card that does not match its weights fails before anything large is allocated."""
        import torch
        from safetensors.torch import load_file

        from .networks import build_generator

        card = self.card
        weights_path = self.path / WEIGHTS_NAME
        if not weights_path.is_file():
            raise GANTranslateError(f"model package {self.path} has no {WEIGHTS_NAME}; the package is incomplete")
        arguments = (card.architecture, card.architecture_args, len(card.domains) if card.conditional else 0,
                     card.residual_channel)
        try:
            with torch.device("meta"):
                check_weights_match(build_generator(*arguments), stored_shapes(weights_path), weights_path)
            weights = load_file(str(weights_path))
            network = build_generator(*arguments)
        except (ValueError, RuntimeError) as error:
            raise GANTranslateError(f"{self.path}: the card's architecture cannot be built ({error}); fix architecture.args") from None
        check_weights_match(network, weights, weights_path)
        network.load_state_dict(weights, strict=True)
        return network.eval()


def stored_shapes(weights_path: Path) -> "dict[str, torch.Size]":
    """Tensor names and shapes from a safetensors file's header, without reading the tensors."""
    import torch
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights_path), framework="pt") as handle:
            return {name: torch.Size(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise GANTranslateError(
            f"{weights_path} is not a valid safetensors file ({error}); re-export the model package"
        ) from None


def check_weights_match(network: "nn.Module", weights: "dict[str, torch.Tensor | torch.Size]", where: Path | str) -> None:
    """Compare names and shapes (of tensors, or shapes alone) with what the card's architecture expects,
    naming the first mismatch."""
    shapes = {k: tuple(getattr(v, "shape", v)) for k, v in weights.items()}
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise GANTranslateError(
            f"{where}: weights do not match the card's architecture ({detail}); the card and weights belong to different models"
        )
    for name, shape in expected.items():
        if shapes[name] != shape:
            raise GANTranslateError(
                f"{where}: weight '{name}' has shape {shapes[name]} but the card's architecture needs {shape}; "
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
        data = json.loads(card_path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GANTranslateError(f"{card_path} is not valid JSON ({error}); fix or replace the card") from None
    except ValueError as error:
        raise GANTranslateError(f"{card_path}: {error}; every number in a card must be finite: fix the card") from None
    return ModelPackage(path, parse_card(data, str(card_path)))


def _refuse_constant(name: str) -> float:
    """JSON has no NaN or Infinity; Python's reader accepts them unless told otherwise."""
    raise ValueError(f"the card holds {name}")


def write_card(folder: str | os.PathLike, data: dict) -> ModelCard:
    """Replace a package's card, checked first and written atomically; the weights are untouched. For
    tools that record measurements in a card (held-out scores, the fast-mode error)."""
    folder = Path(folder)
    card = parse_card(data, str(folder / CARD_NAME))
    temporary = temporary_file(folder / CARD_NAME, "")
    try:
        temporary.write_text(card.to_json(), encoding="utf-8")
        publish_file(temporary, folder / CARD_NAME)
    except OSError as error:
        raise describe_write_error(error, folder / CARD_NAME) from None
    finally:
        temporary.unlink(missing_ok=True)
    return card


def is_model_package(folder: Path) -> bool:
    """A folder this tool writes: a card and weights, and no subfolders (what --force may replace)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    names = {e.name for e in entries}
    return {CARD_NAME, WEIGHTS_NAME} <= names and all(e.is_file() and not e.is_symlink() for e in entries)


def check_package_target(folder: str | os.PathLike, force: bool = False) -> Path:
    """Before any work: where a package may be written. A new or empty folder; an existing package only
    with ``force``; never a folder of other files (it is the user's, not ours to replace)."""
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise GANTranslateError(f"{folder} exists and is not a folder; choose another output folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not is_model_package(folder):
            raise GANTranslateError(f"{folder} is a folder with other files in it (not a model package); it is left as "
                                    "it is: choose a new or empty folder")
        if not force:
            raise GANTranslateError(f"{folder} already holds a model package; pass --force to replace it, or choose another folder")
    return folder


def save_package(folder: str | os.PathLike, card: ModelCard | dict, network: "nn.Module",
                 weights_dtype: str = "float32", force: bool = False) -> ModelPackage:
    """Write a package atomically: into a temporary folder beside the target, checked, then renamed into
    place (atomic_files.publish_folder: an existing package is replaced only with ``force``, a folder of
    other files never). ``weights_dtype="float16"`` halves the file; loading casts back to float32."""
    import torch
    from safetensors.torch import save_file

    folder = check_package_target(folder, force)
    card = card if isinstance(card, ModelCard) else parse_card(card)
    dtype = {"float32": torch.float32, "float16": torch.float16}[weights_dtype]
    state = {k: (v.to(dtype) if v.is_floating_point() else v).detach().to("cpu").contiguous()
             for k, v in network.state_dict().items()}
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staged = temporary_folder(folder)
    except OSError as error:
        raise describe_write_error(error, folder) from None
    try:
        save_file(state, str(staged / WEIGHTS_NAME), metadata={"model_id": card.id, "version": card.version})
        (staged / CARD_NAME).write_text(card.to_json(), encoding="utf-8")
        load_package(staged).build_network()  # reads back: a full disk must not leave a broken package
        for written in staged.iterdir():
            os.chmod(written, umask_mode())
        publish_folder(staged, folder, force, is_model_package)
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise describe_write_error(error, folder / WEIGHTS_NAME) from None
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return load_package(folder)
