"""What the tool writes: compile failures never cost the result, CT stays physical, maps are never blank."""
import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from conftest import make_package
from robustness_helpers import REAL_T2
from GANTranslateLib import compiled_network
from GANTranslateLib.cli import main
from GANTranslateLib.compiled_network import artifact_paths, compiler_available, network_key
from GANTranslateLib.model_registry import find_package
from GANTranslateLib.network_runner import NetworkRunner
from GANTranslateLib.translation import InferenceOptions, translate_image

needs_compiler = pytest.mark.skipif(not compiler_available(), reason="no C++ compiler on this machine")


@needs_compiler
def test_a_compiler_that_aborts_costs_no_result(tmp_path: Path, caplog, monkeypatch) -> None:
    """A full disk made the compiler abort the whole process (SIGABRT); it now runs in a child process."""
    monkeypatch.setattr(compiled_network, "_COMPILE_CHILD", "import os; os.abort()")
    package = make_package(tmp_path / "p", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}})
    out = tmp_path / "out.nii.gz"
    with caplog.at_level(logging.WARNING):
        assert main(["predict", "-m", str(package.path), "-i", str(REAL_T2), "-o", str(out), "--compile", "always"]) == 0
    assert out.is_file()
    assert "running the network uncompiled (compiling failed" in caplog.text


@needs_compiler
def test_a_corrupt_cached_network_is_deleted_named_and_rebuilt(tmp_path: Path, caplog, monkeypatch) -> None:
    package = make_package(tmp_path / "p", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}})
    network = package.build_network()
    x = torch.zeros(1, 1, 32, 32)
    dynamic, _ = artifact_paths(network_key(network, (x,)), x.shape[2:])
    dynamic.parent.mkdir(parents=True, exist_ok=True)
    dynamic.write_bytes(b"PK\x03\x04 a compiled network cut short by a full disk")
    rebuilt = []
    monkeypatch.setattr("GANTranslateLib.network_runner.compile_network",
                        lambda *args: rebuilt.append(args) or (_ for _ in ()).throw(RuntimeError("no compiler today")))
    runner = NetworkRunner(network, package.card, "T1", "T2", torch.device("cpu"), compile="auto")
    with caplog.at_level(logging.WARNING):
        output = runner(x)
    assert output.shape == (1, 1, 32, 32)
    assert not dynamic.exists() and rebuilt  # deleted, and compiling it again was tried
    assert str(dynamic) in caplog.text and "was deleted" in caplog.text


def test_a_synthetic_ct_never_goes_below_air(tmp_path: Path) -> None:
    """A CT output is clamped to the card's physical limits (by default, air at -1024 HU)."""
    spec = {"method": "window", "min": -3000, "max": 3000}
    package = make_package(tmp_path / "ct", domains=["T1", "CT"], directions=[["T1", "CT"]],
                           normalization={"T1": spec, "CT": spec})
    volume = np.linspace(-2500, 2000, 4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16)
    out = sitk.GetArrayFromImage(translate_image(sitk.GetImageFromArray(volume), package,
                                                 options=InferenceOptions(compile="never", force=True)).image)
    assert out.min() == -1024 and out.max() == pytest.approx(2000, abs=0.5)
    limited = make_package(tmp_path / "ct2", domains=["T1", "CT"], directions=[["T1", "CT"]],
                           normalization={"T1": spec, "CT": spec}, output_limits={"CT": [-1000, 1500]})
    out = sitk.GetArrayFromImage(translate_image(sitk.GetImageFromArray(volume), limited,
                                                 options=InferenceOptions(compile="never", force=True)).image)
    assert out.min() == -1000 and out.max() == 1500


def test_the_disagreement_map_of_a_through_plane_model_is_not_blank(tmp_path: Path) -> None:
    """The bundled super-resolution model slices sagittally: mirrored left-right it would see the same
    slices and give a map of zeros at twice the cost, so it is mirrored front-back instead."""
    package = find_package("t1-superresolution-2x-2d")
    volume = sitk.ReadImage(str(REAL_T2))[20:60, 20:60, :]
    result = translate_image(volume, package, "T1_LR", "T1",
                             InferenceOptions(disagreement=True, compile="never"))
    difference = sitk.GetArrayFromImage(result.disagreement)
    assert difference.max() > 0 and np.isfinite(difference).all()
