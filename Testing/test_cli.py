"""The gantranslate command end to end, and a clean one-line error for every kind of bad input."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from conftest import array, as_saved, assert_same_geometry, make_package
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.cli import main
from GANTranslateLib.networks import build_generator


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "GANTranslateLib.cli", *args], capture_output=True, text=True, timeout=300)


def test_predict_real_volume_with_random_unet(tmp_path: Path, small_unet_package, oblique_t1: Path) -> None:
    out = tmp_path / "synthetic_t2.nii.gz"
    done = run_cli("predict", "-m", str(small_unet_package.path), "-i", str(oblique_t1), "-o", str(out), "--progress", "json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress" and e["stage"] == "inference"]
    assert progress[-1]["done"] == progress[-1]["total"] > 0
    assert events[-1]["event"] == "done" and events[-1]["output"] == str(out) and events[-1]["device"] == "cpu"
    result = sitk.ReadImage(str(out))
    assert_same_geometry(result, as_saved(sitk.ReadImage(str(oblique_t1)), tmp_path / "x.nii.gz"))
    values = array(result)
    assert np.isfinite(values).all() and values.std() > 0
    assert 0 <= values.min() and values.max() <= 2000  # the T2 reference range of the card
    # no temporary files left behind: the volume, its sidecar with the whole synthetic note, the model
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "synthetic_t2.json", "unet"])


def test_predict_dicom_series_in_patch_mode(tmp_path: Path, dicom_series: Path) -> None:
    package = make_package(tmp_path / "p3d", mode="3d", slice=None, patch={"size": [32, 32, 32], "overlap": 0.25},
                           architecture={"name": "resnet_generator", "args": {"ngf": 4, "n_blocks": 1, "spatial_dims": 3}})
    out = tmp_path / "out.nrrd"
    assert main(["predict", "-m", str(package.path), "-i", str(dicom_series), "-o", str(out), "--progress", "none"]) == 0
    assert_same_geometry(sitk.ReadImage(str(out)), as_saved(read_volume(dicom_series), out))


def test_predict_with_an_imported_reference_checkpoint(tmp_path: Path, t2_nrrd: Path) -> None:
    torch.manual_seed(3)
    reference = build_generator("resnet_generator", {"input_nc": 1, "output_nc": 1, "ngf": 8, "n_blocks": 9, "norm": "instance"})
    checkpoint = tmp_path / "latest_net_G.pth"
    torch.save(reference.state_dict(), checkpoint)
    package = tmp_path / "imported"
    assert main(["import-pix2pix", str(checkpoint), "-o", str(package), "--arch", "resnet_9blocks", "--norm", "instance",
                 "--ngf", "8", "--source", "T2", "--target", "T1", "--target-range", "0", "1000"]) == 0
    out = tmp_path / "t1.mha"
    assert main(["predict", "-m", str(package), "-i", str(t2_nrrd), "-o", str(out), "--batch-size", "4"]) == 0
    assert_same_geometry(sitk.ReadImage(str(out)), as_saved(sitk.ReadImage(str(t2_nrrd)), out))


def test_models_list_and_info(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path))
    make_package(tmp_path / "my-model", id="my-model", training_data="one test subject")
    assert main(["models", "list"]) == 0
    assert "my-model" in capsys.readouterr().out
    assert main(["models", "info", "my-model"]) == 0
    out = capsys.readouterr().out
    assert "T1 -> T2" in out and "one test subject" in out
    assert main(["models", "info", "my-model", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "my-model"


def write(tmp_path: Path, name: str, image: sitk.Image) -> Path:
    path = tmp_path / name
    sitk.WriteImage(image, str(path))
    return path


def bad_inputs(tmp_path: Path) -> dict:
    nan = sitk.GetImageFromArray(np.full((4, 8, 8), np.nan, np.float32))
    rgb = sitk.GetImageFromArray(np.zeros((8, 8, 8, 3), np.uint8), isVector=True)
    four_d = sitk.GetImageFromArray(np.zeros((2, 4, 8, 8), np.float32))
    text = tmp_path / "notes.nii.gz"
    text.write_text("this is not an image", encoding="utf-8")
    return {
        "missing": (tmp_path / "nope.nii.gz", "input not found"),
        "not an image": (text, "cannot read"),
        "NaN": (write(tmp_path, "nan.nrrd", nan), "NaN"),
        "RGB": (write(tmp_path, "rgb.nrrd", rgb), "3 components per voxel"),
        "4D": (write(tmp_path, "4d.nii.gz", four_d), "4D"),
        "empty folder": (tmp_path / "emptydir", "no DICOM series"),
    }


@pytest.mark.parametrize("case", ["missing", "not an image", "NaN", "RGB", "4D", "empty folder"])
def test_bad_input_files(tmp_path: Path, identity_package, capsys, case: str) -> None:
    (tmp_path / "emptydir").mkdir()
    path, message = bad_inputs(tmp_path)[case]
    out = tmp_path / "out" / "result.nii.gz"
    out.parent.mkdir()
    assert main(["predict", "-m", str(identity_package.path), "-i", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("gantranslate: error:")
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target", "FLAIR"], "knows no domain 'FLAIR'"),
        (["--source", "T2", "--target", "T1"], "does not translate T2->T1"),
        (["--mode", "patch"], "is a 2D model"),
        (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "quantum"], "device"),
    ],
)
def test_unsupported_requests(tmp_path: Path, identity_package, oblique_t1: Path, capsys, extra, message) -> None:
    out = tmp_path / "r.nii.gz"
    assert main(["predict", "-m", str(identity_package.path), "-i", str(oblique_t1), "-o", str(out), *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_invalid_package_and_output(tmp_path: Path, identity_package, oblique_t1: Path, capsys) -> None:
    (identity_package.path / "model.json").write_text(json.dumps({"schema_version": 1}), encoding="utf-8")
    assert main(["predict", "-m", str(identity_package.path), "-i", str(oblique_t1), "-o", str(tmp_path / "a.nii.gz")]) == 1
    assert "is invalid at" in capsys.readouterr().err
    assert main(["predict", "-m", "x", "-i", str(oblique_t1), "-o", str(tmp_path / "a.png")]) == 1
    assert "cannot write 'a.png'" in capsys.readouterr().err


def test_console_script_reports_errors_with_exit_status(tmp_path: Path) -> None:
    done = run_cli("predict", "-m", str(tmp_path), "-i", str(tmp_path / "x.nii.gz"), "-o", str(tmp_path / "y.nii.gz"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_fast_mode_is_refused_when_its_measured_error_is_too_large(tmp_path: Path, oblique_t1: Path, capsys) -> None:
    poor = {"psnr_db": 31.0, "mean_abs": 12.0, "max_abs": 80.0, "allowed": False}
    package = make_package(tmp_path / "p", fast_mode={"direction": "T1->T2", "volumes": ["x"], "torch": "x", "method": "x",
                                                      "bf16": poor, "fp16": poor})
    out = tmp_path / "o.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(oblique_t1), "-o", str(out), "--precision", "fast"]) == 1
    error = capsys.readouterr().err
    assert ("refuses fast mode" in error or "fast mode needs a CPU" in error) and not out.exists()


def test_disagreement_map_is_written_beside_the_output(tmp_path: Path, small_unet_package, t2_nrrd: Path) -> None:
    out, check = tmp_path / "t2.nrrd", tmp_path / "disagreement.nrrd"
    assert main(["predict", "-m", str(small_unet_package.path), "-i", str(t2_nrrd), "-o", str(out),
                 "--source", "T1", "--target", "T2", "--disagreement-map", str(check)]) == 0
    assert_same_geometry(sitk.ReadImage(str(check)), sitk.ReadImage(str(out)))
    assert array(sitk.ReadImage(str(check))).min() >= 0


def test_scratch_outputs_can_skip_compression_but_nifti_gz_never_does(tmp_path: Path, identity_package, t2_nrrd: Path) -> None:
    def encoding(path: Path) -> str:
        header = path.read_bytes().split(b"\n\n", 1)[0].decode()
        return next(line.split(":")[1].strip() for line in header.splitlines() if line.startswith("encoding"))

    for extra, expected in (([], "gzip"), (["--no-compression"], "raw")):
        out = tmp_path / f"out{len(extra)}.nrrd"
        assert main(["predict", "-m", str(identity_package.path), "-i", str(t2_nrrd), "-o", str(out), *extra]) == 0
        assert encoding(out) == expected
    gz = tmp_path / "out.nii.gz"
    assert main(["predict", "-m", str(identity_package.path), "-i", str(t2_nrrd), "-o", str(gz), "--no-compression"]) == 0
    assert gz.read_bytes()[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_every_output_file_says_it_is_synthetic(tmp_path: Path, identity_package, t2_nrrd: Path, suffix: str) -> None:
    out = tmp_path / f"synthetic{suffix}"
    assert main(["predict", "-m", str(identity_package.path), "-i", str(t2_nrrd), "-o", str(out)]) == 0
    header = sitk.ReadImage(str(out))
    notes = {key: header.GetMetaData(key) for key in header.GetMetaDataKeys()}
    assert any(value.startswith("SYNTHETIC T2 from T1 by identity-test 1.0.0") for value in notes.values()), notes


def test_an_ascii_only_locale_cannot_crash_the_output(tmp_path: Path) -> None:
    """A cluster node with LANG=C: a model called 'T1 → T2' prints as an escape, not a UnicodeEncodeError."""
    package = make_package(tmp_path / "arrow", name="T1 → T2, ± 5 HU")
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONPATH": str(Path(__file__).parents[1] / "GANTranslate")}
    done = subprocess.run([sys.executable, "-m", "GANTranslateLib.cli", "models", "info", str(package.path)],
                          capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"T1 \\u2192 T2, \\xb1 5 HU" in done.stdout
