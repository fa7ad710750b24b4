"""Image similarity inside a foreground mask: NMAE, PSNR, SSIM (3D and 2D slice mean), pixel VIF, and the
SynthRAD definitions for synthetic CT (MAE/ME in HU, PSNR/SSIM on CT clipped to [-1024, 3000])."""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from .errors import GANTranslateError

SYNTHRAD_HU_RANGE = (-1024.0, 3000.0)


def _checked(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if synthetic.shape != real.shape:
        raise GANTranslateError(f"synthetic {synthetic.shape} and real {real.shape} volumes differ in shape")
    mask = np.ones(real.shape, bool) if mask is None else mask.astype(bool)
    if mask.shape != real.shape:
        raise GANTranslateError("the mask's grid differs from the volumes'")
    if not mask.any():
        raise GANTranslateError("the foreground mask is empty; give a mask that covers the subject")
    return mask


def data_range(real: np.ndarray, mask: np.ndarray) -> float:
    values = real[mask]
    return float(values.max() - values.min()) or 1.0


def nmae(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error inside the mask divided by the real image's range there."""
    mask = _checked(synthetic, real, mask)
    return float(np.abs(synthetic[mask].astype(np.float64) - real[mask]).mean() / data_range(real, mask))


def psnr(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None, value_range: float | None = None) -> float:
    mask = _checked(synthetic, real, mask)
    mse = float(((synthetic[mask].astype(np.float64) - real[mask]) ** 2).mean())
    peak = value_range if value_range is not None else data_range(real, mask)
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def ssim(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None, value_range: float | None = None) -> float:
    """3D SSIM (scikit-image, a 7-voxel uniform window, smaller for thin volumes), averaged over the mask."""
    mask = _checked(synthetic, real, mask)
    peak = value_range if value_range is not None else data_range(real, mask)
    window = min(7, min(real.shape))
    window -= 1 - window % 2  # odd
    if window < 3:
        return ssim_2d_mean(synthetic, real, mask, peak, axis=int(np.argmin(real.shape)))
    _, full = structural_similarity(real.astype(np.float64), synthetic.astype(np.float64), data_range=peak,
                                    full=True, win_size=window)
    return float(full[mask].mean())


def ssim_2d_mean(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None,
                 value_range: float | None = None, axis: int = 0) -> float:
    """Mean over slices (along numpy ``axis``) that hold foreground of the in-slice masked SSIM."""
    mask = _checked(synthetic, real, mask)
    peak = value_range if value_range is not None else data_range(real, mask)
    scores = []
    for s, r, m in zip(np.moveaxis(synthetic, axis, 0), np.moveaxis(real, axis, 0), np.moveaxis(mask, axis, 0)):
        if m.any() and min(s.shape) >= 7:
            _, full = structural_similarity(r.astype(np.float64), s.astype(np.float64), data_range=peak, full=True)
            scores.append(full[m].mean())
    return float(np.mean(scores)) if scores else float("nan")


def vif_pixel(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None, sigma_nsq: float = 2.0) -> float:
    """Pixel-domain visual information fidelity (Sheikh & Bovik 2006), four scales, masked, slice-wise.

    Local statistics come from Gaussian windows; the mask restricts which windows are summed.
    """
    from scipy.ndimage import gaussian_filter

    mask = _checked(synthetic, real, mask)
    reference = real.astype(np.float64)
    distorted = synthetic.astype(np.float64)
    region = mask.astype(np.float64)
    numerator = denominator = 0.0
    for scale in range(1, 5):
        sd = (2 ** (4 - scale + 1) + 1) / 5.0
        blur = lambda a: gaussian_filter(a, sigma=(0, sd, sd))  # noqa: E731  (in-slice windows)
        if scale > 1:
            reference, distorted = blur(reference)[:, ::2, ::2], blur(distorted)[:, ::2, ::2]
            region = region[:, ::2, ::2]
        mu1, mu2 = blur(reference), blur(distorted)
        sigma1_sq = np.maximum(blur(reference * reference) - mu1 * mu1, 0)
        sigma2_sq = np.maximum(blur(distorted * distorted) - mu2 * mu2, 0)
        sigma12 = blur(reference * distorted) - mu1 * mu2
        g = sigma12 / (sigma1_sq + 1e-10)
        sv_sq = sigma2_sq - g * sigma12
        g = np.where(sigma1_sq < 1e-10, 0, g)
        sv_sq = np.where(sigma1_sq < 1e-10, sigma2_sq, sv_sq)
        sigma1_sq = np.where(sigma1_sq < 1e-10, 0, sigma1_sq)
        g = np.where(sigma2_sq < 1e-10, 0, g)
        sv_sq = np.where(sigma2_sq < 1e-10, 0, sv_sq)
        sv_sq = np.where(g < 0, sigma2_sq, sv_sq)
        g = np.maximum(g, 0)
        sv_sq = np.maximum(sv_sq, 1e-10)
        inside = region > 0.5
        numerator += np.log10(1 + g * g * sigma1_sq / (sv_sq + sigma_nsq))[inside].sum()
        denominator += np.log10(1 + sigma1_sq / sigma_nsq)[inside].sum()
    return float(numerator / denominator) if denominator > 0 else float("nan")


def slice_mse(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None, axis: int = 0) -> np.ndarray:
    """The mean squared error inside the mask of each slice along numpy ``axis``; NaN for a slice
    without foreground."""
    mask = _checked(synthetic, real, mask)
    within_slice = tuple(a for a in range(real.ndim) if a != axis % real.ndim)
    inside = mask.sum(axis=within_slice)
    summed = np.where(mask, (synthetic.astype(np.float64) - real) ** 2, 0.0).sum(axis=within_slice)
    return np.divide(summed, inside, out=np.full(inside.shape, np.nan), where=inside > 0)


def slices_won(candidate: np.ndarray, rival: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None,
               axis: int = 0) -> tuple[int, int]:
    """On how many slices (along numpy ``axis``, those holding foreground) ``candidate`` has the smaller
    mean squared error inside the mask than ``rival``, i.e. the higher PSNR; and of how many. Why: a
    small mean margin means more when it holds slice after slice than when a few slices carry it."""
    ours, theirs = slice_mse(candidate, real, mask, axis), slice_mse(rival, real, mask, axis)
    scored = ~np.isnan(ours)
    return int((ours[scored] < theirs[scored]).sum()), int(scored.sum())


def image_metrics(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray | None = None,
                  slice_axis: int = 0, with_vif: bool = True) -> dict[str, float]:
    """NMAE, PSNR, SSIM (3D), SSIM (2D slice mean) and VIF, all within the mask."""
    scores = {
        "nmae": nmae(synthetic, real, mask),
        "psnr": psnr(synthetic, real, mask),
        "ssim": ssim(synthetic, real, mask),
        "ssim_2d": ssim_2d_mean(synthetic, real, mask, axis=slice_axis),
    }
    if with_vif:
        scores["vif"] = vif_pixel(synthetic, real, mask)
    return scores


def ct_metrics(synthetic_hu: np.ndarray, real_hu: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """SynthRAD: MAE and ME in HU, and PSNR / SSIM on CT clipped to [-1024, 3000] with range 4024."""
    mask = _checked(synthetic_hu, real_hu, mask)
    low, high = SYNTHRAD_HU_RANGE
    s, r = np.clip(synthetic_hu, low, high).astype(np.float64), np.clip(real_hu, low, high).astype(np.float64)
    difference = s[mask] - r[mask]
    return {
        "mae_hu": float(np.abs(difference).mean()),
        "me_hu": float(difference.mean()),
        "psnr_synthrad": psnr(s, r, mask, value_range=high - low),
        "ssim_synthrad": ssim(s - low, r - low, mask, value_range=high - low),
    }
