"""Many volumes at once: batch translation with resume and a summary, and dataset completion whose synthetic
volumes never pass for acquired ones, used in training only when asked, with their provenance kept."""
import csv
import shutil
from pathlib import Path

import SimpleITK as sitk

from conftest import DATA, make_package
from trainer_helpers import DATASET, tiny_config
from GANTranslateLib import batch_translation
from GANTranslateLib.cli import main
from GANTranslateLib.dataset_completion import provenance_of
from GANTranslateLib.dataset_folder import read_dataset

PERCENTILE = {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "nonzero", "reference": [0, 1000]}


def cohort(tmp_path: Path) -> Path:
    """Four real T1 crops (the test dataset's subjects and the oblique native scan) in one folder."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    for subject in read_dataset(DATASET).subjects():
        shutil.copyfile(subject.files["T1"], folder / f"{subject.name}_T1.nii.gz")
    shutil.copyfile(DATA / "tcga_t1_native_oblique_crop.nii.gz", folder / "native_T1.nii.gz")
    return folder


def summary(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "summary.csv").open(encoding="utf-8")))


def test_a_batch_with_a_corrupt_file_goes_on_and_fails_at_the_end(tmp_path: Path, capsys) -> None:
    folder = cohort(tmp_path)
    (folder / "broken_T1.nii.gz").write_bytes((folder / "native_T1.nii.gz").read_bytes()[:5000])
    package = make_package(tmp_path / "p", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(folder), "-o", str(out), "--progress", "none"]) == 1
    rows = summary(out)
    assert [Path(r["input"]).name for r in rows] == sorted(p.name for p in folder.iterdir())
    status = {Path(r["input"]).name: r for r in rows}
    assert status["broken_T1.nii.gz"]["status"] == "failed" and "truncated" in status["broken_T1.nii.gz"]["message"]
    assert all(r["status"] == "ok" for name, r in status.items() if name != "broken_T1.nii.gz")
    native = sitk.ReadImage(str(out / "native_T1_synthetic-T2.nii.gz"))
    assert native.GetSize() == sitk.ReadImage(str(folder / "native_T1.nii.gz")).GetSize()
    assert not (out / "broken_T1_synthetic-T2.nii.gz").exists()
    assert "4 translated, 0 skipped, 1 failed" in capsys.readouterr().out


def test_an_interrupted_batch_resumes_with_skip_existing(tmp_path: Path, monkeypatch) -> None:
    folder = cohort(tmp_path)
    package = make_package(tmp_path / "p", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    out = tmp_path / "out"
    real = batch_translation._translate_one
    calls = []

    def interrupted(item, *args):
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the third volume
        calls.append(item.input.name)
        return real(item, *args)

    monkeypatch.setattr(batch_translation, "_translate_one", interrupted)
    assert main(["predict", "-m", str(package.path), "-i", str(folder / "*_T1.nii.gz"), "-o", str(out)]) == 130
    assert len(summary(out)) == 2  # the summary says what was done before the interruption
    monkeypatch.setattr(batch_translation, "_translate_one", real)
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*_synthetic-T2.nii.gz")}
    assert main(["predict", "-m", str(package.path), "-i", str(folder / "*_T1.nii.gz"), "-o", str(out)]) == 1  # refuses
    assert main(["predict", "-m", str(package.path), "-i", str(folder / "*_T1.nii.gz"), "-o", str(out),
                 "--skip-existing"]) == 0
    rows = summary(out)
    assert [r["status"] for r in rows].count("skipped") == 2 and [r["status"] for r in rows].count("ok") == 2
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*_synthetic-T2.nii.gz") if p.name in first} == first


def test_a_csv_list_names_inputs_and_outputs(tmp_path: Path) -> None:
    folder = cohort(tmp_path)
    listing = tmp_path / "list.csv"
    listing.write_text("input,output\ncohort/native_T1.nii.gz,patient-a.nrrd\n", encoding="utf-8")
    package = make_package(tmp_path / "p", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "out"), "--progress", "json"]) == 0
    assert (tmp_path / "out" / "patient-a.nrrd").is_file() and folder.is_dir()


def test_a_spreadsheet_csv_is_read_and_a_list_that_leads_outside_the_output_folder_is_refused(tmp_path: Path,
                                                                                              capsys) -> None:
    """A spreadsheet's "CSV UTF-8" starts with a byte-order mark: its 'input' header was not found. An output
    named '../x' or '/abs/x' was written outside -o; an empty input read the CSV's own folder."""
    cohort(tmp_path)
    package = make_package(tmp_path / "p", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    listing = tmp_path / "list.csv"
    listing.write_text("\ufeffinput,output\ncohort/native_T1.nii.gz,a.nii.gz\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(out), "--progress", "none"]) == 0
    assert (out / "a.nii.gz").is_file()
    for row, expected in (("cohort/native_T1.nii.gz,../escaped.nii.gz", "line 2: output '../escaped.nii.gz' leaves the output folder"),
                          (f"cohort/native_T1.nii.gz,{tmp_path / 'abs.nii.gz'}", "leaves the output folder"),
                          (",b.nii.gz", "line 2 has an empty 'input'")):
        listing.write_text(f"input,output\n{row}\n", encoding="utf-8")
        assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "out2"),
                     "--progress", "none"]) == 1
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "escaped.nii.gz").exists() and not (tmp_path / "abs.nii.gz").exists()
    assert not (tmp_path / "out2").exists()


