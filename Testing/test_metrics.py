"""Metrics against values computed by hand, and the SynthRAD definitions for synthetic CT."""
import math

import numpy as np
import pytest

from GANTranslateLib import metrics
from GANTranslateLib.errors import GANTranslateError


def test_nmae_and_psnr_by_hand() -> None:
    real = np.array([[[0.0, 10.0], [20.0, 30.0]]])
    synthetic = real + np.array([[[1.0, -1.0], [2.0, 0.0]]])
    # |errors| = 1, 1, 2, 0 -> MAE 1; range 30 -> NMAE 1/30. MSE = (1+1+4+0)/4 = 1.5; PSNR = 10 log10(900/1.5)
    assert metrics.nmae(synthetic, real) == pytest.approx(1 / 30)
    assert metrics.psnr(synthetic, real) == pytest.approx(10 * math.log10(900 / 1.5))
    assert metrics.psnr(real, real) == math.inf


def test_slices_won_counts_slices_by_masked_error() -> None:
    real = np.zeros((4, 2, 2))
    mask = np.ones(real.shape, bool)
    mask[3] = False  # no foreground: not compared
    candidate, rival = real.copy(), real.copy()
    candidate[0] += 1.0  # slice 0: candidate worse (MSE 1 vs 0)
    rival[1] += 2.0  # slice 1: candidate better
    rival[2, 0, 0], candidate[2, 1, 1] = 3.0, 3.0  # slice 2: a tie is not a win
    rival[3] += 9.0  # slice 3: rival far worse, but outside the mask
    candidate[:, 0, 1] += 100.0  # in every slice, but masked out
    mask[:, 0, 1] = False
    assert metrics.slices_won(candidate, rival, real, mask) == (1, 3)
    assert metrics.slices_won(rival, candidate, real, mask) == (1, 3)
    assert metrics.slices_won(candidate, rival, real, mask, axis=2) == (1, 2)  # along columns: column 0 won, column 1 lost
    with pytest.raises(GANTranslateError, match="differ in shape"):
        metrics.slices_won(candidate, rival[:2], real, mask)


def test_mask_restricts_every_metric() -> None:
    real = np.zeros((1, 2, 2))
    real[0, 0] = [0, 10]
    synthetic = real.copy()
    synthetic[0, 1] = [500, 500]  # outside the mask: must not count
    mask = np.zeros(real.shape, bool)
    mask[0, 0] = True
    assert metrics.nmae(synthetic, real, mask) == 0
    assert metrics.psnr(synthetic, real, mask) == math.inf


def test_ssim_is_one_for_identical_and_drops_with_noise() -> None:
    rng = np.random.default_rng(0)
    real = rng.uniform(0, 100, size=(9, 16, 16))
    assert metrics.ssim(real, real) == pytest.approx(1.0)
    assert metrics.ssim_2d_mean(real, real) == pytest.approx(1.0)
    noisy = real + rng.normal(0, 20, size=real.shape)
    assert metrics.ssim(noisy, real) < 0.9 and metrics.ssim_2d_mean(noisy, real) < 0.9


def test_ssim_matches_the_closed_form_for_constant_windows() -> None:
    # Two constant images a and b: SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 L)^2.
    a, b, L = 40.0, 50.0, 100.0
    real, synthetic = np.full((7, 7, 7), a), np.full((7, 7, 7), b)
    c1 = (0.01 * L) ** 2
    assert metrics.ssim(synthetic, real, value_range=L) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))


def test_vif_is_one_for_identical_and_lower_for_blurred() -> None:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(1)
    real = gaussian_filter(rng.uniform(0, 255, size=(3, 64, 64)), 1)
    assert metrics.vif_pixel(real, real) == pytest.approx(1.0, abs=1e-6)
    assert metrics.vif_pixel(gaussian_filter(real, (0, 2, 2)), real) < 0.7


def test_synthrad_ct_definitions() -> None:
    real = np.array([[[-2000.0, -1024.0, 0.0, 3500.0]]])
    synthetic = np.array([[[-1024.0, -1000.0, 40.0, 3000.0]]])
    scores = metrics.ct_metrics(synthetic, real)
    # after clipping to [-1024, 3000]: differences 0, 24, 40, 0
    assert scores["mae_hu"] == pytest.approx(16.0)
    assert scores["me_hu"] == pytest.approx(16.0)
    mse = (24**2 + 40**2) / 4
    assert scores["psnr_synthrad"] == pytest.approx(10 * math.log10(4024**2 / mse))
    signed = metrics.ct_metrics(synthetic - 50, real)
    assert signed["me_hu"] < 0


def test_empty_mask_and_shape_mismatch_are_errors() -> None:
    with pytest.raises(GANTranslateError, match="mask is empty"):
        metrics.nmae(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2, 2), bool))
    with pytest.raises(GANTranslateError, match="differ in shape"):
        metrics.psnr(np.zeros((2, 2, 2)), np.zeros((2, 2, 3)))
