"""Intensity normalisation: each method inverts, masks and error cases."""
import numpy as np
import pytest

from GANTranslateLib import intensity
from GANTranslateLib.errors import GANTranslateError


def test_window_inverts_exactly_inside_the_window() -> None:
    hu = np.linspace(-1024, 3000, 1001, dtype=np.float32)
    spec = {"method": "window", "min": -1024, "max": 3000}
    offset, scale = intensity.input_range(hu, spec)
    normalised = intensity.normalise(hu, offset, scale)
    assert normalised.min() == -1 and normalised.max() == 1
    back = intensity.denormalise(normalised.copy(), *intensity.output_range(spec))
    np.testing.assert_allclose(back, hu, atol=1e-3)


def test_window_clips_outside() -> None:
    spec = {"method": "window", "min": 0, "max": 100}
    out = intensity.normalise(np.array([-50, 50, 150], dtype=np.float32), *intensity.input_range(np.empty(0), spec))
    np.testing.assert_array_equal(out, [-1, 0, 1])


def test_percentile_uses_the_foreground_and_inverts_with_its_reference() -> None:
    rng = np.random.default_rng(1)
    volume = np.zeros((10, 20, 20), np.float32)
    volume[2:8, 5:15, 5:15] = rng.uniform(100, 900, size=(6, 10, 10))
    spec = {"method": "percentile", "low": 0, "high": 100, "mask": "nonzero", "reference": [0, 0]}
    offset, scale = intensity.input_range(volume, spec)
    foreground = volume[volume != 0]
    assert offset - scale == pytest.approx(foreground.min()) and offset + scale == pytest.approx(foreground.max())
    spec["reference"] = [float(foreground.min()), float(foreground.max())]
    back = intensity.denormalise(intensity.normalise(volume, offset, scale), *intensity.output_range(spec))
    np.testing.assert_allclose(back[volume != 0], foreground, rtol=1e-5)


def test_zscore_inverts_within_the_clip() -> None:
    rng = np.random.default_rng(2)
    volume = rng.normal(300, 50, size=(8, 8, 8)).astype(np.float32)
    spec = {"method": "zscore", "clip": 10, "mask": "all", "reference": [0, 0]}
    offset, scale = intensity.input_range(volume, spec)
    spec["reference"] = [float(volume.mean()), float(volume.std())]
    back = intensity.denormalise(intensity.normalise(volume, offset, scale), *intensity.output_range(spec))
    np.testing.assert_allclose(back, volume, rtol=1e-4)


def test_normalise_never_writes_into_its_input() -> None:
    volume = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    volume.flags.writeable = False
    intensity.normalise(volume, 4, 4)
    np.testing.assert_array_equal(volume, np.arange(8).reshape(2, 2, 2))


@pytest.mark.parametrize("volume", [np.zeros((4, 4, 4)), np.full((4, 4, 4), 7.0)])
def test_empty_or_constant_volumes_are_refused(volume: np.ndarray) -> None:
    with pytest.raises(GANTranslateError):
        intensity.input_range(volume, {"method": "percentile", "low": 1, "high": 99, "reference": [0, 1]})


def test_fixed_low_keeps_dark_tissue_apart_from_the_background() -> None:
    """CSF darker than the 0.5th foreground percentile must not be clipped onto the background (-1)."""
    volume = np.zeros((4, 10, 10), np.float32)
    volume[:, 2:8, 2:8] = 400.0
    volume[:, 4:5, 4:5] = 20.0  # a little dark CSF
    spec = {"method": "percentile", "fixed_low": 0, "high": 100, "mask": "nonzero", "reference": [0, 400]}
    out = intensity.normalise(volume, *intensity.input_range(volume, spec))
    assert out[0, 0, 0] == -1 and out[0, 4, 4] > -1 + 0.05
    clipped = {"method": "percentile", "low": 2, "high": 100, "mask": "nonzero", "reference": [0, 400]}
    assert intensity.normalise(volume, *intensity.input_range(volume, clipped))[0, 4, 4] == -1


def test_restoration_models_keep_the_inputs_scale(tmp_path) -> None:
    """A percentile-normalised identity model: translation maps onto the target's training range,
    restoration (output_scale 'input') gives the subject's own intensities back."""
    import SimpleITK as sitk

    from conftest import make_package
    from GANTranslateLib.translation import InferenceOptions, translate_image

    spec = {"method": "percentile", "fixed_low": 0, "high": 100, "mask": "nonzero", "reference": [0.0, 100.0]}
    normalization = {"T1": spec, "T2": spec}
    volume = np.zeros((4, 8, 8), np.float32)
    volume[:, 2:6, 2:6] = np.linspace(10, 300, 64, dtype=np.float32).reshape(4, 4, 4)
    image = sitk.GetImageFromArray(volume)
    options = InferenceOptions(compile="never")
    translated = translate_image(image, make_package(tmp_path / "t", normalization=normalization), options=options)
    restored = translate_image(image, make_package(tmp_path / "r", normalization=normalization, output_scale="input"),
                               options=options)
    np.testing.assert_allclose(sitk.GetArrayFromImage(restored.image), volume, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(sitk.GetArrayFromImage(translated.image), volume * 100 / 300, rtol=1e-5, atol=1e-3)
