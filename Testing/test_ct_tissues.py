"""Synthetic CT errors per tissue of the real CT: fat, soft tissue and bone apart, partial volume in none."""
import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from GANTranslateLib.ct_tissues import tissue_errors
from GANTranslateLib.evaluation import evaluate


def phantom() -> np.ndarray:
    real = np.full((4, 16, 16), 40.0)  # muscle
    real[:, :4] = -100.0  # fat
    real[:, -4:] = 700.0  # bone
    real[:, 8, :] = 175.0  # partial volume: in no class
    return real


def test_an_error_in_bone_only_shows_in_bone() -> None:
    real = phantom()
    synthetic = real.copy()
    synthetic[:, -4:] -= 300.0  # bone too soft, as a LUT makes it
    synthetic[:, 8, :] += 1000.0  # partial-volume row: counted in no tissue
    found = tissue_errors(synthetic, real, np.ones(real.shape, bool))
    assert found["mae_hu_bone"] == 300.0 and found["me_hu_bone"] == -300.0
    assert found["mae_hu_fat"] == found["mae_hu_soft"] == 0.0
    assert found["voxels_bone"] == 4 * 4 * 16 and found["voxels_soft"] == 4 * 7 * 16


def test_evaluate_reports_tissue_errors_for_a_ct_target(tmp_path: Path) -> None:
    real = phantom()
    root = tmp_path / "dataset"
    (root / "s").mkdir(parents=True)
    for name, array in (("CT", real), ("T2", 1000 - real)):
        sitk.WriteImage(sitk.GetImageFromArray(array.astype(np.float32)), str(root / "s" / f"{name}.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(np.ones(real.shape, np.uint8)), str(root / "s" / "mask.nii.gz"))
    (root / "dataset.json").write_text(json.dumps({"domains": ["T2", "CT"], "training": [], "test": ["s"]}))
    synthetic = real.copy()
    synthetic[:, :4] += 50.0
    (tmp_path / "syn").mkdir()
    sitk.WriteImage(sitk.GetImageFromArray(synthetic.astype(np.float32)), str(tmp_path / "syn" / "s.nii.gz"))
    results, summary = evaluate(root, "T2", "CT", tmp_path / "eval", synthetic_dir=tmp_path / "syn")
    assert "scale_free" not in summary and "nyquist_energy_share_synthetic_mean" in summary["checkerboard"]
    assert results[0].scores["mae_hu_fat"] == 50.0 and results[0].scores["me_hu_fat"] == 50.0
    assert results[0].scores["mae_hu_bone"] == 0.0
