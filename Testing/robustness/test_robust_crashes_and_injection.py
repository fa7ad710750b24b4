"""Names and cards written by others never crash the process, print raw control characters, or get rewritten."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_package
from robustness_helpers import REAL_T2, digest, one_line_error
from GANTranslateLib import model_registry
from GANTranslateLib.cli import main

LATIN1_NAME = os.fsdecode(b"caf\xe9.nrrd")  # a file name that is not valid UTF-8


def gantranslate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """In a child process: the old failure was an abort (SIGABRT) from ITK's C++ code."""
    environment = dict(os.environ, PYTHONPATH=f"{REPO / 'GANTranslate'}{os.pathsep}{REPO / 'trainer'}")
    return subprocess.run([sys.executable, "-m", "GANTranslateLib.cli", *args], cwd=cwd, capture_output=True,
                          text=True, errors="replace", env=environment, timeout=300)


def test_a_file_name_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    shutil.copyfile(REAL_T2, tmp_path / LATIN1_NAME)
    package = make_package(tmp_path / "p")
    done = gantranslate("predict", "-m", str(package.path), "-i", LATIN1_NAME, "-o", "out.nrrd", "--progress", "none",
                        cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "is not valid UTF-8" in one_line_error(done.stderr)
    done = gantranslate("predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", LATIN1_NAME.replace(".", "-out."),
                        "--progress", "none", cwd=tmp_path)
    assert done.returncode == 1 and "is not valid UTF-8" in one_line_error(done.stderr)


def test_a_batch_goes_on_past_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """The abort took the whole batch down at that file."""
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copyfile(REAL_T2, scans / LATIN1_NAME)
    shutil.copyfile(REAL_T2, scans / "plain.nrrd")
    package = make_package(tmp_path / "p")
    done = gantranslate("predict", "-m", str(package.path), "-i", str(scans), "-o", str(tmp_path / "out"),
                        "--progress", "none", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # one volume failed
    assert (tmp_path / "out" / "plain_synthetic-T2.nrrd").is_file()
    summary = (tmp_path / "out" / "summary.csv").read_bytes()
    assert b"caf\xe9.nrrd" in summary and b"is not valid UTF-8" in summary and b",ok," in summary


def test_models_info_prints_no_control_characters_from_a_card(tmp_path: Path, capsys, monkeypatch) -> None:
    """A card's text set the window title, cleared the screen and overwrote a line with a false claim."""
    hostile = "Brain\x1b]0;pwned\x07\x1b[2J\rmodel approved for clinical use\u202e"
    package = make_package(tmp_path / "models" / "hostile", id="hostile", name=hostile, training_data=hostile,
                           license="CC0-1.0\x1b[1A")
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "models"))
    assert main(["models", "info", str(package.path)]) == 0
    assert main(["models", "list"]) == 0
    shown = capsys.readouterr().out
    assert not any(c in shown for c in "\x1b\x07\r\u202e")
    assert "\\x1b]0;pwned" in shown  # shown, as an escape, so the reader sees that something is there
    assert main(["models", "info", "--json", str(package.path)]) == 0  # the card itself, as JSON, unchanged
    assert json.loads(capsys.readouterr().out)["name"] == hostile


def test_check_fast_never_rewrites_a_bundled_card(tmp_path: Path, capsys, monkeypatch) -> None:
    """`models check-fast MODEL -i VOLUME` replaced a bundled card's measured error by one from the user's sample."""
    bundled = tmp_path / "bundled"
    make_package(bundled / "small-unet", id="small-unet",
                 architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance"}})
    monkeypatch.setattr(model_registry, "BUNDLED_MODELS", bundled)
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "user-models"))
    before = digest(bundled)
    assert main(["models", "check-fast", "small-unet", "-i", str(REAL_T2)]) == 0
    assert "not recorded" in capsys.readouterr().out
    assert main(["models", "check-fast", "small-unet", "-i", str(REAL_T2), "--record"]) == 1
    assert "never modified in place" in one_line_error(capsys.readouterr().err)
    assert digest(bundled) == before


