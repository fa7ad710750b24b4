"""Hostile and broken DICOM series folders given to ``predict --dicom``: each is refused in one line that names
the problem, exit 1, and nothing is written; before the slices were checked, each was translated onto a
wrong grid with exit 0 (issue 22, items 9-11; the DICOM-input cases of issue 25)."""
from pathlib import Path

import pytest

pytest.importorskip("pydicom")

from conftest import make_package  # noqa: E402
from dicom_crafting import craft_series  # noqa: E402
from robustness_helpers import one_line_error  # noqa: E402
from GANTranslateLib.cli import main  # noqa: E402


def _sagittal(k, dataset):
    if k == 3:
        dataset.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]


def _time_points(k, dataset):
    dataset.TemporalPositionIdentifier = 1 + k % 2


def _no_position(k, dataset):
    if k == 1:
        del dataset.ImagePositionPatient


def _huge(k, dataset):
    dataset.Rows, dataset.Columns = 60000, 60000


CASES = {
    "missing slice": (dict(count=6, distances=[0, 4, 8, 16, 20, 24]), "a slice is missing"),
    "uneven spacing": (dict(count=5, distances=[0, 4, 8, 12.7, 16.7]), "unevenly spaced"),
    "duplicated slice": (dict(count=5, distances=[0, 4, 8, 8, 12]), "same position"),
    "sagittal among axial": (dict(count=5, edit=_sagittal), "sagittal slice among"),
    "two echoes": (dict(count=4, echoes=2), "--echo"),
    "two time points": (dict(count=4, edit=_time_points), "time series"),
    "slice without a position": (dict(count=4, edit=_no_position), "no valid Image Position"),
    "header claims 60000 x 60000": (dict(count=3, edit=_huge), "claims 60000 x 60000"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_series_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path, case: str, capsys) -> None:
    arguments, expected = CASES[case]
    folder = craft_series(tmp_path / "series", **arguments)
    package = make_package(tmp_path / "p")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(folder), "-o", str(out), "--dicom",
                 "--progress", "none"]) == 1
    assert expected in one_line_error(capsys.readouterr().err)
    assert not out.exists()


def test_a_truncated_file_in_a_series_is_named(tmp_path: Path, capsys) -> None:
    folder = craft_series(tmp_path / "series", 4)
    damaged = sorted(folder.iterdir())[2]
    damaged.write_bytes(damaged.read_bytes()[:-4000])
    package = make_package(tmp_path / "p")
    assert main(["predict", "-m", str(package.path), "-i", str(folder), "-o", str(tmp_path / "o.nii.gz"),
                 "--progress", "none"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert damaged.name in line and "truncated" in line and not (tmp_path / "o.nii.gz").exists()


def test_a_folder_of_two_series_and_a_stray_file_is_refused_then_read_without_the_second(tmp_path: Path, capsys) -> None:
    folder = craft_series(tmp_path / "series", 4)
    craft_series(tmp_path / "other", 4)
    (folder / "README.txt").write_text("not DICOM", encoding="utf-8")
    for path in sorted((tmp_path / "other").iterdir()):
        path.rename(folder / f"other_{path.name}")
    package = make_package(tmp_path / "p")
    arguments = ["predict", "-m", str(package.path), "-i", str(folder), "-o", str(tmp_path / "o.nii.gz"), "--progress", "none"]
    assert main(arguments) == 1
    assert "holds 2 DICOM series" in one_line_error(capsys.readouterr().err)
    for path in folder.glob("other_*"):
        path.unlink()
    assert main(arguments) == 0  # the stray text file is not an image: it is left alone
