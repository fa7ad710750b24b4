"""A full disk: one line naming the folder, a non-zero exit, and nothing short under the real name."""
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from robustness_helpers import REAL_T2, full_disk, one_line_error
from GANTranslateLib import image_io
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd", ".mha"])
def test_predict_onto_a_full_disk(tmp_path: Path, capsys, suffix: str) -> None:
    package = make_package(tmp_path / "p")
    with full_disk(tmp_path, kilobytes=48) as disk:
        out = disk / f"out{suffix}"
        assert main(["predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", str(out), "--progress", "none"]) == 1
        line = one_line_error(capsys.readouterr().err)
        assert "no space left" in line and str(disk) in line
        assert list(disk.iterdir()) == []  # neither a short output nor a temporary file


def test_a_writer_that_fails_silently_is_caught(tmp_path: Path, monkeypatch) -> None:
    """ITK's NIfTI writer prints an error on a full disk and returns as if it had succeeded: simulated here by
    a writer that leaves a short file, wherever a tmpfs cannot be mounted."""
    real_write = sitk.WriteImage

    def short_write(image, name, useCompression=False):
        real_write(image, name, useCompression=useCompression)
        data = Path(name).read_bytes()
        Path(name).write_bytes(data[: len(data) // 2])

    monkeypatch.setattr(image_io.sitk, "WriteImage", short_write)
    image = sitk.GetImageFromArray(np.arange(4000, dtype=np.float32).reshape(10, 20, 20))
    for suffix in (".nii", ".nii.gz", ".nrrd"):
        target = tmp_path / f"out{suffix}"
        with pytest.raises(GANTranslateError, match="nothing was written under that name"):
            image_io.write_volume_atomic(image, target)
        assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_output(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.nrrd"
    image = sitk.GetImageFromArray(np.ones((4, 8, 8), np.float32))
    image_io.write_volume_atomic(image, target)
    before = target.read_bytes()

    def failing(*args, **kwargs):
        raise RuntimeError("Exception thrown in SimpleITK WriteImage: No space left on device")

    monkeypatch.setattr(image_io.sitk, "WriteImage", failing)
    with pytest.raises(GANTranslateError):
        image_io.write_volume_atomic(image * 2, target)
    assert target.read_bytes() == before


def test_training_onto_a_full_disk(tmp_path: Path, capsys) -> None:
    from trainer_helpers import DATASET
    from gantranslate_trainer.cli import main as train_main

    config = tmp_path / "tiny.yaml"
    config.write_text(f"model: pix2pix\ndata: {{root: {DATASET}, source: T1, target: T2, crop: [32, 32], cache: false}}\n"
                      "network: {generator: {name: unet_generator, args: {num_downs: 5, ngf: 8, norm: instance}}}\n"
                      "train: {steps: 2, decay_start: 1, checkpoint_every: 1, validate_every: 100}\n", encoding="utf-8")
    with full_disk(tmp_path, kilobytes=256) as disk:
        code = train_main(["train", str(config), "--run-dir", str(disk / "run"), "--quiet"])
        assert code == 1
        assert "no space left" in one_line_error(capsys.readouterr().err, "gantranslate-train: error:")


def test_install_onto_a_full_disk(tmp_path: Path, capsys) -> None:
    package = make_package(tmp_path / "big", id="big",
                           architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 16, "norm": "instance"}})
    with full_disk(tmp_path, kilobytes=256) as disk:
        from GANTranslateLib.model_install import install_model

        with pytest.raises(GANTranslateError, match="no space left|could not write"):
            install_model(str(package.path), models_folder=disk / "models")
        assert not (disk / "models" / "big").exists()


def test_stale_temporary_files_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    """kill -9 during the final write leaves our temporary file; the next write into the folder removes it,
    and never a temporary file of a process that still runs, nor anyone else's hidden file."""
    from GANTranslateLib.atomic_files import PARTIAL_PREFIX

    dead = tmp_path / f"{PARTIAL_PREFIX}999999999-out.nii.gz.abc.nii.gz"
    dead.write_bytes(b"")
    alive = tmp_path / f"{PARTIAL_PREFIX}1-out.nii.gz.abc.nii.gz"  # pid 1 always runs
    alive.write_bytes(b"")
    users = tmp_path / ".hidden-notes"
    users.write_text("mine", encoding="utf-8")
    image_io.write_volume_atomic(sitk.GetImageFromArray(np.ones((2, 4, 4), np.float32)), tmp_path / "out.nii.gz")
    assert not dead.exists() and alive.exists() and users.exists()
