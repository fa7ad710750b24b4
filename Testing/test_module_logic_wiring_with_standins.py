"""Wiring check of GANTranslateLogic with stand-ins for the Slicer application (NOT the Slicer test:
that is GANTranslateTest, run in a real Slicer). MRML is real (slicer-core); see the script's docstring."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

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
    assert report["name"] == "T1 sample synthetic T2" and report["model"] == "identity-wiring"
    assert report["same_geometry"] and report["dimensions_equal"] and report["progress_monotone"]
    assert report["disagreement_name"] == "T1 sample synthetic T2 disagreement (T2 units)" and report["disagreement_same_grid"]
    assert report["layers"] == [{"background": "T1 sample synthetic T2", "foreground": "T1 sample", "foregroundOpacity": 0.0},
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
    assert not any(line.lstrip().startswith("{") for line in success["log"])  # the engine's JSON lines are not the log
    assert success["finished"] == [["T1 sample synthetic T2", None]] and success["nodes_added"] == 1
    assert failure["finished"] == [[None, "out of memory: use a smaller batch size or patch size, or run on the CPU"]]
    assert failure["nodes_added"] == 0
    assert cancel["cancelled"] and cancel["finished"] == [] and cancel["nodes_added"] == 0
    assert len(cancel["progress"]) == 1  # nothing after Cancel reaches the GUI


def test_the_widget_drives_a_run_from_apply_to_the_new_node_and_exports_dicom(tmp_path: Path, dicom_series: Path) -> None:
    """GANTranslateWidget's own path, with the real .ui in Qt (PySide6) and a scripted process: Apply turns into
    Cancel and back, the progress bar and status line follow the process, a failure is a dialog and a status,
    a process that cannot start leaves Apply usable, and the result exports as a SYNTHETIC DICOM series in the
    input's study (stand-ins for PythonQt and the Slicer application; not the Slicer test)."""
    pytest.importorskip("PySide6")
    pydicom = pytest.importorskip("pydicom")
    make_package(tmp_path / "models" / "identity-wiring", id="identity-wiring")
    source_file = sorted(dicom_series.iterdir())[0]
    volume = DATA / "tcga_t1_native_oblique_crop.nii.gz"
    script = Path(__file__).with_name("module_widget_wiring_standins.py")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "models"), "identity-wiring", str(volume),
                           str(source_file), str(tmp_path / "dicom")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["input_chosen"] and report["model_chosen"] == "identity-wiring"
    assert report["ready"] == ["Apply", True] and not report["export_before_a_result"]

    states = report["success"]["states"]
    assert [s["button"] for s in states] == ["Cancel", "Cancel", "Cancel", "Apply"]
    assert [s["progress_visible"] for s in states] == [True, True, True, False]
    progress = [s["progress"] for s in states[:3]]
    assert progress == sorted(progress) and progress[0] == 0 and 0 < progress[1] < 100
    assert states[1]["status"] == "Translating: inference…" and not any(s["export"] for s in states[:3])
    assert states[-1]["status"].startswith("Done: T1 sample synthetic T2") and "unlike the training data" in states[-1]["status"]
    assert states[-1]["volumes"] == states[0]["volumes"] + 1 and states[-1]["export"] and states[-1]["dialogs"] == 0
    assert report["success"]["output_selector_reset"] and "unlike the training data" in report["success"]["warnings_attribute"]
    assert report["success"]["synthetic_attribute"].startswith("SYNTHETIC T2 from T1 by identity-wiring")
    assert report["success"]["input_referenced"]
    overwrite = report["overwrite"]  # a node chosen as output: renamed, and no longer claims its DICOM series
    assert overwrite["states"][-1]["volumes"] == overwrite["states"][0]["volumes"]
    assert overwrite["name"].startswith("T1 sample synthetic T2") and overwrite["dicom_uids"] is None
    assert overwrite["synthetic"].startswith("SYNTHETIC T2") and overwrite["output_selector_reset"]

    failure = report["failure"]
    assert failure["states"][-1]["button"] == "Apply" and not failure["states"][-1]["progress_visible"]
    assert failure["states"][-1]["status"].startswith("out of memory") and failure["dialog"].startswith("Translation failed: out of memory")
    assert failure["states"][-1]["volumes"] == failure["states"][0]["volumes"]
    assert failure["states"][0]["export"] is False and failure["states"][-1]["export"] is True  # not while running

    cancel = report["cancel"]
    assert cancel["cancelled"] and [s["button"] for s in cancel["states"]][-2:] == ["Apply", "Apply"]
    assert cancel["states"][-1]["status"] == "Cancelled; nothing was added to the scene."
    assert cancel["states"][-1]["volumes"] == cancel["states"][0]["volumes"] and cancel["states"][-1]["progress"] == 31

    failed_start = report["failed_start"]["states"][-1]
    assert failed_start["button"] == "Apply" and not failed_start["running"] and not failed_start["progress_visible"]
    assert failed_start["status"] == "Not started: PythonSlicer: No such file or directory"
    assert report["failed_start"]["dialog"].startswith("Failed to start the translation.")
    assert report["no_input"] == [False, "Missing: an input volume"]
    assert report["export_enabled_after_delete"] is False
    assert report["export_after_delete"] == "The last result is no longer in the scene; nothing to export."

    # the input claims (through the stand-in database) to be a series of patient "dicom2nifti" with no frame of
    # reference of its own grid: the export joins that study, in a frame of its own
    assert report["export"] == {"status": f"Wrote T1 sample synthetic T2 to {tmp_path / 'dicom'} as a DICOM series marked "
                                          "SYNTHETIC, in patient dicom2nifti's study, with a frame of reference of its own "
                                          "(the volume does not lie on the input series' grid, moved since it was loaded, "
                                          "or that series has none).", "dialogs": 0}
    declined = report["export_declined"]  # the identity card states no intended use: not cleared for clinical use
    assert declined["status"] == "Not exported." and not declined["written"]
    assert declined["question"].startswith("identity-wiring is not cleared for clinical use (its card: \"no intended use stated\")")
    again = report["export_again"]
    assert again["status"].startswith("Not exported:") and "not a new or empty folder" in again["status"]
    assert again["dialog"].startswith("The DICOM series could not be written.") and again["files"] == 10
    # an input not loaded from DICOM: the panel asks whose series it is (a PACS would file it under a blank patient)
    assert report["export_without_patient"] == ("Not exported: a series of an input not loaded from DICOM needs the "
                                                "patient's ID and name.")
    with_patient = report["export_with_patient"]
    assert with_patient["status"].startswith(f"Wrote T1 sample synthetic T2 to {with_patient['folder']} as a DICOM series "
                                             "marked SYNTHETIC, in a new study of patient GT-0042 (the input was not "
                                             "loaded from DICOM).")
    assert "Warning: Patient Position not known" in with_patient["status"]  # HFS written, and said
    nifti_first = pydicom.dcmread(sorted(Path(with_patient["folder"]).iterdir())[0])
    assert (nifti_first.PatientID, str(nifti_first.PatientName), nifti_first.PatientPosition) == ("GT-0042", "DOE^JANE", "HFS")
    written = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(tmp_path / "dicom")))
    original = sitk.ReadImage(str(volume))
    assert_same_voxels_in_space(written, original)
    on_grid = sitk.Resample(written, original, sitk.Transform(), sitk.sitkNearestNeighbor)
    np.testing.assert_allclose(sitk.GetArrayFromImage(on_grid), sitk.GetArrayFromImage(original), rtol=1e-4, atol=0.5)
    first, source = pydicom.dcmread(sorted((tmp_path / "dicom").iterdir())[0]), pydicom.dcmread(source_file)
    assert first.SeriesDescription.startswith("SYNTHETIC T2") and list(first.ImageType) == ["DERIVED", "SECONDARY", "OTHER", "SYNTHETIC"]
    assert first.StudyInstanceUID == source.StudyInstanceUID and first.SeriesInstanceUID != source.SeriesInstanceUID


def assert_same_voxels_in_space(written: sitk.Image, original: sitk.Image) -> None:
    """The same grid of points in space. A DICOM reader orders slices along row x column, so a left-handed
    input (as this oblique NIfTI is) reads back with its slices in the other order: same voxels, same places."""
    assert written.GetSize() == original.GetSize()
    np.testing.assert_allclose(written.GetSpacing(), original.GetSpacing(), rtol=1e-6)

    def corners(image):
        size = image.GetSize()
        points = [image.TransformIndexToPhysicalPoint((i, j, k)) for i in (0, size[0] - 1) for j in (0, size[1] - 1)
                  for k in (0, size[2] - 1)]
        return np.array(sorted(np.round(points, 3).tolist()))

    np.testing.assert_allclose(corners(written), corners(original), atol=2e-3)
