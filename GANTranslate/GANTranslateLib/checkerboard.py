"""How much of an image's in-plane detail sits at the Nyquist frequency: the signature of the period-2
(checkerboard) texture that stride-2 transposed convolutions leave. Real images have little there; a
synthetic image whose share is well above the real images' range shows the texture.

Per axial slice holding foreground (cropped to even sides, so that 0.5 cycles per voxel is a frequency of
its spectrum): the masked slice minus its mean inside the mask, its 2D power spectrum, and the share of the
non-DC energy on the Nyquist lines (frequency 0.5 along x or along y); the volume's value is the mean over
slices. A band below Nyquist is not counted: on real images it holds fine detail and noise, which would
hide the texture's peak.
"""
from __future__ import annotations

import numpy as np

def _slice_share(values: np.ndarray, mask: np.ndarray) -> float:
    even = (slice(0, values.shape[0] // 2 * 2), slice(0, values.shape[1] // 2 * 2))
    values, mask = values[even], mask[even]
    centred = np.where(mask, values - values[mask].mean(), 0.0)
    power = np.abs(np.fft.fft2(centred)) ** 2
    fy = np.abs(np.fft.fftfreq(values.shape[0]))[:, None]
    fx = np.abs(np.fft.fftfreq(values.shape[1]))[None, :]
    power[0, 0] = 0.0
    total = power.sum()
    if total <= 0:
        return float("nan")
    near = (fy == 0.5) | (fx == 0.5)
    return float(power[near].sum() / total)


def nyquist_energy_share(volume: np.ndarray, mask: np.ndarray, axial_axis: int = 0) -> float:
    """Mean over foreground slices (along numpy ``axial_axis``) of the share of spectral energy at Nyquist."""
    volume = np.moveaxis(np.asarray(volume, np.float64), axial_axis, 0)
    mask = np.moveaxis(np.asarray(mask, bool), axial_axis, 0)
    shares = [_slice_share(v, m) for v, m in zip(volume, mask) if m.sum() > 16]
    shares = [s for s in shares if np.isfinite(s)]
    return float(np.mean(shares)) if shares else float("nan")
