"""The multi-subject dataset: patients held out whole, contrasts brought onto one grid, heads masked."""
import sys

import numpy as np
import SimpleITK as sitk

from conftest import REPO

sys.path.insert(0, str(REPO / "trainer" / "datasets"))
import prepare_multisubject  # noqa: E402


def test_no_patient_is_on_both_sides_and_one_held_out_patient_is_from_another_site() -> None:
    info = prepare_multisubject.manifest(prepare_multisubject.SESSIONS, {})
    patient = {name: entry["patient"] for name, entry in info["subjects"].items()}
    assert {patient[s] for s in info["training"]}.isdisjoint({patient[s] for s in info["test"]})
    assert set(info["inner_validation"]) <= set(info["training"])
    site = {name: entry["site"] for name, entry in info["subjects"].items()}
    training_sites = [site[s] for s in info["training"]]
    majority = max(set(training_sites), key=training_sites.count)
    assert any(site[s].split(" (")[0] != majority.split(" (")[0] for s in info["test"])


def test_a_moving_image_lands_on_the_reference_grid_through_its_transform() -> None:
    """The transform maps reference points to moving points (as a registration of moving to reference
    writes it): a volume shifted by 3 mm comes back onto the reference exactly where the structure is."""
    reference = sitk.Image([20, 20, 10], sitk.sitkFloat32)
    reference.SetSpacing([1.0, 1.0, 2.0])
    array = np.zeros((10, 20, 20), np.float32)
    array[4:6, 8:12, 8:12] = 100
    truth = sitk.GetImageFromArray(array)
    truth.CopyInformation(reference)
    moving = sitk.Image(truth)
    moving.SetOrigin([3.0, 0.0, 0.0])  # the same structure seen 3 mm further along x
    image, covered = prepare_multisubject.bring_onto(reference, moving, sitk.TranslationTransform(3, [3.0, 0, 0]))
    np.testing.assert_allclose(sitk.GetArrayFromImage(image), array, atol=1e-4)
    assert sitk.GetArrayFromImage(covered).all()
    mi = prepare_multisubject.mutual_information
    assert mi(truth, moving, sitk.TranslationTransform(3, [3.0, 0, 0])) < mi(truth, moving, sitk.Transform(3, sitk.sitkIdentity))


def test_the_head_mask_is_the_head_with_its_dark_inside_filled() -> None:
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[0:6, 0:64, 0:64]
    head = ((y - 32) ** 2 + (x - 32) ** 2) < 22**2
    ventricle = ((y - 32) ** 2 + (x - 32) ** 2) < 6**2
    array = rng.normal(5, 2, head.shape) + 400 * head - 390 * ventricle  # dark fluid inside a bright head
    mask = sitk.GetArrayFromImage(prepare_multisubject.head_mask(sitk.GetImageFromArray(array.astype(np.float32))))
    assert mask[head].mean() > 0.98 and mask[~head].mean() < 0.02
    assert mask[ventricle].all()


def test_missing_shared_data_is_one_line(tmp_path, capsys) -> None:
    assert prepare_multisubject.main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "shared/data" in error and not (tmp_path / "out").exists()
