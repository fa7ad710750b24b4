"""The trivial baseline every model must beat: a per-intensity look-up table learned on training data.

It works in the model's own normalised units (the card's normalisation), so model and baseline see
exactly the same inputs and map back to the same output units: any margin is the network's doing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from . import intensity, intensity_prior
from .model_card import ModelCard


@dataclass(frozen=True)
class LookUpTable:
    table: np.ndarray  # mean normalised target per normalised-source bin (intensity_prior.BINS over [-1, 1])

    def apply(self, normalised_source: np.ndarray) -> np.ndarray:
        return intensity_prior.map_array(normalised_source, self.table)


def fit_lut(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> LookUpTable:
    """``pairs``: (normalised source, normalised target, foreground mask) volumes on one grid. The same
    table a model with an intensity prior is trained with (intensity_prior.fit_table)."""
    return LookUpTable(intensity_prior.fit_table(pairs))


def normalised(image: sitk.Image, card: ModelCard, domain: str) -> np.ndarray:
    voxels = sitk.GetArrayViewFromImage(image)
    return intensity.input_map(voxels, card.normalization(domain)).normalise(voxels)


def fit_from_images(card: ModelCard, source: str, target: str,
                    subjects: list[tuple[sitk.Image, sitk.Image, np.ndarray]]) -> LookUpTable:
    return fit_lut([(normalised(s, card, source), normalised(t, card, target), m) for s, t, m in subjects])


def predict(lut: LookUpTable, image: sitk.Image, card: ModelCard, source: str, target: str) -> sitk.Image:
    """The baseline's synthetic target, in the target's units, on the input's exact grid."""
    mapped = lut.apply(normalised(image, card, source))
    result = intensity.output_map(card.normalization(target)).denormalise(mapped.astype(np.float32))
    if intensity.keeps_zero_background(card.normalization(source)):  # as the engine does for zero-background inputs
        result[sitk.GetArrayViewFromImage(image) == 0] = card.background(target)
    output = sitk.GetImageFromArray(result)
    output.CopyInformation(image)
    return output
