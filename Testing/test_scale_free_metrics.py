"""The scale-free metric releases are judged by: checked against the project's reference implementation
(../shared/tools/quality_reference.py) on real volumes, and on properties that define it."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import DATA, REPO
from GANTranslateLib import scale_free_metrics as sf
from GANTranslateLib.checkerboard import nyquist_energy_share
from GANTranslateLib.evaluation import evaluate

REFERENCE = REPO.parent / "shared" / "tools" / "quality_reference.py"
SUBJECTS = DATA / "guard_subjects"


def volume(subject: str, domain: str) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(SUBJECTS / subject / f"{domain}.nii.gz"))).astype(np.float64)


def write_mask(tmp_path: Path, subject: str) -> Path:
    image = sitk.ReadImage(str(SUBJECTS / subject / "T2.nii.gz"))
    mask = sitk.Cast(image != 0, sitk.sitkUInt8)
    path = tmp_path / f"{subject}_mask.nii.gz"
    sitk.WriteImage(mask, str(path))
    return path


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the shared reference implementation is not beside this checkout")
def test_the_scores_match_the_reference_implementation(tmp_path: Path) -> None:
    test, train = "ljubljana-cs-07", "ljubljana-cs-19"
    # a stand-in synthetic image: the patient's FLAIR (another contrast, a scale and offset of its own)
    synthetic = SUBJECTS / test / "FLAIR.nii.gz"
    masks = {s: write_mask(tmp_path, s) for s in (test, train)}
    printed = subprocess.run(
        [sys.executable, str(REFERENCE), "--synthetic", str(synthetic), "--real", str(SUBJECTS / test / "T2.nii.gz"),
         "--mask", str(masks[test]), "--source", str(SUBJECTS / test / "T1.nii.gz"),
         "--train", str(SUBJECTS / train / "T1.nii.gz"), str(SUBJECTS / train / "T2.nii.gz"), str(masks[train])],
        capture_output=True, text=True, check=True).stdout.split("\n")
    reference = {line.split()[0]: {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
                 for line in printed if line.strip()}
    mask = volume(test, "T2") != 0
    table = sf.learn_lut([(volume(train, "T1"), volume(train, "T2"), volume(train, "T2") != 0)])
    ours = sf.score_with_rivals(volume(test, "FLAIR"), volume(test, "T2"), volume(test, "T1"), mask, table)
    for name, prefix in (("model", "sf_"), ("training-LUT", "sf_lut_"), ("own-LUT", "sf_own_lut_")):
        assert ours[prefix + "psnr"] == pytest.approx(reference[name]["psnr"], abs=0.006)
        assert ours[prefix + "ssim"] == pytest.approx(reference[name]["ssim"], abs=6e-5)
        assert ours[prefix + "nmae"] == pytest.approx(reference[name]["nmae"], abs=6e-5)


def test_a_scaled_and_shifted_copy_of_the_target_is_perfect_and_a_mapping_cannot_beat_the_own_lut() -> None:
    real, source = volume("ljubljana-cs-07", "T2"), volume("ljubljana-cs-07", "T1")
    mask = real != 0
    # the candidate is compared with the clipped percentile scale, so a copy scores as well as clipping allows
    copy = sf.scores(3.0 * sf.percentile_normalised(real, mask) + 50.0, real, mask)
    assert copy["psnr"] > 60 and copy["ssim"] > 0.999 and copy["nmae"] < 1e-4
    found = sf.score_with_rivals(np.sqrt(np.maximum(source, 0)), real, source, mask, None)
    # an intensity mapping of the source (here a square root) is no better than the patient's own LUT
    assert found["sf_psnr"] <= found["sf_own_lut_psnr"] + 1e-6
    assert found["sf_margin_own_lut_psnr"] == pytest.approx(found["sf_psnr"] - found["sf_own_lut_psnr"])
    assert "sf_lut_psnr" not in found  # no training LUT given


def test_a_checkerboard_raises_the_nyquist_share_above_the_real_images() -> None:
    """A 3 % period-2 texture (as transposed convolutions leave) on a real 1 mm T2, in both directions and
    along x alone, raises the share many times; an odd-sized slice is measured too."""
    real = sitk.GetArrayFromImage(sitk.ReadImage(str(DATA / "tcga_dataset" / "TCGA-FG-6692-holdout" / "T2.nii.gz")))
    real = real.astype(np.float64)
    mask = real != 0
    z, y, x = np.indices(real.shape)
    clean = nyquist_energy_share(real, mask)
    for pattern in ((-1.0) ** (x + y), (-1.0) ** x):
        assert nyquist_energy_share(real * (1 + 0.03 * pattern), mask) > 5 * clean
    odd = (slice(None), slice(0, 63), slice(0, 63))
    assert nyquist_energy_share(real[odd] * (1 + 0.03 * (-1.0) ** (x + y)[odd]), mask[odd]) > 5 * clean


def test_evaluate_leads_with_the_scale_free_section(tmp_path: Path) -> None:
    from conftest import make_package

    norm = {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}
    package = make_package(tmp_path / "model", normalization={"T1": norm, "T2": norm})
    root = tmp_path / "dataset"
    for name in ("ljubljana-cs-07", "ljubljana-cs-19"):
        (root / name).mkdir(parents=True)
        for domain in ("T1", "T2"):
            (root / name / f"{domain}.nii.gz").write_bytes((SUBJECTS / name / f"{domain}.nii.gz").read_bytes())
    (root / "dataset.json").write_text(json.dumps({
        "domains": ["T1", "T2"], "training": ["ljubljana-cs-19"], "test": ["ljubljana-cs-07"]}), encoding="utf-8")
    _, summary = evaluate(root, "T1", "T2", tmp_path / "eval", package=package)
    section = summary["scale_free"]
    assert set(section["mean"]) == {"model", "lut", "own_lut"}
    # the identity model passes T1 through as T2: below the patient's own LUT
    assert section["margins"]["own_lut_psnr"]["worst"] < 0
    assert "ljubljana-cs-07" in section["per_subject"] and "within_real_range" in summary["checkerboard"]
    text = (tmp_path / "eval" / "summary.md").read_text(encoding="utf-8")
    assert text.splitlines()[2].startswith("Scale-free metric") and "patient's own LUT (oracle)" in text
