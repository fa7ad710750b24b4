"""Damaged inputs are refused in one line, never translated as if they were whole."""
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from robustness_helpers import REAL_T2, one_line_error
from GANTranslateLib.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "GANTranslate" / "Resources" / "SampleData" / "TCGA-FG-6692-holdout" / "T1.nii.gz"


def nifti(tmp_path: Path, name: str, array: np.ndarray) -> Path:
    path = tmp_path / name
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))
    return path


def damaged(tmp_path: Path, case: str) -> Path:
    volume = np.random.default_rng(0).uniform(10, 500, (12, 40, 40)).astype(np.float32)
    if case == "truncated .nii.gz":
        path = tmp_path / "t.nii.gz"
        path.write_bytes(SAMPLE.read_bytes()[:20000])
    elif case == "truncated .nii":
        path = nifti(tmp_path, "t.nii", volume)
        path.write_bytes(path.read_bytes()[:-3000])
    elif case == "corrupt .nii.gz":
        path = tmp_path / "c.nii.gz"
        data = bytearray(SAMPLE.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif case == "NaN in .nii":
        volume[3, 4, 5] = np.nan
        path = nifti(tmp_path, "n.nii", volume)
    elif case == "infinity in .nii.gz":
        volume[3, 4, 5] = np.inf
        path = nifti(tmp_path, "n.nii.gz", volume)
    elif case == "complex":
        path = tmp_path / "k.nrrd"
        sitk.WriteImage(sitk.GetImageFromArray((volume + 1j * volume).astype(np.complex64)), str(path))
    elif case == "not gzip":
        path = tmp_path / "fake.nii.gz"
        path.write_bytes(b"plain text, not a volume")
    elif case == "truncated .nrrd":
        path = tmp_path / "t.nrrd"
        shutil.copyfile(REAL_T2, path)
        path.write_bytes(path.read_bytes()[:-5000])
    return path


CASES = {"truncated .nii.gz": "truncated", "truncated .nii": "truncated", "corrupt .nii.gz": "corrupt",
         "NaN in .nii": "NaN", "infinity in .nii.gz": "NaN", "complex": "complex-valued", "not gzip": "not gzip",
         "truncated .nrrd": "cannot read"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_input_is_refused(tmp_path: Path, capsys, case: str) -> None:
    package = make_package(tmp_path / "p")
    out = tmp_path / "out" / "o.nii.gz"
    out.parent.mkdir()
    assert main(["predict", "-m", str(package.path), "-i", str(damaged(tmp_path, case)), "-o", str(out)]) == 1
    assert CASES[case] in one_line_error(capsys.readouterr().err)
    assert list(out.parent.iterdir()) == []


def test_a_whole_compressed_file_still_reads(tmp_path: Path) -> None:
    """The check reads the whole stream: a valid file (here re-compressed by Python's gzip) passes."""
    path = tmp_path / "whole.nii.gz"
    path.write_bytes(gzip.compress(gzip.decompress(SAMPLE.read_bytes())))
    out = tmp_path / "o.nii.gz"
    assert main(["predict", "-m", str(make_package(tmp_path / "p").path), "-i", str(path), "-o", str(out)]) == 0


def test_a_constant_volume_is_translated_with_a_warning(tmp_path: Path, capsys) -> None:
    path = nifti(tmp_path, "flat.nii.gz", np.full((4, 16, 16), 300, np.float32))
    out = tmp_path / "o.nii.gz"
    assert main(["predict", "-m", str(make_package(tmp_path / "p").path), "-i", str(path), "-o", str(out)]) == 0
    assert "gantranslate: warning: the input is constant" in capsys.readouterr().err


def test_saturating_output_dtype_is_refused(tmp_path: Path, capsys) -> None:
    """A uint8 input whose translation leaves 0..255: refused with the range, not silently clipped."""
    spec_in = {"method": "window", "min": 0, "max": 255}
    spec_out = {"method": "window", "min": 0, "max": 4000}
    package = make_package(tmp_path / "p", normalization={"T1": spec_in, "T2": spec_out})
    path = tmp_path / "u8.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.random.default_rng(0).integers(0, 255, (4, 16, 16), dtype=np.uint8)), str(path))
    out = tmp_path / "o.nrrd"
    assert main(["predict", "-m", str(package.path), "-i", str(path), "-o", str(out), "--output-dtype", "input"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "would saturate" in line and "--output-dtype float32" in line and not out.exists()