def test_a_csv_may_name_outputs_in_subject_folders_and_a_refused_batch_makes_no_folder(tmp_path: Path,
                                                                                     capsys) -> None:
    """'sub-01/T2.nii.gz' was refused ('create it first': a folder per subject by hand for a cohort), and a
    refused batch left its empty output folder behind."""
    cohort(tmp_path)
    package = make_package(tmp_path / "p", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    listing = tmp_path / "list.csv"
    listing.write_text("input,output\ncohort/native_T1.nii.gz,sub-01/T2.nii.gz\n"
                       "cohort/TCGA-FG-6692-holdout_T1.nii.gz,sub-02/T2.nii.gz\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(out), "--progress", "none"]) == 0
    assert (out / "sub-01" / "T2.nii.gz").is_file() and (out / "sub-02" / "T2.nii.gz").is_file()
    listing.write_text("input,output\ncohort/native_T1.nii.gz,sub-01/T2.png\n", encoding="utf-8")
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(tmp_path / "other"),
                 "--progress", "none"]) == 1
    assert "cannot write 'T2.png'" in capsys.readouterr().err and not (tmp_path / "other").exists()


def test_skip_existing_keeps_only_this_models_outputs(tmp_path: Path, capsys) -> None:
    """A cohort resumed after a model update listed the old model's outputs as done ('skipped'), and a file of
    the output's name that GANTranslate never wrote too."""
    folder = cohort(tmp_path)
    first = make_package(tmp_path / "a", id="model-a", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    second = make_package(tmp_path / "b", id="model-b", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    out = tmp_path / "out"
    assert main(["predict", "-m", str(first.path), "-i", str(folder), "-o", str(out), "--progress", "none"]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["predict", "-m", str(second.path), "-i", str(folder), "-o", str(out), "--skip-existing",
                 "--progress", "none"]) == 1
    error = capsys.readouterr().err
    assert "holds 'SYNTHETIC T2 from T1 by model-a 1.0.0', not 'SYNTHETIC T2 from T1 by model-b 1.0.0'" in error
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert main(["predict", "-m", str(first.path), "-i", str(folder), "-o", str(out), "--skip-existing",
                 "--progress", "none"]) == 0  # the same model: kept
    assert all(r["status"] == "skipped" for r in summary(out))
    acquired = out / "native_T1_synthetic-T2.nii.gz"
    shutil.copyfile(folder / "native_T1.nii.gz", acquired)
    assert main(["predict", "-m", str(first.path), "-i", str(folder), "-o", str(out), "--skip-existing",
                 "--progress", "none"]) == 1
    assert "native_T1_synthetic-T2.nii.gz was not written by GANTranslate" in capsys.readouterr().err


def test_dataset_completion_writes_only_what_is_missing_and_keeps_provenance(tmp_path: Path) -> None:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    (root / "TCGA-FG-6692-inferior" / "FLAIR.nii.gz").unlink()  # two subjects lack FLAIR, one has it acquired
    (root / "TCGA-FG-6692-holdout" / "FLAIR.nii.gz").unlink()
    acquired = (root / "TCGA-FG-6692-superior" / "FLAIR.nii.gz").read_bytes()
    package = make_package(tmp_path / "t1-to-flair", id="t1-to-flair", domains=["T1", "FLAIR"], directions=[["T1", "FLAIR"]],
                           normalization={"T1": PERCENTILE, "FLAIR": PERCENTILE})
    assert main(["augment", "--dataset", str(root), "--source", "T1", "--target", "FLAIR", "-m", str(package.path)]) == 0
    made = root / "TCGA-FG-6692-inferior" / "FLAIR.synthetic.nii.gz"
    assert made.is_file() and (root / "TCGA-FG-6692-holdout" / "FLAIR.synthetic.nii.gz").is_file()
    assert not (root / "TCGA-FG-6692-superior" / "FLAIR.synthetic.nii.gz").exists()
    assert (root / "TCGA-FG-6692-superior" / "FLAIR.nii.gz").read_bytes() == acquired
    record = provenance_of(made)
    assert record["synthetic"] and record["model"]["id"] == "t1-to-flair" and len(record["model"]["card_sha256"]) == 64
    assert record["made_from"]["file"] == "T1.nii.gz" and len(record["made_from"]["sha256"]) == 64
    # readers never take it for acquired data unless asked
    assert "FLAIR" not in read_dataset(root).training[0].files
    assert read_dataset(root, use_synthetic=True).training[0].files["FLAIR"] == made

    # the loop: train on the completed dataset, and the card names the synthetic data and its model
    from gantranslate_trainer.cli import export_run
    from gantranslate_trainer.training import train

    config = tiny_config("pix2pix", f"data.root={root}", "data.source=T1", "data.target=FLAIR", "data.use_synthetic=true",
                         "validation.subjects=[]")
    train(config, tmp_path / "run", quiet=True)
    card = export_run(tmp_path / "run", tmp_path / "trained").card
    assert card.data["synthetic_training_data"] == [{"subject": "TCGA-FG-6692-inferior", "domain": "FLAIR",
                                                     "model": "t1-to-flair", "model_version": "1.0.0", "made_from": "T1"}]
    plain = tiny_config("pix2pix", f"data.root={root}", "data.source=T1", "data.target=FLAIR", "validation.subjects=[]")
    train(plain, tmp_path / "plain", quiet=True)  # without the opt-in the subject lacking FLAIR is left out
    assert "synthetic_training_data" not in export_run(tmp_path / "plain", tmp_path / "plain-model").card.data


def test_completion_never_writes_over_an_acquired_file_even_forced(tmp_path: Path) -> None:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    before = {p: p.read_bytes() for p in root.rglob("FLAIR.nii.gz")}
    package = make_package(tmp_path / "m", domains=["T1", "FLAIR"], directions=[["T1", "FLAIR"]],
                           normalization={"T1": PERCENTILE, "FLAIR": PERCENTILE})
    assert main(["augment", "--dataset", str(root), "--source", "T1", "--target", "FLAIR", "-m", str(package.path),
                 "--force"]) == 0
    assert {p: p.read_bytes() for p in root.rglob("FLAIR.nii.gz")} == before
    assert not list(root.rglob("*.synthetic.*"))
