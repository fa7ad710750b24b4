"""Installing model packages: from folders, zips and (file://) URLs, sha256-verified, safely unpacked."""
import json
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


def test_a_catalog_model_installs_by_id_with_the_catalogs_checksum(tmp_path: Path) -> None:
    package = make_package(tmp_path / "src" / "published-model", id="published-model")
    archive = zipped(package.path, tmp_path / "published.zip")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [
        {"id": "published-model", "version": "1.0.0", "url": archive.as_uri(), "sha256": sha256_of(archive)},
        {"id": "tampered", "version": "1.0.0", "url": archive.as_uri(), "sha256": "0" * 64},
        {"id": "offline", "version": "1.0.0", "url": "http://127.0.0.1:9/none.zip", "sha256": "1" * 64},
        {"id": "t1-to-t2-pix2pix-2d", "version": "1.0.0"}]}), encoding="utf-8")
    models = tmp_path / "models"
    assert install_model("published-model", models_folder=models, catalog=catalog) == "published-model"
    with pytest.raises(GANTranslateError, match="does not match the expected sha256"):
        install_model("tampered", models_folder=models, catalog=catalog)
    with pytest.raises(GANTranslateError, match="could not download .*offline\\?"):
        install_model("offline", models_folder=models, catalog=catalog)
    with pytest.raises(GANTranslateError, match="bundled with GANTranslate"):
        install_model("t1-to-t2-pix2pix-2d", models_folder=models, catalog=catalog)
    with pytest.raises(GANTranslateError, match="not a model folder, .zip file, URL, or a model id in the catalog"):
        install_model("no-such-model", models_folder=models, catalog=catalog)


def test_the_shipped_catalog_lists_every_bundled_model() -> None:
    from GANTranslateLib.model_catalog import load_catalog
    from GANTranslateLib.model_registry import BUNDLED_MODELS, list_packages

    bundled = {(p.card.id, p.card.version) for p in list_packages([BUNDLED_MODELS])}
    assert {(e.id, e.version) for e in load_catalog() if e.bundled} == bundled


def test_the_catalog_offers_only_published_models_not_installed_at_their_version(tmp_path: Path) -> None:
    from GANTranslateLib.model_catalog import installable_entries

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [
        {"id": "bundled-one", "version": "1.0.0"},
        {"id": "new-model", "version": "1.0.0", "url": "https://example.org/new.zip", "sha256": "a" * 64},
        {"id": "updated-model", "version": "2.0.0", "url": "https://example.org/up.zip", "sha256": "b" * 64},
        {"id": "current-model", "version": "1.0.0", "url": "https://example.org/cur.zip", "sha256": "c" * 64}]}),
        encoding="utf-8")
    installed = {"bundled-one": "1.0.0", "updated-model": "1.0.0", "current-model": "1.0.0"}
    assert [e.id for e in installable_entries(installed, catalog)] == ["new-model", "updated-model"]