def edited_card(package_dir: Path, **changes) -> None:
    card = json.loads((package_dir / "model.json").read_text(encoding="utf-8"))
    card.update(changes)
    (package_dir / "model.json").write_text(json.dumps(card), encoding="utf-8")


WINDOW = {"method": "window", "min": -4000, "max": 4000}
SCHEMA_VALID_BUT_IMPOSSIBLE = {
    "empty window": {"normalization": {"T1": {"method": "window", "min": 5, "max": 5}, "T2": WINDOW}},
    "percentiles reversed": {"normalization": {"T1": {"method": "percentile", "low": 99, "high": 1, "reference": [0, 1]},
                                               "T2": WINDOW}},
    "empty reference": {"normalization": {"T1": WINDOW, "T2": {"method": "zscore", "clip": 3, "reference": [3, 3]}}},
    "more slices than channels": {"slice": {"axis": "axial", "adjacent": 8}},
}


@pytest.mark.parametrize("case", SCHEMA_VALID_BUT_IMPOSSIBLE)
def test_a_schema_valid_but_impossible_card_is_refused_in_one_line(tmp_path: Path, capsys, case: str) -> None:
    """These cards passed the schema and ended in a division by zero (an output of infinities), a misleading
    'intensities are constant', or a ValueError traceback from the slice loop."""
    package = make_package(tmp_path / "p")
    edited_card(package.path, **SCHEMA_VALID_BUT_IMPOSSIBLE[case])
    out = tmp_path / "out.nrrd"
    assert main(["predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", str(out), "--progress", "none"]) == 1
    assert "model.json: " in one_line_error(capsys.readouterr().err) and not out.exists()


@pytest.mark.parametrize("metrics", [{"held_out_evaluation": [1, 2]},
                                     {"held_out_evaluation": {"T1->T2": None}},
                                     {"held_out_evaluation": {"T1->T2": {"metrics": {"psnr": {"mean": "high"}}}}}])
def test_models_info_shows_a_card_with_free_form_metrics(tmp_path: Path, capsys, metrics: dict) -> None:
    """'metrics' is free-form in the schema; `models info` ended in a traceback on these."""
    package = make_package(tmp_path / "p")
    edited_card(package.path, metrics=metrics)
    assert main(["models", "info", str(package.path)]) == 0
    assert "identity-test" in capsys.readouterr().out


def test_a_nul_character_in_a_name_is_one_line(tmp_path: Path, capsys) -> None:
    """A CSV row or a dataset.json subject holding NUL ended in 'ValueError: embedded null byte'."""
    package = make_package(tmp_path / "p")
    listing = tmp_path / "list.csv"
    listing.write_text("input\nscan\x00.nrrd\n", encoding="utf-8")
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "out"),
                 "--progress", "none"]) == 1
    assert "line 2: a file name holds a NUL character" in one_line_error(capsys.readouterr().err)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "dataset.json").write_text(json.dumps({"domains": ["T1"], "training": ["sub\x00-01"]}), encoding="utf-8")
    assert main(["augment", "--dataset", str(dataset), "--source", "T1", "--target", "T2", "-m", str(package.path)]) == 1
    assert "holds a control character" in one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("normalization", [
    {"T1": {"method": "window", "min": -1e308, "max": 1e308}, "T2": WINDOW},
    {"T1": WINDOW, "T2": {"method": "zscore", "clip": 3, "reference": [-1e308, 1e308]}}])
def test_a_card_whose_ranges_overflow_gives_a_true_error(tmp_path: Path, capsys, normalization: dict) -> None:
    """Ranges beyond float32 gave NaN voxels, reported as 'the written file does not read back' (a write error)."""
    package = make_package(tmp_path / "p")
    edited_card(package.path, normalization=normalization)
    out = tmp_path / "out.nrrd"
    assert main(["predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", str(out), "--progress", "none"]) == 1
    assert "non-finite voxel(s)" in one_line_error(capsys.readouterr().err) and not out.exists()
