"""Geometry is sacred: identity packages give the input back, voxel for voxel, on its exact grid."""
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import DATA, array, assert_same_geometry, make_package
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.orientation import orientation_code
from GANTranslateLib.translation import InferenceOptions, translate_image

EXACT = InferenceOptions(output_dtype="input")


@pytest.mark.parametrize("name", ["tcga_t1_native_oblique_crop.nii.gz", "tcga_t2_brats_crop.nrrd", "dicom_hitachi_mr"])
@pytest.mark.parametrize("axis", ["axial", "coronal", "sagittal"])
def test_identity_is_exact_on_real_files(identity_package, name: str, axis: str) -> None:
    image = read_volume(DATA / name)
    result = translate_image(image, identity_package, options=InferenceOptions(output_dtype="input", axis=axis))
    assert_same_geometry(result.image, image)
    assert result.image.GetPixelID() == image.GetPixelID()
    np.testing.assert_array_equal(array(result.image), array(image))


def test_test_data_covers_oblique_anisotropic_and_las(oblique_t1: Path) -> None:
    image = sitk.ReadImage(str(oblique_t1))
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    assert not np.allclose(np.abs(direction), np.eye(3), atol=1e-3)  # oblique
    assert max(image.GetSpacing()) / min(image.GetSpacing()) > 5  # anisotropic
    assert orientation_code(direction) == "LAS"  # stored differently from the model's LPS


@pytest.mark.parametrize("orientation", ["LPS", "RAS", "PIL"])
def test_identity_in_any_model_orientation(tmp_path: Path, oblique_t1: Path, orientation: str) -> None:
    package = make_package(tmp_path / "p", orientation=orientation)
    image = read_volume(oblique_t1)
    result = translate_image(image, package, options=EXACT)
    np.testing.assert_array_equal(array(result.image), array(image))


def test_patch_mode_identity(tmp_path: Path, t2_nrrd: Path) -> None:
    package = make_package(tmp_path / "p3d", mode="3d", architecture={"name": "identity", "args": {"spatial_dims": 3}},
                           patch={"size": [32, 24, 8], "overlap": 0.5}, slice=None)
    card_without_slice = dict(package.card.data)
    assert "slice" not in card_without_slice or card_without_slice["slice"] is None
    image = read_volume(t2_nrrd)
    result = translate_image(image, package, options=EXACT)
    assert_same_geometry(result.image, image)
    np.testing.assert_array_equal(array(result.image), array(image))


def test_resampling_to_the_model_spacing_keeps_geometry(tmp_path: Path, oblique_t1: Path) -> None:
    package = make_package(tmp_path / "p", spacing=[1.5, 1.5, 2.0])
    image = read_volume(oblique_t1)
    result = translate_image(image, package)
    assert_same_geometry(result.image, image)
    original, back = array(image).astype(np.float32), array(result.image)
    # Down- and up-sampling blurs, but the image must stay where it was: compare centres of mass.
    grid = np.indices(original.shape).reshape(3, -1)
    centre = lambda a: (grid * a.ravel()).sum(1) / a.sum()  # noqa: E731
    np.testing.assert_allclose(centre(np.clip(back, 0, None)), centre(original), atol=0.25)
    assert np.corrcoef(original.ravel(), back.ravel())[0, 1] > 0.9


def test_two_dimensional_input(identity_package) -> None:
    image = sitk.ReadImage(str(DATA / "pydicom_CT_small.dcm"))[:, :, 0]
    assert image.GetDimension() == 2
    # a CT slice, given to the identity 'T1' model: forced past the input guard, which would refuse it
    result = translate_image(image, identity_package, options=InferenceOptions(output_dtype="input", force=True))
    assert_same_geometry(result.image, image)
    np.testing.assert_array_equal(array(result.image), array(image))


def test_disagreement_map_is_zero_for_a_symmetric_network_and_not_for_an_asymmetric_one(tmp_path: Path, oblique_t1: Path) -> None:
    image = read_volume(oblique_t1)
    symmetric = translate_image(image, make_package(tmp_path / "id"), options=InferenceOptions(disagreement=True))
    assert_same_geometry(symmetric.disagreement, image)
    assert float(array(symmetric.disagreement).max()) < 1e-3
    np.testing.assert_allclose(array(symmetric.image), array(image), atol=1e-3)
    unet = make_package(tmp_path / "unet", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}})
    asymmetric = translate_image(image, unet, options=InferenceOptions(disagreement=True))
    assert float(array(asymmetric.disagreement).mean()) > 0


def test_a_card_spacing_with_a_free_axis_resamples_in_plane_only(tmp_path: Path, oblique_t1: Path) -> None:
    """[1, 1, null]: slices go to 1 mm in-plane and keep their own thickness; the output is on the input's grid."""
    from GANTranslateLib import translation

    package = make_package(tmp_path / "p", spacing=[1.0, 1.0, None])
    image = read_volume(oblique_t1)  # 0.9 x 0.9 x 5.5 mm
    seen = []
    original = translation.resample_to_spacing
    translation.resample_to_spacing = lambda a, s, t, fill: seen.append((tuple(s), tuple(t))) or original(a, s, t, fill)
    try:
        result = translate_image(image, package, options=InferenceOptions(compile="never"))
    finally:
        translation.resample_to_spacing = original
    (spacing, target), = seen
    assert target[:2] == (1.0, 1.0) and target[2] == spacing[2]
    assert_same_geometry(result.image, image)
    correlation = np.corrcoef(array(result.image).ravel(), array(image).ravel())[0, 1]
    assert correlation > 0.95  # an identity network, resampled there and back
