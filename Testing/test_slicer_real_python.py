"""The panel, its parameter node and the scene round trip, run through Slicer's own Python layer (its
parameterNodeWrapper, ScriptedLoadableModule and i18n of v5.10.0 and v5.8.1, read from ../shared/slicer-python)
over slicer-core's real MRML. Stand-ins, named so, only for PythonQt's widgets and the Slicer application
(pythonqt_standins.py, slicer_real_python.py). No Slicer application runs here."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import slicer_real_python

pytest.importorskip("slicer", reason="slicer-core (real MRML) is a test dependency")
VERSIONS = [pytest.param(v, marks=pytest.mark.skipif(not slicer_real_python.available(v), reason=(
    f"../shared/slicer-python/{v} (Slicer's own Python files) is absent here"))) for v in slicer_real_python.VERSIONS]


def run(version: str, scenario: str, *args: str) -> dict:
    script = Path(__file__).with_name("real_slicer_panel_checks.py")
    done = subprocess.run([sys.executable, str(script), version, scenario, *args], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report.pop("slot_errors") == []
    return report


def shown(state: dict) -> dict:
    return {key: state[key] for key in ("source", "target", "model", "mode", "axis", "device", "input", "patch", "overlap")}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_saved_scene_restores_every_choice_into_the_panel_and_the_run(version: str, tmp_path: Path) -> None:
    report = run(version, "restore", str(tmp_path / "scene.mrml"))
    check_no_silent_contrast(report["fresh"])
    chosen = {"source": "T2", "target": "T1", "model": "t2-to-t1-pix2pix-2d", "mode": 2, "axis": 2, "device": "cpu",
              "input": "sample", "patch": 96, "overlap": 0.25}
    in_node = {"source": "T2", "target": "T1", "model": "t2-to-t1-pix2pix-2d", "mode": "patch", "axis": "coronal",
               "device": "cpu", "patch": 96, "overlap": 0.25, "input": "sample"}
    assert shown(report["chosen"]) == chosen and report["chosen"]["node"] == in_node  # the panel writes the node
    assert report["saved"]
    assert report["devices"] == [["Auto (GPU if available)", "auto"], ["GPU 0: Stand-in GPU", "cuda:0"], ["CPU (slow)", "cpu"]]
    assert shown(report["changed"])["source"] == "T1" and report["changed"]["node"]["mode"] == "auto"
    # the saved scene loaded while the module is open: one node, updated in place; the panel shows it
    assert report["imported_nodes"] == 1
    assert shown(report["imported"]) == chosen and report["imported"]["node"] == in_node
    # and Apply runs exactly that
    command = report["command"]
    assert command[command.index("-m", 3) + 1].endswith("t2-to-t1-pix2pix-2d")
    for flag, value in (("--source", "T2"), ("--target", "T1"), ("--mode", "patch"), ("--axis", "coronal"), ("--device", "cpu"),
                        ("--overlap", "0.25")):
        assert command[command.index(flag) + 1] == value, flag
    assert command[command.index("--patch-size") + 1:command.index("--patch-size") + 4] == ["96"] * 3
    # Slicer restarted, the scene loaded, the module opened: the same
    assert shown(report["reloaded"]) == chosen and report["reloaded"]["node"] == in_node
    assert report["reloaded"]["apply"][:2] == ["Apply", True]


def check_no_silent_contrast(fresh: dict) -> None:
    """A new panel on a volume whose name names no contrast: nothing preselected, Apply says what is missing."""
    assert fresh["source"] == "" and fresh["sourceText"] == "Choose the input's contrast" and fresh["node"]["source"] == ""
    assert fresh["apply"] == ["Apply", False, "Missing: the input's contrast"]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_input_pick_skips_what_cannot_be_translated_and_a_guess_says_so(version: str) -> None:
    report = run(version, "inputs")
    picked = report["picked"]  # a label map and a vector volume come first in the scene
    assert picked["input"] == "patient 7 series 3" and picked["node"]["input"] == "patient 7 series 3"
    assert picked["source"] == "" and picked["apply"][:2] == ["Apply", False]
    guessed = report["guessed"]
    assert guessed["input"] == "AX T2 FSE" and guessed["source"] == "T2" and guessed["node"]["source"] == "T2"
    assert guessed["sourceText"] == "T2 (guessed from 'AX T2 FSE': check it)"
    assert report["guess_dropped"]["source"] == "" and report["guess_dropped"]["node"]["source"] == ""
    kept = report["kept"]
    assert kept["input"] == "AX T2 FSE" and kept["source"] == "T1" and kept["sourceText"] == "T1" and kept["node"]["source"] == "T1"
    unchosen = report["unchosen"]
    assert unchosen["source"] == "" and unchosen["apply"][:2] == ["Apply", False]
    assert report["sequence_browser"] == "cine" and report["plain_browser"]
    # a frame of a sequence is translated as that frame, and the result says so; it records the card's intended use
    assert report["frame_result"]["warnings"] == "AX T2 FSE is one frame of the sequence 'cine': only the frame shown was translated"
    assert report["frame_result"]["intended_use"].startswith("Research use only")


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_in_the_catalog_dialog_installs_nothing(version: str) -> None:
    report = run(version, "catalog")
    assert report["cancelled"] == {"added": [], "status": "No model installed."}
    assert report["accepted"]["added"] == [report["accepted"]["entry"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_panel_sets_up_with_everything_installed(version: str) -> None:
    report = run(version, "setup")
    assert report["state"]["install"][0] is False and report["install"]["pip"] == []
    assert report["devices"][0] == ["Auto (GPU if available)", "auto"] and report["devices"][-1] == ["CPU (slow)", "cpu"]
