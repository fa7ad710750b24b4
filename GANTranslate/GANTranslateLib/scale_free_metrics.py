"""The scale-free translation metric releases are judged by, with the patient's own best intensity mapping
as the bar.

MR intensities have no unit, and a model (or a baseline) may get a patient's contrast right but its scale
wrong; a fixed-scale score then measures the scale. So, per patient, inside the brain mask: the real target
is normalised by its own 0.5-99.5 % percentiles to [0, 1] (clipped), the candidate is mapped onto that scale by
the least-squares affine fit (gain and offset), then PSNR (range 1), 3D SSIM and NMAE are taken.
Two look-up-table rivals are scored the same way: E[target | source] learned on the training subjects, and
learned on the patient itself (the "own LUT": the best any intensity mapping can do there, an oracle). A model
that only re-maps intensities cannot beat the own LUT; one that uses anatomy can.
"""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from .errors import GANTranslateError

PERCENTILES = (0.5, 99.5)
BINS = 256
NAMES = ("psnr", "ssim", "nmae")


def percentile_normalised(volume: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``volume`` scaled so its 0.5 and 99.5 % percentiles inside the mask are 0 and 1, clipped, zero outside."""
    low, high = np.percentile(volume[mask], PERCENTILES)
    return np.clip((volume - low) / max(float(high - low), 1e-6), 0.0, 1.0) * mask


def affine_fitted(candidate: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``candidate`` mapped onto ``reference`` by the least-squares gain and offset inside the mask; zero outside."""
    x = candidate[mask].astype(np.float64)
    design = np.stack([x, np.ones_like(x)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, reference[mask], rcond=None)
    fitted = np.zeros(reference.shape, np.float64)
    fitted[mask] = design @ coefficients
    return fitted


def _ssim_3d(fitted: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> float:
    window = min(7, min(reference.shape))
    window -= 1 - window % 2  # odd
    if window < 3:
        return float("nan")
    _, full = structural_similarity(reference, np.clip(fitted, 0.0, 1.0), data_range=1.0, full=True, win_size=window)
    return float(full[mask].mean())


def scores(candidate: np.ndarray, real: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """PSNR (dB, range 1), SSIM (3D, mean of its map inside the mask) and NMAE of ``candidate`` against the
    real target, both on the real target's percentile scale (``candidate`` after the affine fit)."""
    mask = np.asarray(mask, bool)
    if candidate.shape != real.shape or mask.shape != real.shape:
        raise GANTranslateError(f"scale-free scores need one grid: {candidate.shape}, {real.shape}, mask {mask.shape}")
    if not mask.any():
        raise GANTranslateError("the brain mask is empty; give a mask.nii.gz that covers the brain")
    reference = percentile_normalised(real.astype(np.float64), mask)
    fitted = affine_fitted(candidate, reference, mask)
    error = fitted[mask] - reference[mask]
    mse = float(np.mean(error**2))
    return {"psnr": float(10 * np.log10(1.0 / max(mse, 1e-12))), "ssim": _ssim_3d(fitted, reference, mask),
            "nmae": float(np.mean(np.abs(error)))}


def _bins(normalised: np.ndarray) -> np.ndarray:
    return np.minimum((normalised * BINS).astype(np.int64), BINS - 1)


def learn_lut(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """E[target | source] over 256 bins of the percentile-normalised source, from (source, target, mask)
    volumes on one grid each; empty bins interpolated from their neighbours."""
    sums, counts = np.zeros(BINS), np.zeros(BINS)
    for source, target, mask in pairs:
        mask = np.asarray(mask, bool)
        index = _bins(percentile_normalised(source.astype(np.float64), mask)[mask])
        sums += np.bincount(index, percentile_normalised(target.astype(np.float64), mask)[mask], BINS)
        counts += np.bincount(index, None, BINS)
    filled = counts > 0
    if not filled.any():
        raise GANTranslateError("no voxel to learn a look-up table from: the masks are empty")
    return np.interp(np.arange(BINS), np.flatnonzero(filled), sums[filled] / counts[filled])


def apply_lut(table: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask, bool)
    return table[_bins(percentile_normalised(source.astype(np.float64), mask))] * mask


def score_with_rivals(synthetic: np.ndarray, real: np.ndarray, source: np.ndarray | None, mask: np.ndarray,
                      training_lut: np.ndarray | None) -> dict[str, float]:
    """The model's scale-free scores (sf_psnr, ...), the training-subjects LUT's (sf_lut_...) and the
    patient's own LUT's (sf_own_lut_...), and the model's margins over each (..._margin_...)."""
    found = {f"sf_{k}": v for k, v in scores(synthetic, real, mask).items()}
    rivals = {}
    if source is not None:
        if training_lut is not None:
            rivals["lut"] = apply_lut(training_lut, source, mask)
        rivals["own_lut"] = apply_lut(learn_lut([(source, real, mask)]), source, mask)
    for rival, volume in rivals.items():
        theirs = scores(volume, real, mask)
        found.update({f"sf_{rival}_{k}": v for k, v in theirs.items()})
        found.update({f"sf_margin_{rival}_{k}": found[f"sf_{k}"] - theirs[k] for k in ("psnr", "ssim")})
    return found
