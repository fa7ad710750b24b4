"""Wiring check of GANTranslateLogic with stand-ins for the Slicer application (NOT the Slicer test:
that is GANTranslateTest, run in a real Slicer). MRML is real (slicer-core); see the script's docstring."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, make_package

pytest.importorskip("slicer", reason="slicer-core (real MRML) is a test dependency")


def test_logic_runs_the_engine_and_imports_into_a_real_scene(tmp_path: Path) -> None:
    package = make_package(tmp_path / "identity", id="identity-wiring")
    script = Path(__file__).with_name("module_logic_wiring_standins.py")
    done = subprocess.run([sys.executable, str(script), str(package.path), str(DATA / "tcga_t1_native_oblique_crop.nii.gz")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "knows no domain 'FLAIR'" in report["bad_direction_error"]
    assert report["scene_unchanged_after_failure"]
    assert report["name"] == "T1 sample → T2" and report["model"] == "identity-wiring"
    assert report["same_geometry"] and report["dimensions_equal"] and report["progress_monotone"]
    assert report["disagreement_name"] == "T1 sample → T2 disagreement (T2 units)" and report["disagreement_same_grid"]
    assert report["layers"] == [{"background": "T1 sample → T2", "foreground": "T1 sample", "foregroundOpacity": 0.0},
                                {"foregroundOpacity": 1.0}, {"foregroundOpacity": 0.0}]
    assert report["mr_window_automatic"]


def test_the_gui_path_reports_progress_failure_and_cancel_from_the_process(tmp_path: Path) -> None:
    """process(wait=False) as the widget calls it, a timer polling a scripted process (stand-ins, not Slicer)."""
    package = make_package(tmp_path / "identity", id="identity-wiring")
    script = Path(__file__).with_name("module_logic_wiring_standins.py")
    done = subprocess.run([sys.executable, str(script), str(package.path), str(DATA / "tcga_t1_native_oblique_crop.nii.gz"),
                           "--background"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    success, failure, cancel = report["success"], report["failure"], report["cancel"]
    for run in (success, failure, cancel):
        assert run["returned"] is None and run["running_after_start"] and not run["running_at_end"]
        assert not run["work_dir_left"]
    assert success["progress"] == sorted(success["progress"]) and success["progress"][-1] == 1.0
    assert any("unlike the training data" in line for line in success["log"])
    assert success["finished"] == [["T1 sample → T2", None]] and success["nodes_added"] == 1
    assert failure["finished"] == [[None, "out of memory: use a smaller batch size or patch size, or run on the CPU"]]
    assert failure["nodes_added"] == 0
    assert cancel["cancelled"] and cancel["finished"] == [] and cancel["nodes_added"] == 0
    assert len(cancel["progress"]) == 1  # nothing after Cancel reaches the GUI
