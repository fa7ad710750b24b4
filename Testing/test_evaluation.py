"""gantranslate evaluate: reports, baseline, montages, and graceful handling of imperfect data."""
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from trainer_helpers import DATASET
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib import metrics
from GANTranslateLib.evaluation import evaluate, non_local_means
from GANTranslateLib.lut_baseline import fit_lut


def t1_to_t2_identity(tmp_path: Path):
    norm = {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}
    return make_package(tmp_path / "model", normalization={"T1": norm, "T2": norm})


def test_reports_montage_and_baseline(tmp_path: Path, capsys) -> None:
    package = t1_to_t2_identity(tmp_path)
    out = tmp_path / "eval"
    assert main(["evaluate", "--dataset", str(DATASET), "--source", "T1", "--target", "T2", "-m", str(package.path),
                 "-o", str(out)]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    assert [r["subject"] for r in rows] == ["TCGA-FG-6692-holdout"] and rows[0]["status"] == "ok"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("nmae", "psnr", "ssim", "ssim_2d", "vif", "baseline_psnr"):
        assert key in summary["metrics"]
    assert "psnr_margin_db" in summary
    # the T1 contrast passed through as T2 loses to the LUT's mapping on every held-out axial slice
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(DATASET / "TCGA-FG-6692-holdout" / "mask.nii.gz")))
    slices = int(mask.any(axis=(1, 2)).sum())
    assert summary["slices_won"] == {"baseline": {"won": 0, "of": slices}} and slices > 1
    assert rows[0]["axial_slices_beating_baseline"] == f"0/{slices}"
    assert f"beats the baseline (lower masked MSE): 0 of {slices}" in (out / "summary.md").read_text(encoding="utf-8")
    assert (out / "montage_TCGA-FG-6692-holdout.png").stat().st_size > 1000
    assert (out / "synthetic" / "TCGA-FG-6692-holdout_T2.nii.gz").exists()
    assert "LUT baseline" in capsys.readouterr().out


def test_lut_learns_a_monotone_inversion() -> None:
    source = np.linspace(-1, 1, 1000)
    target = -source  # T1-like to T2-like contrast inversion
    lut = fit_lut([(source, target, np.ones(source.shape, bool))])
    np.testing.assert_allclose(lut.apply(np.array([-0.9, 0.0, 0.9])), [0.9, 0.0, -0.9], atol=0.01)


def test_synthetic_folder_on_another_grid_is_resampled_and_said(tmp_path: Path) -> None:
    real = sitk.ReadImage(str(DATASET / "TCGA-FG-6692-holdout" / "T2.nii.gz"))
    shifted = sitk.Image(real)
    shifted.SetOrigin([o + 0.5 for o in real.GetOrigin()])
    (tmp_path / "synthetic").mkdir()
    sitk.WriteImage(shifted, str(tmp_path / "synthetic" / "TCGA-FG-6692-holdout.nii.gz"))
    results, summary = evaluate(DATASET, "T1", "T2", tmp_path / "eval", synthetic_dir=tmp_path / "synthetic")
    assert results[0].notes == ["synthetic resampled onto the real target's grid"]
    assert 0 < summary["metrics"]["nmae"]["mean"] < 0.2


def test_missing_target_is_reported_not_fatal(tmp_path: Path) -> None:
    dataset = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    (dataset / "TCGA-FG-6692-holdout" / "T2.nii.gz").unlink()
    package = t1_to_t2_identity(tmp_path)
    results, summary = evaluate(dataset, "T1", "T2", tmp_path / "eval", package=package,
                                subjects=["TCGA-FG-6692-holdout", "TCGA-FG-6692-inferior"])
    assert results[0].status == "missing target T2" and results[1].status == "ok"
    assert summary["scored"] == 1
    assert "missing target T2" in (tmp_path / "eval" / "metrics.csv").read_text(encoding="utf-8")


def test_empty_mask_is_an_error(tmp_path: Path) -> None:
    dataset = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    mask_path = dataset / "TCGA-FG-6692-holdout" / "mask.nii.gz"
    mask = sitk.ReadImage(str(mask_path))
    sitk.WriteImage(mask * 0, str(mask_path))
    with pytest.raises(GANTranslateError, match="mask is empty"):
        evaluate(dataset, "T1", "T2", tmp_path / "eval", package=t1_to_t2_identity(tmp_path))


