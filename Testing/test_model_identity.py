"""A model a user trains never passes for the shipped one: its own id, a local version, a card that says what it is."""
import json
from pathlib import Path

import SimpleITK as sitk

from conftest import REPO, make_package
from trainer_helpers import DATASET, TINY
from GANTranslateLib import model_registry
from GANTranslateLib.cli import main as gantranslate
from GANTranslateLib.model_install import sha256_of
from GANTranslateLib.model_registry import find_package
from gantranslate_trainer.cli import main as trainer

SHIPPED_CONFIG = REPO / "trainer" / "configs" / "t1_to_t2_pix2pix.yaml"  # export: t1-to-t2-pix2pix-2d 2.1.0
SMALL = [f"data.root={DATASET}", "data.crop=[32, 32]", "data.spacing=null", "data.cache=false",
         "network.discriminator={ndf: 8, n_layers: 2, norm: instance}", "train.steps=2", "train.decay_start=1",
         "train.batch_size=4", "train.checkpoint_every=2", "train.validate_every=1000", "train.threads=1",
         "data.patches_per_subject=8", *TINY["pix2pix"][1:]]


def trained_run(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "t1_to_t2"
    assert trainer(["train", str(SHIPPED_CONFIG), "--run-dir", str(run), "--quiet", *SMALL]) == 0
    return run


def test_an_exported_run_is_a_local_build_described_by_its_run(tmp_path: Path, capsys, monkeypatch) -> None:
    """A 2-step export was t1-to-t2-pix2pix-2d 2.1.0 with the shipped training-data text and reproduce line."""
    run = trained_run(tmp_path)
    output = tmp_path / "models" / "my-t1-to-t2"
    assert trainer(["export", str(run), "-o", str(output)]) == 0
    card = find_package(output).card
    assert card.id == "my-t1-to-t2" and card.version.startswith("0.0.0+local.")
    assert "reproduce" not in card.data and "Ljubljana" not in card.data["training_data"]
    assert "TCGA-FG-6692-inferior" in card.data["training_data"]
    record = card.data["training_run"]
    assert record["step"] == 2 and record["checkpoint"] == "last.pt" and record["run"] == str(run.resolve())
    assert record["config_sha256"] == sha256_of(run / "config.yaml") and record["config_file"] == str(SHIPPED_CONFIG)
    assert "train.steps=2" in record["overrides"]
    assert record["dataset"]["training"] == ["TCGA-FG-6692-inferior", "TCGA-FG-6692-superior"]
    out = tmp_path / "t2.nrrd"
    assert gantranslate(["predict", "-m", str(output), "-i", str(DATASET / "TCGA-FG-6692-holdout" / "T1.nii.gz"),
                         "-o", str(out), "--progress", "none"]) == 0
    assert "by my-t1-to-t2 0.0.0+local." in sitk.ReadImage(str(out)).GetMetaData("GANTranslate_synthetic")
    # the maintainers' way (trainer/train_bundled_models.sh) keeps the config's identity and texts
    assert trainer(["export", str(run), "-o", str(tmp_path / "release"), "--release"]) == 0
    release = find_package(tmp_path / "release").card
    assert (release.id, release.version) == ("t1-to-t2-pix2pix-2d", "2.1.0") and "training_run" not in release.data
    capsys.readouterr()
    assert trainer(["export", str(run), "-o", str(tmp_path / "Not An Id")]) == 1
    assert "is not a model id" in capsys.readouterr().err
    # nor into the bundled models' folder (a shipped package is never replaced by a user's build)
    bundled = tmp_path / "bundled"
    make_package(bundled / "t1-to-t2-pix2pix-2d")
    before = (bundled / "t1-to-t2-pix2pix-2d" / "model.json").read_bytes()
    monkeypatch.setattr(model_registry, "BUNDLED_MODELS", bundled)
    assert trainer(["export", str(run), "-o", str(bundled / "t1-to-t2-pix2pix-2d"), "--force"]) == 1
    assert "a local build never writes into" in capsys.readouterr().err
    assert (bundled / "t1-to-t2-pix2pix-2d" / "model.json").read_bytes() == before


def test_a_run_without_validation_subjects_says_it_writes_no_best_checkpoint(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert trainer(["train", str(SHIPPED_CONFIG), "--run-dir", str(run), "--quiet", *SMALL, "validation.subjects=[]"]) == 0
    assert "no validation subjects: this run writes no best.pt" in capsys.readouterr().out
    assert not (run / "best.pt").exists()


def test_a_user_model_shadowing_a_bundled_one_is_named_on_every_run(tmp_path: Path, capsys, monkeypatch) -> None:
    bundled, user = tmp_path / "bundled", tmp_path / "user"
    make_package(bundled / "identity-test")
    make_package(user / "identity-test", version="0.0.0+local.20260101T000000Z")
    monkeypatch.setattr(model_registry, "BUNDLED_MODELS", bundled)
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(user))
    scan = DATASET / "TCGA-FG-6692-holdout" / "T1.nii.gz"
    for name in ("a.nrrd", "b.nrrd"):
        assert gantranslate(["predict", "-m", "identity-test", "-i", str(scan), "-o", str(tmp_path / name),
                             "--progress", "none"]) == 0
        err = capsys.readouterr().err
        assert "warning: model identity-test 0.0.0+local.20260101T000000Z is the package in" in err
        assert "not the bundled identity-test 1.0.0, which it shadows" in err
    monkeypatch.setenv("GANTRANSLATE_MODELS", str(tmp_path / "none"))
    assert gantranslate(["predict", "-m", "identity-test", "-i", str(scan), "-o", str(tmp_path / "c.nrrd"),
                         "--progress", "none"]) == 0
    assert "shadows" not in capsys.readouterr().err
    assert json.loads((bundled / "identity-test" / "model.json").read_text(encoding="utf-8"))["version"] == "1.0.0"
