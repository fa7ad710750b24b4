"""Nothing is read or written outside where it belongs, and nothing short, NaN or half-made passes silently."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from robustness_helpers import REAL_T2, digest, one_line_error
from trainer_helpers import DATASET
from GANTranslateLib.cli import main
from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.image_io import read_volume

FLAIR_SPEC = {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "nonzero", "reference": [0, 1000]}


def detached(tmp_path: Path, kind: str, data_name: str) -> Path:
    """A detached NRRD or MetaImage header beside the user's data, whose data-file line names ``data_name``."""
    folder = tmp_path / "user"
    folder.mkdir(exist_ok=True)
    header = folder / ("scan.nhdr" if kind == "nrrd" else "scan.mhd")
    sitk.WriteImage(sitk.ReadImage(str(REAL_T2)), str(header))
    key = "data file: " if kind == "nrrd" else "ElementDataFile = "
    lines = [f"{key}{data_name}" if line.startswith(key) else line
             for line in header.read_text(encoding="latin-1").splitlines()]
    header.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return header


@pytest.mark.parametrize("kind", ["nrrd", "mha"])
@pytest.mark.parametrize("where", ["dotdot", "absolute"])
def test_a_header_naming_data_outside_its_folder_is_refused(tmp_path: Path, capsys, kind: str, where: str) -> None:
    """'data file: ../other_user/private.raw' (or /etc/passwd) was read and translated."""
    other = tmp_path / "other_user"
    other.mkdir()
    private = other / "private.raw"
    private.write_bytes(np.arange(80 * 80 * 12, dtype=np.int16).tobytes())
    header = detached(tmp_path, kind, "../other_user/private.raw" if where == "dotdot" else str(private))
    package = make_package(tmp_path / "p")
    out = tmp_path / "out.nrrd"
    assert main(["predict", "-m", str(package.path), "-i", str(header), "-o", str(out), "--progress", "none"]) == 1
    assert "outside its own folder" in one_line_error(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["nrrd", "mha"])
def test_a_header_with_its_data_beside_it_reads(tmp_path: Path, kind: str) -> None:
    header = detached(tmp_path, kind, "scan.raw")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(read_volume(header)),
                                  sitk.GetArrayFromImage(sitk.ReadImage(str(REAL_T2))))


def test_a_linked_data_file_leading_outside_is_refused(tmp_path: Path) -> None:
    header = detached(tmp_path, "nrrd", "scan.raw")
    elsewhere = tmp_path / "elsewhere.raw"
    shutil.move(header.parent / "scan.raw", elsewhere)
    (header.parent / "scan.raw").symlink_to(elsewhere)
    with pytest.raises(GANTranslateError, match="outside its own folder"):
        read_volume(header)


def pair(tmp_path: Path, values: np.ndarray) -> Path:
    header = tmp_path / "scan.hdr"
    sitk.WriteImage(sitk.GetImageFromArray(values), str(header))
    assert (tmp_path / "scan.img").is_file()
    return header


@pytest.mark.parametrize("given", ["hdr", "img"])
def test_a_short_header_data_pair_is_refused(tmp_path: Path, given: str) -> None:
    """75 % of the .img missing was read as zeros and translated (the byte check covered .nii/.nii.gz only)."""
    header = pair(tmp_path, np.ones((8, 16, 16), np.float32))
    data = tmp_path / "scan.img"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 4])
    with pytest.raises(GANTranslateError, match="truncated"):
        read_volume(header if given == "hdr" else data)


def test_nan_voxels_in_a_header_data_pair_are_refused(tmp_path: Path) -> None:
    """NaN voxels of a pair were read as 0."""
    values = np.ones((8, 16, 16), np.float32)
    values[3, 4, 5] = np.nan
    with pytest.raises(GANTranslateError, match="NaN"):
        read_volume(pair(tmp_path, values))
    assert sitk.GetArrayFromImage(read_volume(pair(tmp_path, np.ones((8, 16, 16), np.float32)))).min() == 1


def edited_dataset(tmp_path: Path, **lists: list[str]) -> Path:
    root = Path(shutil.copytree(DATASET, tmp_path / "work" / "dataset"))
    manifest = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    manifest.update(lists)
    (root / "dataset.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.mark.parametrize("spelling", ["dotdot", "absolute"])
def test_augment_never_writes_outside_the_dataset(tmp_path: Path, capsys, spelling: str) -> None:
    """A subject named '../elsewhere/x' (or an absolute path) made augment write a synthetic volume there."""
    elsewhere = tmp_path / "work" / "elsewhere" / "x"
    elsewhere.mkdir(parents=True)
    shutil.copyfile(DATASET / "TCGA-FG-6692-holdout" / "T1.nii.gz", elsewhere / "T1.nii.gz")
    name = "../elsewhere/x" if spelling == "dotdot" else str(elsewhere)
    root = edited_dataset(tmp_path, training=["TCGA-FG-6692-inferior", name])
    for subject in DATASET.iterdir():
        if subject.is_dir():
            (root / subject.name / "FLAIR.nii.gz").unlink()
    package = make_package(tmp_path / "m", domains=["T1", "FLAIR"], directions=[["T1", "FLAIR"]],
                           normalization={"T1": FLAIR_SPEC, "FLAIR": FLAIR_SPEC})
    before = digest(elsewhere)
    assert main(["augment", "--dataset", str(root), "--source", "T1", "--target", "FLAIR", "-m", str(package.path)]) == 1
    assert "is not a folder inside the dataset" in one_line_error(capsys.readouterr().err)
    assert digest(elsewhere) == before


def test_a_test_subject_spelled_another_way_is_still_held_out(tmp_path: Path) -> None:
    """'./TCGA-FG-6692-holdout' in test while 'TCGA-FG-6692-holdout' was in training: trained on (strings compared)."""
    root = edited_dataset(tmp_path, training=["TCGA-FG-6692-inferior", "TCGA-FG-6692-holdout"], validation=[],
                          test=["./TCGA-FG-6692-holdout"])
    with pytest.raises(GANTranslateError, match="in both training and test"):
        read_dataset(root)


def test_a_synthetic_volume_without_its_provenance_is_made_again(tmp_path: Path) -> None:
    """A kill between the volume and its record left T2.synthetic.nii.gz unexplained, and reruns skipped it."""
    root = edited_dataset(tmp_path)
    for subject in ("TCGA-FG-6692-inferior", "TCGA-FG-6692-superior", "TCGA-FG-6692-holdout"):
        (root / subject / "FLAIR.nii.gz").unlink()
    package = make_package(tmp_path / "m", domains=["T1", "FLAIR"], directions=[["T1", "FLAIR"]],
                           normalization={"T1": FLAIR_SPEC, "FLAIR": FLAIR_SPEC})
    args = ["augment", "--dataset", str(root), "--source", "T1", "--target", "FLAIR", "-m", str(package.path)]
    assert main(args) == 0
    record = root / "TCGA-FG-6692-inferior" / "FLAIR.synthetic.json"
    record.unlink()  # as if killed between the two writes
    with pytest.raises(GANTranslateError, match="no provenance record"):
        from GANTranslateLib.dataset_completion import provenance_of

        provenance_of(root / "TCGA-FG-6692-inferior" / "FLAIR.synthetic.nii.gz")
    assert main(args) == 0
    assert json.loads(record.read_text(encoding="utf-8"))["synthetic"] is True