def test_restoration_models_are_compared_with_the_degraded_input_and_non_local_means(tmp_path: Path) -> None:
    norm = {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}
    package = make_package(tmp_path / "model", task="denoising", normalization={"T1": norm, "T2": norm})
    _, summary = evaluate(DATASET, "T1", "T2", tmp_path / "eval", package=package)
    assert {"input_psnr", "nlm_psnr", "baseline_psnr", "psnr"} <= set(summary["metrics"])
    assert "non-local means" in (tmp_path / "eval" / "summary.md").read_text(encoding="utf-8")
    # the model is compared slice by slice with each rival, on the same slices
    subject = DATASET / "TCGA-FG-6692-holdout"
    volume = lambda path: sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(np.float32)  # noqa: E731
    synthetic, degraded, real = (volume(tmp_path / "eval" / "synthetic" / "TCGA-FG-6692-holdout_T2.nii.gz"),
                                 volume(subject / "T1.nii.gz"), volume(subject / "T2.nii.gz"))
    mask = volume(subject / "mask.nii.gz") > 0
    for rival, image in (("input", degraded), ("nlm", non_local_means(degraded, mask))):
        won, of = metrics.slices_won(synthetic, image, real, mask, axis=0)
        assert summary["slices_won"][rival] == {"won": won, "of": of} and of > 1
    assert set(summary["slices_won"]) == {"baseline", "input", "nlm"}
    header = next(csv.reader((tmp_path / "eval" / "metrics.csv").open(encoding="utf-8")))
    assert header[-4:] == ["axial_slices_beating_baseline", "axial_slices_beating_input", "axial_slices_beating_nlm", "notes"]


def test_montage_columns_line_up_for_a_thin_slab(tmp_path: Path) -> None:
    """A sagittal slab 8 voxels wide: its axial and coronal planes are narrow, yet each column starts where
    its label is, as wide as the column's widest plane (the sagittal one, 50 mm)."""
    from PIL import Image

    from GANTranslateLib.montage import write_montage

    rng = np.random.default_rng(0)
    real = rng.uniform(100, 200, (40, 50, 8)).astype(np.float32)
    path = write_montage(tmp_path / "m.png", real, real, real, np.ones(real.shape, bool), np.eye(3), (1.0, 1.0, 1.0), "slab")
    canvas = np.asarray(Image.open(path))
    assert canvas.shape == (36 + 50 + 40 + 40, 4 * 50)
    axial_row = canvas[36:86]
    for column in range(3):  # source, synthetic, real: the 8-pixel-wide axial plane at the column's start
        assert axial_row[:, 50 * column : 50 * column + 8].mean() > 50
        assert axial_row[:, 50 * column + 8 : 50 * column + 50].max() == 0
    assert axial_row[:, 150:].max() == 0  # no error


def test_without_training_subjects_the_baseline_is_the_one_the_card_learned(tmp_path: Path) -> None:
    """A folder of test subjects alone (as the bundled sample): the model is still compared with the look-up
    table of its own training data, which the trainer records in the card (baseline_tables)."""
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    info = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    info.update(training=[], validation=["TCGA-FG-6692-holdout"])
    (root / "dataset.json").write_text(json.dumps(info), encoding="utf-8")
    norm = {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}
    identity_table = np.linspace(-1, 1, 256).round(5).tolist()
    package = make_package(tmp_path / "model", normalization={"T1": norm, "T2": norm},
                           baseline_tables={"T1->T2": identity_table})
    _, summary = evaluate(root, "T1", "T2", tmp_path / "eval", package=package)
    assert "baseline_psnr" in summary["metrics"]
    plain = make_package(tmp_path / "plain", normalization={"T1": norm, "T2": norm})
    _, summary = evaluate(root, "T1", "T2", tmp_path / "eval-plain", package=plain)
    assert "baseline_psnr" not in summary["metrics"]  # nothing to learn it from, and nothing recorded


def test_reports_never_go_among_a_users_files(tmp_path: Path, capsys) -> None:
    """-o a folder of the user's files: refused before any work, the files untouched; a folder holding an
    earlier evaluation is updated (a rerun)."""
    package = t1_to_t2_identity(tmp_path)
    busy = tmp_path / "results"
    busy.mkdir()
    (busy / "metrics.csv").write_text("my own numbers", encoding="utf-8")
    args = ["evaluate", "--dataset", str(DATASET), "--source", "T1", "--target", "T2", "-m", str(package.path), "-o"]
    assert main(args + [str(busy)]) == 1
    assert "holds other files; give a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in busy.iterdir()] == ["metrics.csv"]
    assert (busy / "metrics.csv").read_text(encoding="utf-8") == "my own numbers"
    out = tmp_path / "eval"
    assert main(args + [str(out)]) == 0 and main(args + [str(out)]) == 0  # a rerun updates its own reports
