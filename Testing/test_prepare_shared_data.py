"""The bundled models' dataset preparation: what is held out is never seen in training, not even blurred."""
import json
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from conftest import REPO

sys.path.insert(0, str(REPO / "trainer" / "datasets"))
import prepare_shared_data  # noqa: E402


def test_training_volume_blanks_the_held_out_slab_and_its_gap(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    shared = tmp_path / "shared"
    shared.mkdir()
    volumes = {"T1": rng.uniform(10, 400, (30, 12, 10)).astype(np.float32),
               "CT": rng.uniform(-1024, 1500, (30, 12, 10)).astype(np.float32)}
    for name, array in volumes.items():
        sitk.WriteImage(sitk.GetImageFromArray(array), str(shared / f"{name}.nii.gz"))
    mask = np.zeros((30, 12, 10), np.uint8)
    mask[2:28, 2:10, 2:8] = 1
    sitk.WriteImage(sitk.GetImageFromArray(mask), str(shared / "mask.nii.gz"))
    preset = {"name": "test", "subject": "S", "files": {"T1": "T1.nii.gz", "CT": "CT.nii.gz"}, "mask": "mask.nii.gz",
              "holdout": {"axial": (12, 16), "sagittal": (4, 6)}, "gap": 2, "licence": "test"}
    monkeypatch.setitem(prepare_shared_data.PRESETS, "test", preset)

    prepare_shared_data.prepare("test", shared, tmp_path / "out")

    manifest = json.loads((tmp_path / "out" / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["training"] == ["S-training"] and manifest["validation"] == ["S-holdout"]
    read = lambda subject, name: sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / subject / f"{name}.nii.gz")))  # noqa: E731
    box = (slice(None), slice(0, 12), slice(0, 10))  # the mask's bounding box with its 2-voxel margin
    for name, array in volumes.items():
        training, holdout = read("S-training", name), read("S-holdout", name)
        np.testing.assert_array_equal(holdout, array[12:16][:, box[1], box[2]])
        assert np.all(training[10:18] == array.min())  # the held-out slices and 2 on each side: background
        np.testing.assert_array_equal(training[:10], array[0:10][:, box[1], box[2]])
        np.testing.assert_array_equal(training[18:], array[18:30][:, box[1], box[2]])
    assert not read("S-training", "mask")[10:18].any()


def test_a_sagittal_slab_can_be_held_out_instead(tmp_path: Path, monkeypatch) -> None:
    """Through-plane models need the whole z extent in their test slices: the slab then runs along x."""
    rng = np.random.default_rng(1)
    shared = tmp_path / "shared"
    shared.mkdir()
    t1 = rng.uniform(10, 400, (30, 12, 10)).astype(np.float32)
    sitk.WriteImage(sitk.GetImageFromArray(t1), str(shared / "T1.nii.gz"))
    mask = np.zeros((30, 12, 10), np.uint8)
    mask[2:28, 2:10, 2:8] = 1
    sitk.WriteImage(sitk.GetImageFromArray(mask), str(shared / "mask.nii.gz"))
    preset = {"name": "test", "subject": "S", "files": {"T1": "T1.nii.gz"}, "mask": "mask.nii.gz",
              "holdout": {"axial": (12, 16), "sagittal": (4, 6)}, "gap": 1, "licence": "test"}
    monkeypatch.setitem(prepare_shared_data.PRESETS, "test", preset)

    prepare_shared_data.prepare("test", shared, tmp_path / "out", holdout_axis="sagittal")

    manifest = json.loads((tmp_path / "out" / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["holdout_axis"] == "sagittal" and manifest["description"].startswith("Sagittal slices 4-5")
    read = lambda subject: sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / subject / "T1.nii.gz")))  # noqa: E731
    training, holdout = read("S-training"), read("S-holdout")
    np.testing.assert_array_equal(holdout, t1[:, 0:12, 4:6])  # every axial slice, two sagittal columns
    assert np.all(training[:, :, 3:7] == t1.min())  # x 4-5 and one column on each side: background
    np.testing.assert_array_equal(training[:, :, :3], t1[:, 0:12, 0:3])
    np.testing.assert_array_equal(training[:, :, 7:], t1[:, 0:12, 7:10])


def test_a_missing_shared_data_folder_is_one_line(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, str(REPO / "trainer" / "datasets" / "prepare_shared_data.py"), "tcga",
                           str(tmp_path / "elsewhere"), str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "shared/data" in done.stderr and not (tmp_path / "out").exists()
