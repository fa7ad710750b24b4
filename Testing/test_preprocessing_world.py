"""Both preprocessing worlds: the card says how many training scans were skull-stripped and how many had the
skull, and the input guard names a skull-stripped input to a skull-on model (and the other way round)."""
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from test_input_guard import GUARD, SKULL_ON, STRIPPED, guarded_package, warnings_for
from GANTranslateLib.preprocessing_world import skull_stripped_share, looks_skull_stripped
from GANTranslateLib.image_io import read_volume


def test_skull_stripped_and_skull_on_scans_are_told_apart() -> None:
    for name in STRIPPED + ["ljubljana-cs-07"]:
        for domain in ("T1", "T2", "FLAIR"):
            image = read_volume(GUARD / name / f"{domain}.nii.gz")
            assert looks_skull_stripped(sitk.GetArrayViewFromImage(image), image.GetSpacing()) is True, (name, domain)
    for name in SKULL_ON:
        for domain in ("T1", "T2", "FLAIR"):
            image = read_volume(GUARD / name / f"{domain}.nii.gz")
            assert looks_skull_stripped(sitk.GetArrayViewFromImage(image), image.GetSpacing()) is False, (name, domain)


def test_a_volume_filling_its_field_of_view_has_no_verdict() -> None:
    assert skull_stripped_share(np.full((8, 16, 16), 100.0, np.float32), (1.0, 1.0, 1.0)) is None


def test_the_card_counts_each_world_per_domain(tmp_path: Path) -> None:
    card = guarded_package(tmp_path, STRIPPED + SKULL_ON).card
    t1 = card.data["input_profile"]["domains"]["T1"]
    assert (t1["skull_stripped_subjects"], t1["skull_on_subjects"]) == (1, 2)


def test_a_skull_stripped_input_to_a_skull_on_model_is_named(tmp_path: Path) -> None:
    package = guarded_package(tmp_path, SKULL_ON)
    for domain in ("T1", "T2"):
        found = " ".join(warnings_for(package, GUARD / "ljubljana-cs-07" / f"{domain}.nii.gz", domain))
        assert "skull-stripped, but the model" in found and "trained on scans with the skull only" in found, domain


def test_a_skull_on_input_to_a_skull_stripped_model_is_named_by_world(tmp_path: Path) -> None:
    package = guarded_package(tmp_path / "a", STRIPPED + ["ljubljana-cs-07"])
    found = " ".join(warnings_for(package, GUARD / "ljubljana-long-12-s1" / "T2.nii.gz", "T2"))
    assert "has the skull, but the model" in found and "trained on skull-stripped scans only" in found


def test_a_model_trained_on_both_worlds_says_nothing_about_either(tmp_path: Path) -> None:
    package = guarded_package(tmp_path, STRIPPED + SKULL_ON)
    for path in (GUARD / "ljubljana-cs-07" / "T2.nii.gz", GUARD / "ljubljana-long-12-s1" / "T2.nii.gz"):
        assert not any("skull" in w for w in warnings_for(package, path, "T2"))
