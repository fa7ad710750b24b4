"""Validation on whole volumes through the engine, exactly as users will run the exported model."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import torch

from GANTranslateLib import metrics
from GANTranslateLib.evaluation import on_common_scale
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.model_card import ModelCard
from GANTranslateLib.model_package import ModelPackage
from GANTranslateLib.translation import InferenceOptions, translate_image

from GANTranslateLib.dataset_folder import Subject

from .export import shipped_directions


def validation_directions(config: dict, domains: list[str]) -> list[tuple[str, str]]:
    chosen = config["validation"]["directions"]
    if chosen:
        return [tuple(d) for d in chosen]
    if config["model"] == "unified":
        if config["export"]["directions"] or config["data"]["directions"]:  # what the model ships
            return [tuple(d) for d in shipped_directions(config)]
        return [(domains[0], d) for d in domains[1:]]
    return [(domains[0], domains[1])]


def subject_mask(subject: Subject, real: sitk.Image) -> np.ndarray:
    if subject.mask is not None:
        return sitk.GetArrayFromImage(read_volume(subject.mask)) > 0
    return sitk.GetArrayViewFromImage(real) != 0


@torch.no_grad()
def validate(generator: torch.nn.Module, card: ModelCard, subjects: list[Subject], directions: list[tuple[str, str]],
             device: torch.device, batch_size: int) -> dict[str, Any]:
    """Mean PSNR / SSIM / NMAE over validation subjects and directions (per direction too)."""
    was_training = generator.training
    generator.eval()
    package = ModelPackage(Path("."), card)
    # never compiled: the weights change before the next validation, so a compiled copy is never reused
    options = InferenceOptions(batch_size=batch_size, device=str(device), compile="never")
    per_direction: dict[str, list[dict[str, float]]] = {}
    try:
        for subject in subjects:
            for source, target in directions:
                if not subject.has(source, target):
                    continue
                image = read_volume(subject.files[source])
                real = read_volume(subject.files[target])
                result = translate_image(image, package, source, target, options, network=generator)
                mask = subject_mask(subject, real)
                synthetic = on_common_scale(sitk.GetArrayFromImage(result.image), mask, target)
                real_array = on_common_scale(sitk.GetArrayFromImage(real).astype(np.float32), mask, target)
                scores = metrics.image_metrics(synthetic, real_array, mask, with_vif=False)
                per_direction.setdefault(f"{source}->{target}", []).append(scores)
    finally:
        generator.train(was_training)
    summary: dict[str, Any] = {}
    for direction, rows in per_direction.items():
        summary[direction] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    if summary:
        for key in ("psnr", "ssim", "nmae"):
            summary[key] = float(np.mean([v[key] for v in summary.values() if isinstance(v, dict)]))
    return summary
