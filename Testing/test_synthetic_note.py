"""Every output says whole what made it: NIfTI's 80-byte field a short note and a JSON sidecar the rest."""
import json
from pathlib import Path

import pytest
import SimpleITK as sitk

from conftest import DATA, make_package
from GANTranslateLib.cli import main

SCAN = DATA / "tcga_t2_brats_crop.nrrd"
LONG_ID = "t1-to-t2-retrained-at-our-site"  # with a local version the full note is 106 characters


@pytest.fixture
def package(tmp_path: Path):
    return make_package(tmp_path / LONG_ID, id=LONG_ID, version="0.0.0+local.20261204T120000Z")


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_a_nifti_output_holds_a_short_note_and_its_sidecar_the_whole(tmp_path: Path, package, suffix: str) -> None:
    """The description was the full note cut at 80 bytes ('...not an acquired ima')."""
    out = tmp_path / f"synthetic_T2{suffix}"
    assert main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--progress", "none"]) == 0
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(out))
    reader.ReadImageInformation()
    assert reader.GetMetaData("descrip") == f"SYNTHETIC T2 by {LONG_ID} 0.0.0+local.20261204T120000Z"
    sidecar = json.loads((tmp_path / "synthetic_T2.json").read_text(encoding="utf-8"))
    assert sidecar["GANTranslate_synthetic"] == (f"SYNTHETIC T2 from T1 by {LONG_ID} 0.0.0+local.20261204T120000Z; "
                                                 "not an acquired image")
    assert sidecar["Synthetic"] is True
    assert main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--progress", "none"]) == 0  # a rerun


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_nrrd_and_mha_headers_hold_the_whole_note(tmp_path: Path, package, suffix: str) -> None:
    out = tmp_path / f"synthetic_T2{suffix}"
    assert main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--progress", "none"]) == 0
    assert sitk.ReadImage(str(out)).GetMetaData("GANTranslate_synthetic").endswith("; not an acquired image")
    assert not (tmp_path / "synthetic_T2.json").exists()


def test_a_users_sidecar_is_never_replaced_without_asking(tmp_path: Path, package, capsys) -> None:
    """A BIDS sidecar (sub-01_T2w.json) beside the chosen output name is the user's."""
    bids = tmp_path / "sub-01_T2w.json"
    bids.write_text('{"RepetitionTime": 4.2}\n', encoding="utf-8")
    out = tmp_path / "sub-01_T2w.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--progress", "none"]) == 1
    assert "sub-01_T2w.json exists and was not written by GANTranslate" in capsys.readouterr().err
    assert bids.read_text(encoding="utf-8") == '{"RepetitionTime": 4.2}\n' and not out.exists()


def test_a_disagreement_map_note_fits_too(tmp_path: Path, package) -> None:
    out, disagreement = tmp_path / "t2.nii.gz", tmp_path / "map.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--disagreement-map",
                 str(disagreement), "--progress", "none"]) == 0
    note = json.loads((tmp_path / "map.json").read_text(encoding="utf-8"))["GANTranslate_synthetic"]
    assert note.startswith("SYNTHETIC disagreement map (T2 units)") and note.endswith("; not an image")
    descrip = sitk.ReadImage(str(disagreement)).GetMetaData("descrip")
    assert descrip.startswith("SYNTHETIC T2 disagreement of") and len(descrip) <= 79
