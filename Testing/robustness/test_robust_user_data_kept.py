"""A user's files are never overwritten or extended: acquired volumes, a folder of theirs, files outside -o."""
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from conftest import make_package
from robustness_helpers import REAL_T2, digest, one_line_error
from trainer_helpers import DATASET
from GANTranslateLib.cli import main as gantranslate
from gantranslate_trainer.cli import main as trainer

TRAINER_ERROR = "gantranslate-train: error:"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATASET, tmp_path / "work" / "dataset"))


@pytest.mark.parametrize("made", ["T2", "T1", "../../x"])
def test_a_degradation_never_writes_over_a_volume_or_outside_the_dataset(dataset: Path, capsys, made: str) -> None:
    """--to T2 overwrote every subject's acquired T2 (test subjects too), --to T1 its own input, and
    --to ../../x wrote outside the dataset and listed that name as a domain."""
    before = digest(dataset.parent)
    assert trainer(["degrade", str(dataset), "--kind", "low_resolution_mr", "--from", "T1", "--to", made]) == 1
    one_line_error(capsys.readouterr().err, TRAINER_ERROR)
    assert digest(dataset.parent) == before
    assert not (dataset.parent.parent / "x.nii.gz").exists()


def test_a_degradation_never_replaces_an_earlier_file_of_its_name(dataset: Path, capsys) -> None:
    subject = dataset / "TCGA-FG-6692-holdout"
    shutil.copyfile(subject / "T1.nii.gz", subject / "T1_LR.nii.gz")  # a file the user put there, not in the manifest
    before = digest(dataset)
    assert trainer(["degrade", str(dataset), "--kind", "low_resolution_mr", "--from", "T1", "--to", "T1_LR"]) == 1
    assert "T1_LR.nii.gz exists" in one_line_error(capsys.readouterr().err, TRAINER_ERROR)
    assert digest(dataset) == before


def test_a_new_run_never_writes_into_a_folder_of_the_users(tmp_path: Path, capsys) -> None:
    """--run-dir naming a folder with the user's config.yaml and log.jsonl replaced the one and appended to the other."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.yaml").write_text("my: own settings\n", encoding="utf-8")
    (folder / "log.jsonl").write_text('{"my": "notes"}\n', encoding="utf-8")
    before = digest(folder)
    config = Path(__file__).parents[2] / "trainer" / "configs" / "t1_to_t2_pix2pix.yaml"
    assert trainer(["train", str(config), "--run-dir", str(folder), f"data.root={DATASET}", "train.steps=2",
                    "train.decay_start=1", "--quiet"]) == 1
    assert "is not a run folder" in one_line_error(capsys.readouterr().err, TRAINER_ERROR)
    assert digest(folder) == before and sorted(p.name for p in folder.iterdir()) == ["config.yaml", "log.jsonl"]


def test_a_run_that_never_reached_a_checkpoint_may_start_again_in_its_folder(tmp_path: Path) -> None:
    from gantranslate_trainer.config import save_config
    from gantranslate_trainer.training import check_new_run_folder
    from trainer_helpers import tiny_config

    folder = tmp_path / "run"
    folder.mkdir()
    check_new_run_folder(folder)  # empty
    save_config(tiny_config("pix2pix"), folder / "config.yaml")
    check_new_run_folder(folder)  # the trainer's own config, no checkpoint yet


@pytest.mark.parametrize("spelling", ["dotdot", "absolute"])
def test_batch_csv_outputs_stay_inside_the_output_folder(tmp_path: Path, capsys, spelling: str) -> None:
    """A CSV 'output' of ../patient/T2.nii.gz (or an absolute path) was written outside -o, and with
    --force-overwrite replaced the acquired T2 there."""
    package = make_package(tmp_path / "p")
    patient = tmp_path / "patient"
    patient.mkdir()
    shutil.copyfile(REAL_T2, patient / "T1.nrrd")
    acquired = patient / "T2.nrrd"
    shutil.copyfile(REAL_T2, acquired)
    name = "../patient/T2.nrrd" if spelling == "dotdot" else str(acquired)
    listing = tmp_path / "list.csv"
    listing.write_text(f"input,output\npatient/T1.nrrd,{name}\n", encoding="utf-8")
    before = acquired.read_bytes()
    assert gantranslate(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "results"),
                         "--force-overwrite", "--progress", "none"]) == 1
    assert "leaves the output folder" in one_line_error(capsys.readouterr().err)
    assert acquired.read_bytes() == before
    assert sitk.ReadImage(str(acquired)).GetMetaDataKeys() == sitk.ReadImage(str(REAL_T2)).GetMetaDataKeys()


def test_batch_csv_outputs_in_a_subfolder_of_the_output_folder_are_written(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p")
    shutil.copyfile(REAL_T2, tmp_path / "T1.nrrd")
    (tmp_path / "results" / "sub-01").mkdir(parents=True)
    listing = tmp_path / "list.csv"
    listing.write_text("input,output\nT1.nrrd,sub-01/synthetic.nrrd\n", encoding="utf-8")
    assert gantranslate(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "results"),
                         "--progress", "none"]) == 0
    assert (tmp_path / "results" / "sub-01" / "synthetic.nrrd").is_file()
    summary = (tmp_path / "results" / "summary.csv").read_text(encoding="utf-8")
    assert ",ok," in summary


def test_batch_csv_outputs_never_leave_the_output_folder_through_a_link(tmp_path: Path, capsys) -> None:
    package = make_package(tmp_path / "p")
    shutil.copyfile(REAL_T2, tmp_path / "T1.nrrd")
    elsewhere = tmp_path / "patient"
    elsewhere.mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "link").symlink_to(elsewhere)
    listing = tmp_path / "list.csv"
    listing.write_text("input,output\nT1.nrrd,link/T2.nrrd\n", encoding="utf-8")
    assert gantranslate(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "results"),
                         "--progress", "none"]) == 1
    assert "leaves the output folder" in one_line_error(capsys.readouterr().err)
    assert list(elsewhere.iterdir()) == []
