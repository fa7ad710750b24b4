"""A small file never makes a large allocation: every size is checked against what the input needs first."""
import zipfile
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from robustness_helpers import one_line_error
from GANTranslateLib import translation
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_install import install_model
from GANTranslateLib.translation import InferenceOptions, translate_image

EXACT = InferenceOptions(compile="never", precision="exact")


def small_volume(spacing: float) -> sitk.Image:
    image = sitk.GetImageFromArray(np.random.default_rng(0).uniform(0, 100, (8, 64, 64)).astype(np.float32))
    image.SetSpacing([spacing] * 3)
    return image


@pytest.fixture
def no_resampling(monkeypatch) -> None:
    monkeypatch.setattr(translation, "resample_to_spacing", lambda *a, **k: pytest.fail("resampled before checking the grid"))


@pytest.mark.parametrize("case", ["100 mm voxels", "0.01 mm card"])
def test_a_resampled_grid_far_larger_than_the_input_is_refused(tmp_path: Path, no_resampling, case: str) -> None:
    """A 38 KB volume with 100 mm voxels became 6400^2 slices at the card's 1 mm; a card asking for 0.01 mm the same."""
    card_spacing, voxel = ([1.0, 1.0, 1.0], 100.0) if case == "100 mm voxels" else ([0.01, 0.01, 1.0], 1.0)
    package = make_package(tmp_path / "p", spacing=card_spacing)
    with pytest.raises(GANTranslateError, match="times the input.; check the input.s voxel size"):
        translate_image(small_volume(voxel), package, options=EXACT)


def test_a_moderately_finer_model_grid_is_still_resampled(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p", spacing=[0.5, 0.5, 1.0])  # 4 times the voxels
    result = translate_image(small_volume(1.0), package, options=EXACT)
    assert result.image.GetSize() == (64, 64, 8)


def test_a_patch_far_larger_than_the_volume_is_refused(tmp_path: Path, monkeypatch) -> None:
    """--patch-size 1024 1024 1024 on a 64 x 64 x 8 volume padded it to 1024^3 (4.5 GB)."""
    monkeypatch.setattr(translation, "run_patches", lambda *a, **k: pytest.fail("ran patches before checking their size"))
    package = make_package(tmp_path / "p3d", mode="3d", architecture={"name": "identity", "args": {"spatial_dims": 3}},
                           patch={"size": [32, 32, 16], "overlap": 0.5}, slice=None)
    with pytest.raises(GANTranslateError, match="larger than this volume needs"):
        translate_image(small_volume(1.0), package,
                        options=InferenceOptions(compile="never", precision="exact", patch_size=(1024, 1024, 1024)))


def test_the_cards_patch_on_a_thinner_volume_still_runs(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p3d", mode="3d", architecture={"name": "identity", "args": {"spatial_dims": 3}},
                           patch={"size": [32, 32, 16], "overlap": 0.5}, slice=None)
    image = small_volume(1.0)
    out = translate_image(image, package, options=EXACT).image
    np.testing.assert_allclose(sitk.GetArrayFromImage(out), sitk.GetArrayFromImage(image), rtol=1e-5)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, capsys, monkeypatch) -> None:
    """A small zip holding a member that expands 1000-fold (1 GiB in the hostile case) was unpacked and installed whole."""
    package = make_package(tmp_path / "src" / "m", id="bomb")
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in package.path.iterdir():
            bundle.write(file, f"m/{file.name}")
        bundle.writestr("m/notes.txt", bytes(64 << 20))
    assert archive.stat().st_size < 1 << 20
    models = tmp_path / "models"
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(models))
    assert main(["models", "install", str(archive)]) == 1
    assert "which no model package does" in one_line_error(capsys.readouterr().err)
    assert not models.exists() or list(models.iterdir()) == []
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:  # the same package without the bomb installs
        for file in package.path.iterdir():
            bundle.write(file, f"m/{file.name}")
    assert install_model(str(archive), models_folder=models) == "bomb"


def test_a_cards_huge_patch_is_refused_too(tmp_path: Path, monkeypatch) -> None:
    """The card's own patch.size (schema: any positive integers) padded a small volume just as far."""
    monkeypatch.setattr(translation, "run_patches", lambda *a, **k: pytest.fail("ran patches before checking their size"))
    package = make_package(tmp_path / "p3d", mode="3d", architecture={"name": "identity", "args": {"spatial_dims": 3}},
                           patch={"size": [4096, 4096, 512], "overlap": 0.5}, slice=None)
    with pytest.raises(GANTranslateError, match="larger than this volume needs"):
        translate_image(small_volume(1.0), package, options=EXACT)
