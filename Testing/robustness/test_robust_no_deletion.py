"""Never delete what the tool did not create: package writers refuse a user's folder; nothing is replaced unasked."""
import os
from pathlib import Path

import pytest
import torch

from conftest import make_package
from robustness_helpers import IMPORT_ARGS, digest, one_line_error
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_package import save_package
from GANTranslateLib.networks import build_generator


def pix2pix_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    network = build_generator("resnet_generator", {"input_nc": 1, "output_nc": 1, "ngf": 4, "n_blocks": 6, "norm": "instance"})
    path = tmp_path / "latest_net_G.pth"
    torch.save(network.state_dict(), path)
    return path


def users_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.docx").write_bytes(b"years of work")
    (path / "data").mkdir()
    (path / "data" / "scan.nii.gz").write_bytes(b"patient")
    return path


def test_import_into_a_users_folder_deletes_nothing(tmp_path: Path, capsys) -> None:
    victim = users_folder(tmp_path / "victim")
    before = digest(victim)
    assert main(["import-pix2pix", str(pix2pix_checkpoint(tmp_path)), "-o", str(victim), *IMPORT_ARGS]) == 1
    assert "not a model package" in one_line_error(capsys.readouterr().err)
    assert digest(victim) == before


def test_import_into_the_current_folder_deletes_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    here = users_folder(tmp_path / "here")
    checkpoint = pix2pix_checkpoint(tmp_path)
    before = digest(here)
    monkeypatch.chdir(here)
    assert main(["import-pix2pix", str(checkpoint), "-o", ".", *IMPORT_ARGS]) == 1
    one_line_error(capsys.readouterr().err)
    assert digest(here) == before


def test_export_into_the_models_folder_wipes_no_installed_model(tmp_path: Path, capsys) -> None:
    from gantranslate_trainer.cli import main as train_main

    models = tmp_path / "models"
    make_package(models / "installed-a", id="installed-a")
    make_package(models / "installed-b", id="installed-b")
    before = digest(models)
    run = tmp_path / "run"
    run.mkdir()
    assert train_main(["export", str(run), "-o", str(models)]) == 1
    assert "not a model package" in one_line_error(capsys.readouterr().err, "gantranslate-train: error:")
    assert digest(models) == before


def test_an_existing_package_is_replaced_only_with_force(tmp_path: Path, capsys) -> None:
    checkpoint = pix2pix_checkpoint(tmp_path)
    target = tmp_path / "pkg"
    assert main(["import-pix2pix", str(checkpoint), "-o", str(target), *IMPORT_ARGS]) == 0
    before = digest(target)
    assert main(["import-pix2pix", str(checkpoint), "-o", str(target), *IMPORT_ARGS, "--id", "other"]) == 1
    assert "--force" in capsys.readouterr().err and digest(target) == before
    assert main(["import-pix2pix", str(checkpoint), "-o", str(target), *IMPORT_ARGS, "--id", "other", "--force"]) == 0
    assert '"id": "other"' in (target / "model.json").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # nothing left beside it


def test_force_never_replaces_a_folder_that_is_not_a_package(tmp_path: Path) -> None:
    victim = users_folder(tmp_path / "victim")
    (victim / "model.json").write_text("{}", encoding="utf-8")  # looks a little like a package, holds more than one
    before = digest(victim)
    network = build_generator("identity", {})
    with pytest.raises(GANTranslateError, match="not a model package"):
        save_package(victim, make_package(tmp_path / "src").card, network, force=True)
    assert digest(victim) == before


def test_a_file_in_place_of_the_package_folder_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(GANTranslateError, match="not a folder"):
        save_package(target, make_package(tmp_path / "src").card, build_generator("identity", {}))
    assert target.read_text(encoding="utf-8") == "keep me"


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    package = save_package(tmp_path / "empty", make_package(tmp_path / "src").card, build_generator("identity", {}))
    assert (package.path / "model.json").is_file()


def test_written_files_follow_the_umask(tmp_path: Path, t2_nrrd: Path) -> None:
    """Outputs are as readable as any file the user makes (mkstemp alone would make them 0600)."""
    previous = os.umask(0o022)
    try:
        package = make_package(tmp_path / "p")
        out = tmp_path / "out.nii.gz"
        assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(out), "--progress", "none"]) == 0
    finally:
        os.umask(previous)
    assert (out.stat().st_mode & 0o777) == 0o644
    assert ((package.path / "model.json").stat().st_mode & 0o777) == 0o644
