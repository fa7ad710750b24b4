"""The intensity prior: the source mapped through a source-to-target look-up table, as an extra input channel.

Why: trained on few subjects, a generator spends much of its capacity, and still errs, learning the
global mapping from source to target intensity, which a look-up table learned on the same training
data already captures. Given that mapping as an input, the network need only learn what the context
of a voxel adds. The tables ride in the model card (one per direction, in normalised units), so
inference applies exactly the mapping the network was trained with.

The bottom of the normalised range, -1, is background (a zero outside a skull-stripped brain, air in
CT, padding): it maps to -1, never to the tissue that happens to share its bin, so the prior does not
paint dark tissue's target intensity over the whole background.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

BINS = 256  # bins over the normalised range [-1, 1]


def bin_index(normalised: np.ndarray) -> np.ndarray:
    """The table bin of each normalised intensity (values outside [-1, 1] take the end bins)."""
    return np.clip(((normalised + 1) / 2 * BINS).astype(int), 0, BINS - 1)


def bin_index_tensor(normalised: Tensor) -> Tensor:
    """:func:`bin_index` for tensors (same bins; tested to agree)."""
    return ((normalised.float() + 1) / 2 * BINS).long().clamp_(0, BINS - 1)


def fit_table(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """The mean normalised target per normalised-source bin, over the foreground of each
    ``(source, target, mask)`` triple on one grid; empty bins take their neighbours' values."""
    sums, counts = np.zeros(BINS), np.zeros(BINS)
    for source, target, mask in pairs:
        tissue = mask & (source > -1)
        index = bin_index(source[tissue])
        sums += np.bincount(index, weights=target[tissue], minlength=BINS)
        counts += np.bincount(index, minlength=BINS)
    filled = counts > 0
    if not filled.any():
        raise ValueError("no foreground voxels to learn the look-up table from")
    centres = np.arange(BINS)
    return np.interp(centres, centres[filled], sums[filled] / counts[filled]).astype(np.float32)


def map_array(normalised: np.ndarray, table: np.ndarray) -> np.ndarray:
    """A normalised array through a table; background (-1 and below) stays -1."""
    return np.where(normalised <= -1, np.float32(-1), table[bin_index(normalised)])


def map_tensor(image: Tensor, tables: Tensor) -> Tensor:
    """``image`` (B, 1, ...) through ``tables``: one (BINS,) table for the batch or one per item (B, BINS);
    background (-1 and below) stays -1, as in :func:`map_array`."""
    index = bin_index_tensor(image)
    if tables.dim() == 1:
        mapped = tables[index]
    else:
        mapped = torch.gather(tables, 1, index.flatten(1)).view_as(image)
    return torch.where(image <= -1, torch.full_like(mapped, -1), mapped).to(image.dtype)


def with_prior(batch: Tensor, tables: Tensor) -> Tensor:
    """Append the prior channel to a (B, C, ...) batch: the centre channel (the slice being translated,
    when neighbours ride along as channels) mapped through the table(s)."""
    centre = batch.shape[1] // 2
    return torch.cat([batch, map_tensor(batch[:, centre : centre + 1], tables)], dim=1)
