"""Fast mode, measured before it is used: bf16 and fp16 error per model, and the precision a device runs.

Reduced precision changes a model's output: bf16 keeps float32's range with 8 bits of mantissa, fp16
keeps 11 bits but overflows above 65504 (a normalisation layer's sums can). So a model's card records, for
each precision, how far a whole translation in it lies from exact float32 on real volumes: PSNR, mean
and largest absolute difference in the output's units (HU for CT). The measurement runs the network with
its weights and activations in that precision on the CPU (PyTorch computes both there, natively or
emulated, slowly), so any machine can measure what a GPU or an AMX CPU would run; it is the stricter case
of the two (a GPU's autocast keeps some layers in float32). Fast mode then uses the precision measured for
its device, and refuses a model whose card lacks that measurement or whose error is over the limit.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from .device import cpu_has_fast_bf16
from .errors import GANTranslateError
from .image_io import read_volume
from .model_card import ModelCard, is_ct_domain
from .model_package import ModelPackage

PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}
MIN_PSNR_DB = 40.0  # below this, fast mode moves the output visibly
MAX_CT_MEAN_HU = 5.0  # a synthetic CT may move by at most this much on average


class ReducedPrecision(nn.Module):
    """A network run with its weights and activations in ``dtype``; float32 in and out."""

    def __init__(self, network: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.network = network.to(dtype)
        self.dtype = dtype
        self.size_divisor = getattr(network, "size_divisor", 1)

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        return self.network(x.to(self.dtype), *rest).float()


def device_precision(device: torch.device) -> Optional[str]:
    """The reduced precision fast mode runs on this device: bf16 on a CPU with AMX or AVX-512-BF16 and on a
    GPU that has it, fp16 on other GPUs; None where fast mode cannot run faster."""
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else None
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return None


def allowed(entry: dict, target: str) -> bool:
    if entry.get("non_finite"):
        return False
    return entry["psnr_db"] >= MIN_PSNR_DB and (not is_ct_domain(target) or entry["mean_abs"] <= MAX_CT_MEAN_HU)


def check_allowed(card: ModelCard, precision: str, target: str) -> None:
    """Refuse fast mode, in one line, for a model whose card has no measurement of ``precision`` or whose
    measured error is over the limit."""
    measured = card.data.get("fast_mode", {}).get(precision)
    if measured is None:
        raise GANTranslateError(
            f"model '{card.id}' has no measured {precision} error, the precision fast mode uses on this device: measure "
            f"it with 'gantranslate models check-fast {card.id} -i VOLUME', or use --precision exact"
        )
    if not allowed(measured, target):
        how = ("gives non-finite values (overflow)" if measured.get("non_finite") else
               f"moves its output too far ({measured['psnr_db']:.1f} dB PSNR against exact, mean difference "
               f"{measured['mean_abs']:.2f})")
        raise GANTranslateError(f"model '{card.id}' refuses fast mode: {precision} {how}; use --precision exact")


def measure(package: ModelPackage, volumes: Sequence[Path], source: str, target: str) -> dict:
    """Each precision's error against exact float32, over whole translations of ``volumes`` (pooled)."""
    from .translation import InferenceOptions, translate_image

    options = InferenceOptions(device="cpu", compile="never", force=True)
    images = [read_volume(path) for path in volumes]
    exact = [_array(translate_image(image, package, source, target, options)) for image in images]
    record: dict = {"direction": f"{source}->{target}", "volumes": [str(v) for v in volumes], "torch": torch.__version__,
                    "method": "weights and activations in the precision, on the CPU"}
    for name, dtype in PRECISIONS.items():
        network = ReducedPrecision(package.build_network(), dtype)
        reduced = [_array(translate_image(image, package, source, target, options, network=network)) for image in images]
        record[name] = compare(exact, reduced, target)
    return record


def compare(exact: Sequence[np.ndarray], reduced: Sequence[np.ndarray], target: str) -> dict:
    """PSNR (peak: the exact outputs' range), mean and largest absolute difference; non-finite values fail."""
    if not all(np.isfinite(r).all() for r in reduced):
        return {"psnr_db": 0.0, "mean_abs": None, "max_abs": None, "non_finite": True, "allowed": False}
    difference = np.concatenate([np.abs(r - e).ravel() for e, r in zip(exact, reduced)]).astype(np.float64)
    values = np.concatenate([e.ravel() for e in exact])
    peak = float(values.max() - values.min()) or 1.0
    mse = float((difference**2).mean())
    entry = {"psnr_db": round(99.0 if mse == 0 else float(10 * np.log10(peak**2 / mse)), 2),
             "mean_abs": round(float(difference.mean()), 4), "max_abs": round(float(difference.max()), 4)}
    entry["allowed"] = allowed(entry, target)
    return entry


def _array(result) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(result.image).astype(np.float32)
