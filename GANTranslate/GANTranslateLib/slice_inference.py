"""Slice-wise inference: run a 2D network over every slice of a volume along one axis.

Slices are batched; each is padded to the network's size multiple and cropped back; neighbouring
slices can be stacked as channels (2.5D). Memory beyond the input and output is one batch: the input
may be a raw view of the volume, with ``prepare`` normalising each batch as it is gathered.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .progress import CancelCheck, ProgressCallback, check_cancel, no_progress

Forward = Callable[[torch.Tensor], torch.Tensor]


def pad_amounts(size: int, multiple: int) -> tuple[int, int]:
    """(before, after) padding that centres ``size`` in the next multiple of ``multiple``."""
    total = -size % multiple
    return total // 2, total - total // 2


def gather_slices(volume: np.ndarray, indices: range, adjacent: int, channels: int, replicate: bool) -> np.ndarray:
    """A (B, C, H, W) batch from slices along axis 0; neighbours beyond the ends repeat the edge slice."""
    if replicate:
        return np.repeat(volume[indices.start : indices.stop, None], channels, axis=1)
    offsets = np.arange(-adjacent, adjacent + 1)
    rows = np.clip(np.asarray(indices)[:, None] + offsets[None, :], 0, volume.shape[0] - 1)
    return volume[rows]


def run_slices(
    volume: np.ndarray,
    forward: Forward,
    *,
    axis: int,
    batch_size: int,
    device: torch.device,
    divisor: int = 1,
    adjacent: int = 0,
    in_channels: int = 1,
    replicate_channels: bool = False,
    pad_value: float = -1.0,
    prepare: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    progress: ProgressCallback = no_progress,
    cancel: Optional[CancelCheck] = None,
) -> np.ndarray:
    """Translate a volume slice by slice along numpy ``axis``; same shape out, float32.

    The volume is normalised float32, or anything ``prepare`` turns into that a batch at a time."""
    if not replicate_channels and in_channels != 2 * adjacent + 1:
        raise ValueError(f"a network with {in_channels} input channels cannot take {2 * adjacent + 1} adjacent slices")
    slices = np.moveaxis(volume, axis, 0)
    output = np.empty(volume.shape, dtype=np.float32)
    out_slices = np.moveaxis(output, axis, 0)
    n, height, width = slices.shape
    (top, bottom), (left, right) = pad_amounts(height, divisor), pad_amounts(width, divisor)
    batches = range(0, n, batch_size)
    for done, start in enumerate(batches):
        check_cancel(cancel)
        indices = range(start, min(start + batch_size, n))
        gathered = gather_slices(slices, indices, adjacent, in_channels, replicate_channels)
        batch = torch.from_numpy(prepare(gathered) if prepare is not None else gathered)
        batch = batch.to(device, non_blocking=True)
        if top or bottom or left or right:
            batch = F.pad(batch, (left, right, top, bottom), value=pad_value)
        result = forward(batch)[:, :, top : top + height, left : left + width]
        if result.shape[1] > 1:
            result = result.mean(dim=1, keepdim=True)
        out_slices[indices.start : indices.stop] = result[:, 0].float().cpu().numpy()
        progress("inference", done + 1, len(batches))
    return output
