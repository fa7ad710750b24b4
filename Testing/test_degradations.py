"""The physical degradations the trainer makes pairs with: noise that follows dose, resolution loss."""
import numpy as np
import pytest
import SimpleITK as sitk

from gantranslate_trainer.degradations import degrade, low_dose_ct, low_resolution_mr, truncate_kspace
from GANTranslateLib.errors import GANTranslateError


def water_phantom() -> np.ndarray:
    """A 20 cm water cylinder in air, 1 mm pixels, HU."""
    y, x = np.mgrid[:96, :96]
    phantom = np.full((1, 96, 96), -1000.0, np.float32)
    phantom[0][(y - 48) ** 2 + (x - 48) ** 2 < 40**2] = 0.0
    return phantom


def test_low_dose_noise_grows_as_dose_falls_like_poisson() -> None:
    phantom = water_phantom()
    centre = (slice(None), slice(38, 58), slice(38, 58))
    noise = {dose: float((low_dose_ct(phantom, dose, 1.0, np.random.default_rng(0)) - phantom)[centre].std())
             for dose in (1.0, 0.25)}
    assert noise[1.0] > 0
    # quantum noise: std ~ 1/sqrt(dose), so a quarter of the dose doubles it
    assert noise[0.25] / noise[1.0] == pytest.approx(2.0, rel=0.25)
    mean_shift = float((low_dose_ct(phantom, 0.25, 1.0, np.random.default_rng(1)) - phantom)[centre].mean())
    assert abs(mean_shift) < 0.2 * noise[0.25]  # noise, not bias


def test_slice_thickening_blurs_through_plane_only_and_keeps_the_mean() -> None:
    rng = np.random.default_rng(0)
    volume = rng.uniform(0, 100, size=(16, 8, 8)).astype(np.float32)
    thick = low_resolution_mr(volume, factor=2)
    assert thick.shape == volume.shape
    assert np.diff(thick, axis=0).std() < 0.6 * np.diff(volume, axis=0).std()
    assert thick.mean() == pytest.approx(volume.mean(), rel=0.02)
    smooth_in_z = np.repeat(rng.uniform(0, 100, size=(1, 8, 8)), 16, axis=0).astype(np.float32)
    np.testing.assert_allclose(low_resolution_mr(smooth_in_z, 2), smooth_in_z, rtol=1e-5)


def test_cubic_interpolation_of_thick_slices_beats_linear_on_a_smooth_profile() -> None:
    """Back on the thin grid, a cubic spline through the thick slices follows a smooth anatomy closer than lines do."""
    z = np.arange(40, dtype=np.float32)
    profile = (100 + 50 * np.sin(z / 4.0))[:, None, None] * np.ones((1, 4, 4), np.float32)
    error = {kind: float(np.abs(low_resolution_mr(profile, 2, interpolation=kind) - profile)[3:-3].mean())
             for kind in ("linear", "cubic")}
    assert error["cubic"] < 0.8 * error["linear"]
    linear = low_resolution_mr(profile, 2, interpolation="linear")
    # linear: thin slice 2k+1 lies a quarter of the way from thick centre k (2k+0.5) to k+1
    thick = profile.reshape(20, 2, 4, 4).mean(axis=1)
    np.testing.assert_allclose(linear[5], 0.75 * thick[2] + 0.25 * thick[3], rtol=1e-5)
    with pytest.raises(GANTranslateError, match="interpolation must be"):
        low_resolution_mr(profile, 2, interpolation="sinc")


def test_kspace_truncation_removes_fine_detail() -> None:
    checker = (np.indices((1, 32, 32)).sum(axis=0) % 2 * 100).astype(np.float32)
    assert truncate_kspace(checker, 0.5).std() < 0.1 * checker.std()


def test_unknown_degradation_and_bad_dose() -> None:
    image = sitk.GetImageFromArray(water_phantom())
    with pytest.raises(GANTranslateError, match="unknown degradation"):
        degrade(image, {"kind": "motion"}, seed=0)
    with pytest.raises(GANTranslateError, match="dose fraction"):
        low_dose_ct(water_phantom(), 0.0, 1.0, np.random.default_rng(0))
