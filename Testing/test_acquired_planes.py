"""Distances to the acquired planes, and the per-slice gains they are compared with, on built volumes."""
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from conftest import REPO

sys.path.insert(0, str(REPO / "trainer" / "datasets"))
import acquired_planes  # noqa: E402


def grid(size: tuple[int, int, int], spacing: tuple[float, float, float], origin=(0.0, 0.0, 0.0)) -> sitk.Image:
    image = sitk.Image(size, sitk.sitkFloat32)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image


def test_distance_to_the_nearest_acquired_plane() -> None:
    volume = grid((4, 4, 12), (1.0, 1.0, 1.0))
    native = grid((4, 4, 3), (1.0, 1.0, 5.0))  # planes at z = 0, 5, 10 mm
    distances = acquired_planes.plane_distance_mm(volume, native, sitk.Transform())
    np.testing.assert_allclose(distances, [0, 1, 2, 2, 1, 0, 1, 2, 2, 1, 0, 1], atol=1e-9)
    shifted = sitk.TranslationTransform(3, (0.0, 0.0, 2.0))  # volume point z maps to native z + 2
    np.testing.assert_allclose(acquired_planes.plane_distance_mm(volume, native, shifted)[:4], [2, 2, 1, 0], atol=1e-9)


def test_gains_per_slice_and_the_report() -> None:
    real = np.zeros((3, 20, 20))
    mask = np.ones(real.shape, bool)
    mask[2] = False
    mask[2, :5, :5] = True  # 25 voxels: too few to score
    synthetic, rival = real + 1.0, real + 2.0  # slice 0: model error 1, rival 4: +6.02 dB
    synthetic[1] += 2.0  # slice 1: model error 9, rival 4: a loss
    gains = acquired_planes.slice_gains_db(synthetic, rival, real, mask)
    np.testing.assert_allclose(gains[:2], [10 * np.log10(4), 10 * np.log10(4 / 9)])
    assert np.isnan(gains[2])
    text = acquired_planes.report(gains, np.array([0.5, 2.0, 0.0]))
    assert "2 slices with at least 200 foreground voxels; the model loses 1." in text
    assert "within 1 mm of an acquired plane: 1 slices, 0 lost" in text and "farther:                       1 slices, 1 lost" in text


def test_missing_inputs_are_named(tmp_path: Path, capsys) -> None:
    assert acquired_planes.main([str(tmp_path), str(tmp_path / "subject"), str(tmp_path / "synthetic.nii.gz")]) == 2
    error = capsys.readouterr().err
    assert "error: missing" in error and "native_t1_hdbet.nii.gz" in error and "synthetic.nii.gz" in error
