"""Physically motivated degradations that turn clean volumes into training pairs.

- ``low_dose_ct``: Poisson noise on the sinogram. Each axial slice is forward-projected (Radon);
  photon counts I = I0·dose·exp(−∫μ) are drawn from a Poisson law; the noisy line integrals are
  filtered-back-projected. Only the difference between the noisy and the clean reconstruction is added
  to the image, so the clean image's own reconstruction error is not mistaken for noise.
- ``low_resolution_mr``: through-plane slice thickening by ``factor`` (averaging neighbouring slices,
  as a thick acquisition integrates them) and in-plane k-space truncation to ``kspace_fraction``,
  then interpolation back onto the original grid: cubic spline (default; the classical way to upsample
  thick slices, so the degraded input is also the classical baseline a model must beat) or linear.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import SimpleITK as sitk

from GANTranslateLib.errors import GANTranslateError

WATER_MU_PER_MM = 0.0192  # linear attenuation of water near 70 keV, 1/mm
FULL_DOSE_PHOTONS = 1.0e5  # incident photons per detector bin at full dose (typical simulation value)


def degrade(image: sitk.Image, spec: dict[str, Any], seed: int) -> sitk.Image:
    kind = spec.get("kind")
    array = sitk.GetArrayFromImage(image).astype(np.float32)
    rng = np.random.default_rng(seed)
    if kind == "low_dose_ct":
        out = low_dose_ct(array, float(spec.get("dose", 0.25)), image.GetSpacing()[0], rng)
    elif kind == "low_resolution_mr":
        out = low_resolution_mr(array, int(spec.get("factor", 2)), float(spec.get("kspace_fraction", 1.0)),
                                spec.get("interpolation", "cubic"))
    else:
        raise GANTranslateError(f"unknown degradation '{kind}' (use low_dose_ct or low_resolution_mr)")
    result = sitk.GetImageFromArray(out)
    result.CopyInformation(image)
    return result


def low_dose_ct(hu: np.ndarray, dose: float, pixel_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Add sinogram-domain Poisson noise to each axial slice (z, y, x) of a CT in HU."""
    from skimage.transform import iradon, radon

    if not 0 < dose <= 1:
        raise GANTranslateError(f"dose fraction must be in (0, 1], not {dose}")
    out = np.empty_like(hu)
    for z, slice_hu in enumerate(hu):
        size = max(slice_hu.shape)
        padded = np.full((size, size), -1000.0, np.float32)
        padded[: slice_hu.shape[0], : slice_hu.shape[1]] = slice_hu
        mu = np.clip((padded + 1000.0) / 1000.0 * WATER_MU_PER_MM, 0, None)
        angles = np.linspace(0.0, 180.0, max(size, 90), endpoint=False)
        line_integrals = radon(mu, theta=angles, circle=False) * pixel_mm
        photons = FULL_DOSE_PHOTONS * dose * np.exp(-line_integrals)
        counts = np.maximum(rng.poisson(photons), 1)
        noisy_integrals = -np.log(counts / (FULL_DOSE_PHOTONS * dose))
        noise_mu = iradon((noisy_integrals - line_integrals) / pixel_mm, theta=angles, circle=False,
                          filter_name="ramp", output_size=size)
        out[z] = slice_hu + (noise_mu / WATER_MU_PER_MM * 1000.0)[: slice_hu.shape[0], : slice_hu.shape[1]]
    return out


def low_resolution_mr(volume: np.ndarray, factor: int, kspace_fraction: float = 1.0,
                      interpolation: str = "cubic") -> np.ndarray:
    """Thicken slices along z by ``factor``, optionally truncate in-plane k-space, interpolate back to the thin grid."""
    from scipy.interpolate import make_interp_spline

    if factor < 1:
        raise GANTranslateError(f"slice thickening factor must be at least 1, not {factor}")
    if interpolation not in ("cubic", "linear"):
        raise GANTranslateError(f"interpolation must be cubic or linear, not '{interpolation}'")
    z = volume.shape[0]
    thick_count = int(np.ceil(z / factor))
    padded = np.concatenate([volume, np.repeat(volume[-1:], thick_count * factor - z, axis=0)])
    thick = padded.reshape(thick_count, factor, *volume.shape[1:]).mean(axis=1)
    # Back onto the thin grid: thick slice k covers thin slices k*f .. k*f+f-1, centred at k*f+(f-1)/2;
    # beyond the first and last centres the nearest thick slice is repeated (no extrapolation).
    centres = np.arange(thick_count) * factor + (factor - 1) / 2
    positions = np.clip(np.arange(z), centres[0], centres[-1])
    degree = min(3 if interpolation == "cubic" else 1, thick_count - 1)  # a spline needs degree + 1 points
    if degree > 0:
        out = make_interp_spline(centres, thick, k=degree, axis=0)(positions)
    else:
        out = np.repeat(thick, z, axis=0)
    if kspace_fraction < 1.0:
        out = truncate_kspace(out, kspace_fraction)
    return out.astype(np.float32)


def truncate_kspace(volume: np.ndarray, fraction: float) -> np.ndarray:
    """Keep the central ``fraction`` of in-plane k-space (a lower acquisition matrix), magnitude image."""
    spectrum = np.fft.fftshift(np.fft.fft2(volume, axes=(1, 2)), axes=(1, 2))
    keep = np.zeros(volume.shape[1:], bool)
    for axis, n in enumerate(volume.shape[1:]):
        half = max(int(round(n * fraction / 2)), 1)
        sl = [slice(None)] * 2
        sl[axis] = slice(n // 2 - half, n // 2 + half)
        band = np.zeros(volume.shape[1:], bool)
        band[tuple(sl)] = True
        keep = band if axis == 0 else keep & band
    spectrum[:, ~keep] = 0
    return np.abs(np.fft.ifft2(np.fft.ifftshift(spectrum, axes=(1, 2)), axes=(1, 2))).astype(np.float32)
