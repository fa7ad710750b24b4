"""An install never replaces a model without a word: not by an older version, not by another model's id."""
import json
import zipfile
from pathlib import Path

import pytest

from conftest import make_package
from robustness_helpers import digest, one_line_error
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_install import install_model, sha256_of
from GANTranslateLib.model_registry import find_package


def zipped(package_dir: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in package_dir.iterdir():
            bundle.write(file, f"{package_dir.name}/{file.name}")
    return archive


def test_an_older_version_never_replaces_an_installed_one_unless_forced(tmp_path: Path, capsys, monkeypatch) -> None:
    """`models install old.zip` replaced an installed 7.0.0 by 2.1.0."""
    models = tmp_path / "models"
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(models))
    assert main(["models", "install", str(make_package(tmp_path / "new" / "m", id="m", version="7.0.0").path)]) == 0
    capsys.readouterr()
    before = digest(models)
    old = zipped(make_package(tmp_path / "old" / "m", id="m", version="2.1.0").path, tmp_path / "old.zip")
    assert main(["models", "install", str(old)]) == 1
    assert "an older version" in one_line_error(capsys.readouterr().err)
    assert digest(models) == before and [p.name for p in models.iterdir()] == ["m"]
    assert main(["models", "install", str(old), "--force"]) == 0
    assert "replaced m 7.0.0 by 2.1.0" in capsys.readouterr().out
    assert find_package("m", [models]).card.version == "2.1.0"


def test_a_newer_version_replaces_and_says_so(tmp_path: Path, capsys, monkeypatch) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(models))
    assert main(["models", "install", str(make_package(tmp_path / "a" / "m", id="m", version="1.0.0").path)]) == 0
    assert "replaced" not in capsys.readouterr().out
    assert main(["models", "install", str(make_package(tmp_path / "b" / "m", id="m", version="1.1.0").path)]) == 0
    assert "replaced m 1.0.0 by 1.1.0" in capsys.readouterr().out


def test_a_catalog_entry_holding_another_model_is_refused(tmp_path: Path) -> None:
    """A catalog entry whose sha256 matched installed a different model id over the user's copy of that model."""
    models = tmp_path / "models"
    install_model(str(make_package(tmp_path / "mine" / "users-model", id="users-model").path), models_folder=models)
    before = digest(models)
    archive = zipped(make_package(tmp_path / "other" / "users-model", id="users-model", version="9.0.0", seed=1).path,
                     tmp_path / "published.zip")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [{"id": "published-model", "version": "1.0.0", "url": archive.as_uri(),
                                               "sha256": sha256_of(archive)}]}), encoding="utf-8")
    with pytest.raises(GANTranslateError, match="holds model 'users-model', not published-model"):
        install_model("published-model", models_folder=models, catalog=catalog)
    assert digest(models) == before
