"""Installing model packages: from folders, zips and (file://) URLs, sha256-verified, safely unpacked."""
import zipfile
from pathlib import Path

import pytest

from conftest import make_package
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_install import install_model, sha256_of
from GANTranslateLib.model_registry import find_package


def zipped(package_dir: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in package_dir.iterdir():
            bundle.write(file, f"{package_dir.name}/{file.name}")
    return archive


def test_install_from_folder_zip_and_verified_url(tmp_path: Path) -> None:
    package = make_package(tmp_path / "src" / "m", id="installed-model")
    models = tmp_path / "models"
    assert install_model(str(package.path), models_folder=models) == "installed-model"
    archive = zipped(package.path, tmp_path / "m.zip")
    assert install_model(str(archive), sha256_of(archive), models) == "installed-model"
    assert install_model(archive.as_uri(), sha256_of(archive), models) == "installed-model"
    assert find_package("installed-model", [models]).card.id == "installed-model"
    assert [p.name for p in models.iterdir()] == ["installed-model"]  # no scratch left behind


def test_wrong_checksum_installs_nothing(tmp_path: Path) -> None:
    archive = zipped(make_package(tmp_path / "m").path, tmp_path / "m.zip")
    with pytest.raises(GANTranslateError, match="does not match the expected sha256"):
        install_model(archive.as_uri(), "0" * 64, tmp_path / "models")
    with pytest.raises(GANTranslateError, match="needs the expected sha256"):
        install_model(archive.as_uri(), None, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_unsafe_archive_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../../escaped.txt", "x")
    with pytest.raises(GANTranslateError, match="unsafe path"):
        install_model(str(archive), None, tmp_path / "models")
    assert not (tmp_path / "escaped.txt").exists()


def test_cli_install(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "models"))
    package = make_package(tmp_path / "m", id="cli-model")
    assert main(["models", "install", str(package.path)]) == 0
    assert "installed cli-model" in capsys.readouterr().out
