"""Inputs are never overwritten, by whatever name an output is given."""
import os
import shutil
from pathlib import Path

import pytest

from conftest import make_package
from robustness_helpers import REAL_T2, one_line_error
from GANTranslateLib.cli import main


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "a.nrrd"
    shutil.copyfile(REAL_T2, path)
    return path


def predict(package, scan: Path, output: str, *extra: str) -> int:
    return main(["predict", "-m", str(package.path), "-i", str(scan), "-o", output, "--progress", "none", *extra])


@pytest.mark.parametrize("spelling", ["same", "dotdot", "hardlink", "symlink"])
def test_output_naming_the_input_is_refused(tmp_path: Path, scan: Path, capsys, spelling: str) -> None:
    package = make_package(tmp_path / "p")
    (tmp_path / "x").mkdir()
    output = {"same": scan, "dotdot": tmp_path / "x" / ".." / scan.name}.get(spelling)
    if spelling == "hardlink":
        output = tmp_path / "link.nrrd"
        os.link(scan, output)
    if spelling == "symlink":
        output = tmp_path / "alias.nrrd"
        output.symlink_to(scan)
    before = scan.read_bytes()
    assert predict(package, scan, str(output)) == 1
    assert "is the input" in one_line_error(capsys.readouterr().err)
    assert scan.read_bytes() == before


@pytest.mark.parametrize("clash", ["input", "output"])
def test_disagreement_map_naming_the_input_or_the_output_is_refused(tmp_path: Path, scan: Path, capsys, clash: str) -> None:
    package = make_package(tmp_path / "p")
    out = tmp_path / "out.nrrd"
    before = scan.read_bytes()
    target = scan if clash == "input" else out
    assert predict(package, scan, str(out), "--disagreement-map", str(target)) == 1
    one_line_error(capsys.readouterr().err)
    assert scan.read_bytes() == before and not out.exists()


def test_an_output_that_is_a_folder_is_refused_before_any_work(tmp_path: Path, scan: Path, capsys, monkeypatch) -> None:
    import GANTranslateLib.translation as translation

    monkeypatch.setattr(translation, "translate_image", lambda *a, **k: pytest.fail("translated before checking -o"))
    package = make_package(tmp_path / "p")
    (tmp_path / "results").mkdir()
    assert predict(package, scan, str(tmp_path / "results")) == 1
    assert "is a folder" in one_line_error(capsys.readouterr().err)


def test_an_existing_file_gantranslate_did_not_write_is_not_replaced(tmp_path: Path, scan: Path, capsys) -> None:
    """-o T2.nii.gz in a subject's folder that holds the acquired T2: refused, the file untouched; GANTranslate's
    own earlier output (its header says SYNTHETIC) is replaced by a rerun, as is any file with --force-overwrite."""
    package = make_package(tmp_path / "p")
    acquired = tmp_path / "T2.nrrd"
    shutil.copyfile(REAL_T2, acquired)
    before = acquired.read_bytes()
    assert predict(package, scan, str(acquired)) == 1
    assert "was not written by GANTranslate" in one_line_error(capsys.readouterr().err)
    assert acquired.read_bytes() == before
    mine, disagreement = tmp_path / "synthetic.nrrd", tmp_path / "map.nrrd"
    assert predict(package, scan, str(mine), "--disagreement-map", str(disagreement)) == 0
    assert predict(package, scan, str(mine), "--disagreement-map", str(disagreement)) == 0  # a rerun
    assert predict(package, scan, str(acquired), "--force-overwrite") == 0
    assert acquired.read_bytes() != before
