"""The input guard on real scans: quiet for what the model was trained on, a number for what it was not,
and a refusal for a CT given to an MR model."""
from pathlib import Path

import pytest
import SimpleITK as sitk

from conftest import DATA, REPO, make_package
from GANTranslateLib import input_guard
from GANTranslateLib.cli import main
from GANTranslateLib.dataset_folder import Subject
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.translation import InferenceOptions, translate_image
from gantranslate_trainer.preprocessing import input_profile

GUARD = DATA / "guard_subjects"  # 3 mm copies of real multi-subject scans (Testing/Data/README.md)
STRIPPED = ["ljubljana-cs-19"]
SKULL_ON = ["ljubljana-long-12-s1", "ljubljana-long-04-s1"]  # the guard warns on spread from 3 subjects up


def subject(name: str) -> Subject:
    return Subject(name, {d: GUARD / name / f"{d}.nii.gz" for d in ("T1", "T2", "FLAIR")})


def guarded_package(tmp_path: Path, trained_on: list[str]):
    spec = {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "core", "reference": [0, 1000]}
    profile = input_profile([subject(n) for n in trained_on], ["T1", "T2", "FLAIR"])
    return make_package(tmp_path / "guarded", normalization={"T1": spec, "T2": spec}, input_profile=profile)


def warnings_for(package, path: Path, source: str = "T1") -> list[str]:
    image = read_volume(path)
    report = input_guard.check_input(package.card, source, sitk.GetArrayViewFromImage(image), image.GetSpacing())
    assert report.refusal is None
    return report.warnings


def test_every_training_subject_passes_without_a_warning(tmp_path: Path) -> None:
    trained_on = STRIPPED + SKULL_ON
    package = guarded_package(tmp_path, trained_on)
    for name in trained_on:
        for domain in ("T1", "T2", "FLAIR"):
            assert warnings_for(package, GUARD / name / f"{domain}.nii.gz", domain) == [], (name, domain)


def test_a_new_patient_like_the_training_ones_passes(tmp_path: Path) -> None:
    package = guarded_package(tmp_path, STRIPPED + SKULL_ON)
    for domain in ("T1", "T2", "FLAIR"):
        assert warnings_for(package, GUARD / "ljubljana-cs-07" / f"{domain}.nii.gz", domain) == []


def test_a_t2_given_as_t1_is_named(tmp_path: Path) -> None:
    package = guarded_package(tmp_path, STRIPPED + SKULL_ON)
    found = " ".join(warnings_for(package, GUARD / "ljubljana-cs-07" / "T2.nii.gz", "T1"))
    assert "looks more like T2" in found and "input histogram distance" in found


def test_a_flair_given_as_t1_is_not_told_apart(tmp_path: Path) -> None:
    """A known limit, stated in the README: T1 and FLAIR histograms are alike; only their anatomy differs."""
    package = guarded_package(tmp_path, STRIPPED + SKULL_ON)
    assert not any("looks more like" in w for w in warnings_for(package, GUARD / "ljubljana-cs-07" / "FLAIR.nii.gz"))


def test_a_skull_on_scan_into_a_skull_stripped_model_is_named(tmp_path: Path) -> None:
    package = guarded_package(tmp_path, STRIPPED + ["ljubljana-cs-07"])
    found = " ".join(warnings_for(package, GUARD / "ljubljana-long-12-s1" / "T1.nii.gz"))
    assert "rim of the input is brighter" in found and "trained on skull-stripped brains" in found


def test_a_ct_into_an_mr_model_is_refused_unless_forced(tmp_path: Path, capsys) -> None:
    package = guarded_package(tmp_path, STRIPPED)
    ct = DATA / "pydicom_CT_small.dcm"
    out = tmp_path / "out.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(ct), "-o", str(out)]) == 1
    error = capsys.readouterr().err
    assert "looks like a CT in Hounsfield units" in error and "--force" in error and not out.exists()
    assert main(["predict", "-m", str(package.path), "-i", str(ct), "-o", str(out), "--force"]) == 0
    assert "(forced)" in capsys.readouterr().err and out.exists()


def test_a_model_without_a_profile_still_refuses_a_ct(tmp_path: Path) -> None:
    package = make_package(tmp_path / "plain")
    with pytest.raises(GANTranslateError, match="looks like a CT"):
        translate_image(read_volume(DATA / "pydicom_CT_small.dcm"), package, options=InferenceOptions(compile="never"))


def test_the_guard_warning_reaches_the_result_and_the_json_progress(tmp_path: Path, capsys) -> None:
    import json

    package = guarded_package(tmp_path, STRIPPED + ["ljubljana-cs-07"])
    out = tmp_path / "out.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(GUARD / "ljubljana-long-12-s1" / "T1.nii.gz"),
                 "-o", str(out), "--progress", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(e["event"] == "warning" and "skull" in e["message"] for e in events)
    assert any("skull" in w for w in events[-1]["warnings"])


def test_a_model_without_a_training_profile_says_the_input_was_not_checked(tmp_path: Path) -> None:
    """The T1 -> CT, super-resolution and low-dose models have none: a skull-stripped T1 given to the T1 -> CT
    model gave -41 HU inside the brain without a word."""
    package = make_package(tmp_path / "unprofiled")
    found = warnings_for(package, GUARD / "ljubljana-cs-19" / "T1.nii.gz")
    assert len(found) == 1 and "records no profile of its T1 training inputs" in found[0]
    assert warnings_for(guarded_package(tmp_path, STRIPPED + SKULL_ON), GUARD / "ljubljana-cs-19" / "T1.nii.gz") == []


def test_every_bundled_model_records_a_training_profile() -> None:
    """Three bundled cards had input_profile null (trained before the trainer recorded one); their profiles were
    computed as the trainer computes them (trainer/record_input_profiles.py)."""
    from GANTranslateLib.model_registry import BUNDLED_MODELS, list_packages

    for package in list_packages([BUNDLED_MODELS]):
        assert package.card.data.get("input_profile"), package.card.id


def test_a_skull_stripped_t1_into_the_bundled_t1_to_ct_model_is_named(tmp_path: Path) -> None:
    """The T1 -> CT template model learned on a head with its skull: a skull-stripped T1 gave -41 HU inside the
    brain without a word. Its card now counts the preprocessing worlds it saw."""
    from GANTranslateLib.model_registry import find_package

    package = find_package("t1-to-ct-template-demo-2d")
    assert package.card.data["input_profile"]["domains"]["T1"]["skull_on_subjects"] >= 1
    stripped = read_volume(REPO / "GANTranslate" / "Resources" / "SampleData" / "TCGA-FG-6692-holdout" / "T1.nii.gz")  # BraTS: skull-stripped
    result = translate_image(stripped, package, "T1", "CT", InferenceOptions(compile="never"))
    assert any("looks skull-stripped, but the model was trained on scans with the skull only" in w for w in result.warnings)


def test_a_ct_source_gets_no_preprocessing_world_verdict() -> None:
    """Air around a CT head is a constant shell, which reads as 'skull-stripped': no verdict for CT domains."""
    profile = input_guard.VolumeProfile.__new__(input_guard.VolumeProfile)
    object.__setattr__(profile, "skull_stripped", True)
    own = {"skull_stripped_subjects": 0, "skull_on_subjects": 3}
    assert input_guard._world_warnings(profile, own, "CT") == []
    assert input_guard._world_warnings(profile, own, "T1")  # the same verdict for an MR source is said
