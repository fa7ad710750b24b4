"""A model package as ONNX, for ONNX Runtime and tools outside PyTorch.

The graph is the network step of the engine (NetworkRunner) and nothing else: it takes the source image
already normalised into [-1, 1] (the card's ``normalization``, with neighbouring slices as channels where
the card says so) and returns the network's output in the normalised range. Where the model has an
intensity prior, the graph maps the source through its look-up tables itself, so callers give the image
alone. Normalising, reorienting, tiling and mapping the output back are the caller's part, which is why the
card is written beside the .onnx file (and into its metadata, ``gantranslate_card``): it says how.

Inputs: ``image`` (B, C, H, W) or (B, C, D, H, W) float32, spatial sizes any multiple of the network's
size divisor (the card's ``onnx.size_divisor``); for a unified (conditional) model also ``target`` (B,)
int64, the target domain's index in the card's ``domains``, and with an intensity prior ``source`` (B,)
int64. Output: ``output`` (B, 1, ...) float32.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .atomic_files import describe_write_error, publish_file, temporary_file
from .compiled_network import export_dynamic
from .errors import GANTranslateError
from .intensity_prior import BINS, with_prior
from .model_package import ModelPackage

OPSET = 18  # ONNX Runtime 1.16 and newer run it; PyTorch's exporter writes it natively


class OnnxGraph(nn.Module):
    """The network with its intensity prior (if any) inside, and explicit positional inputs."""

    def __init__(self, package: ModelPackage) -> None:
        super().__init__()
        card = package.card
        self.network = package.build_network()
        self.size_divisor = getattr(self.network, "size_divisor", 1)
        self.conditional, self.prior = card.conditional, card.has_intensity_prior
        if self.prior:
            count = len(card.domains)
            tables = torch.zeros(count, count, BINS)
            for source, target in card.directions:
                tables[card.domain_index(source), card.domain_index(target)] = torch.tensor(card.prior_table(source, target))
            self.register_buffer("tables", tables)

    def forward(self, image: torch.Tensor, target: torch.Tensor | None = None, source: torch.Tensor | None = None) -> torch.Tensor:
        if self.prior:
            if self.conditional:
                image = with_prior(image, self.tables[source, target])
            else:
                image = with_prior(image, self.tables[0, 1])
        return self.network(image, target) if self.conditional else self.network(image)


def input_names(package: ModelPackage) -> list[str]:
    card = package.card
    return ["image"] + (["target"] if card.conditional else []) + (["source"] if card.conditional and card.has_intensity_prior else [])


def require_exporter() -> None:
    """torch.onnx imports onnx and onnxscript only when it exports: check them first, for one clear line."""
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            raise GANTranslateError(f"ONNX export needs the {name} package, which is not installed: "
                                    'pip install "gantranslate[onnx]"') from None


def export_onnx(package: ModelPackage, output: Path, force: bool = False) -> Path:
    """Write ``output`` (.onnx, the card in its metadata) and the card beside it (``<stem>.model.json``), atomically."""
    output = Path(output)
    if output.suffix.lower() != ".onnx":
        raise GANTranslateError(f"cannot write '{output.name}': give an .onnx file name")
    card_path = output.with_name(output.stem + ".model.json")
    for path in (output, card_path):
        if path.exists() and not force:
            raise GANTranslateError(f"{path} exists; pass --force to replace it, or choose another name")
    if not output.parent.is_dir():
        raise GANTranslateError(f"output folder {output.parent} does not exist; create it first")
    require_exporter()
    card = package.card
    graph = OnnxGraph(package).eval()
    divisor = int(graph.size_divisor)
    side = divisor * max(2, -(-64 // divisor))
    spatial = tuple(reversed(card.patch_size)) if card.mode == "3d" else (side, side)
    example = [torch.zeros(1, card.image_channels, *spatial)]
    if card.conditional:
        example.append(torch.zeros(1, dtype=torch.long))
        if card.has_intensity_prior:
            example.append(torch.zeros(1, dtype=torch.long))
    with torch.no_grad():
        exported = export_dynamic(graph, example)
        program = torch.onnx.export(exported, dynamo=True, opset_version=OPSET, verbose=False,
                                    input_names=input_names(package), output_names=["output"])
    # the card travels inside the file too, with what the graph takes and gives
    program.model.metadata_props.update({"gantranslate_card": card.to_json(), "gantranslate_inputs": json.dumps(
        {"inputs": input_names(package), "size_divisor": divisor, "output": "output", "range": [-1, 1]})})
    for path, write in ((output, lambda p: program.save(str(p))), (card_path, lambda p: p.write_text(card.to_json(), encoding="utf-8"))):
        temporary = temporary_file(path, path.suffix)
        try:
            write(temporary)
            publish_file(temporary, path)
        except OSError as error:
            raise describe_write_error(error, path) from None
        finally:
            temporary.unlink(missing_ok=True)
    return output
