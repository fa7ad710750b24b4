"""Patch-wise inference: a 3D network over overlapping windows, blended with Gaussian weights.

MONAI's ``sliding_window_inference`` does the tiling and blending: windows run on the compute device a
batch at a time while the blended volume stays in host memory, so device memory is bounded by the
window batch, not by the volume. This module adds what a GUI needs: progress and prompt cancellation.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .progress import CancelCheck, ProgressCallback, check_cancel, no_progress

Forward = Callable[[torch.Tensor], torch.Tensor]


def scan_interval(image_size: Sequence[int], roi_size: Sequence[int], overlap: float) -> list[int]:
    """Window step per axis, as MONAI computes it (a window as large as the image does not step)."""
    steps = []
    for size, roi in zip(image_size, roi_size):
        steps.append(int(roi) if roi == size else max(int(roi * (1 - overlap)), 1))
    return steps


def count_windows(image_size: Sequence[int], roi_size: Sequence[int], overlap: float) -> int:
    """How many windows the sliding window visits, for an exact progress total."""
    from monai.data.utils import dense_patch_slices

    padded = [max(s, r) for s, r in zip(image_size, roi_size)]
    return len(dense_patch_slices(padded, roi_size, scan_interval(padded, roi_size, overlap)))


def run_patches(
    volume: np.ndarray,
    forward: Forward,
    *,
    patch_size: Sequence[int],
    overlap: float,
    batch_size: int,
    device: torch.device,
    pad_value: float = -1.0,
    progress: ProgressCallback = no_progress,
    cancel: Optional[CancelCheck] = None,
) -> np.ndarray:
    """Translate a normalised float32 (D, H, W) volume window by window; same shape out."""
    from monai.inferers import sliding_window_inference

    total = count_windows(volume.shape, patch_size, overlap)
    done = 0

    def predictor(windows: torch.Tensor) -> torch.Tensor:
        nonlocal done
        check_cancel(cancel)
        # A copy, so that an output aliasing its input (an identity network returns a view) is never
        # scaled in place by MONAI's blending while the input volume is still needed.
        result = forward(windows.to(device, non_blocking=True, copy=True)).float()
        done += windows.shape[0]
        progress("inference", done, total)
        return result[:, :1] if result.shape[1] == 1 else result.mean(dim=1, keepdim=True)

    inputs = torch.from_numpy(np.ascontiguousarray(volume))[None, None]
    with torch.inference_mode():  # the blending buffers are updated in place by MONAI
        output = sliding_window_inference(
            inputs,
            roi_size=list(patch_size),
            sw_batch_size=batch_size,
            predictor=predictor,
            overlap=overlap,
            mode="gaussian",
            padding_mode="constant",
            cval=pad_value,
            sw_device=device,
            device=torch.device("cpu"),
        )
    return output[0, 0].numpy()
