"""Histogram standardisation (Nyúl–Udupa) and the piecewise-linear intensity map behind every method."""
import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from GANTranslateLib import intensity
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_card import parse_card
from GANTranslateLib.translation import InferenceOptions, translate_image

PERCENTILES = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]


def brain(rng: np.random.Generator, gain: float = 1.0, power: float = 1.0) -> np.ndarray:
    """A zero background around tissue whose intensities a scanner maps through x -> gain * x ** power."""
    volume = np.zeros((6, 24, 24), np.float32)
    volume[1:5, 4:20, 4:20] = rng.uniform(50, 500, (4, 16, 16))
    return np.where(volume > 0, gain * volume ** power, 0).astype(np.float32)


def test_two_scanners_of_one_tissue_standardise_to_the_same_values() -> None:
    """The point of the method: a monotonic change of scanner scale (gain and curve) disappears."""
    rng = np.random.default_rng(0)
    tissue = brain(rng)
    other_scanner = np.where(tissue > 0, 3.0 * tissue ** 1.3, 0).astype(np.float32)
    landmarks, reference = intensity.learn_landmarks([tissue[tissue > 0], other_scanner[other_scanner > 0]], PERCENTILES)
    spec = {"method": "histogram", "mask": "nonzero", "percentiles": PERCENTILES, "landmarks": landmarks,
            "reference": reference}
    a = intensity.input_map(tissue, spec).normalise(tissue)
    b = intensity.input_map(other_scanner, spec).normalise(other_scanner)
    inside = tissue > 0
    assert np.abs(a - b)[inside].max() < 0.03  # piecewise linear between deciles: close, not exact
    assert np.all(a[~inside] == -1) and np.all(b[~inside] == -1)  # the background is the bottom of the range


def test_learned_landmarks_average_the_subjects_scaled_percentiles() -> None:
    """Each subject: 0 -> -1 and its top percentile -> TOP_LANDMARK; the landmarks are their mean."""
    values = [np.arange(1, 101, dtype=np.float32), 2 * np.arange(1, 101, dtype=np.float32)]
    landmarks, reference = intensity.learn_landmarks(values, [50, 99])
    p50, p99 = np.percentile(values[0], [50, 99])
    assert landmarks == pytest.approx([-1 + (intensity.TOP_LANDMARK + 1) * p50 / p99, intensity.TOP_LANDMARK])
    assert reference == pytest.approx([1.5 * p50, 1.5 * p99])


def test_a_map_inverts_and_extends_its_end_segments_to_the_whole_range() -> None:
    mapping = intensity.IntensityMap.through([0.0, 100.0, 300.0], [-1.0, 0.0, 0.5])
    assert mapping.points[-1] == pytest.approx(500.0) and mapping.values[-1] == 1.0  # the last slope, up to 1
    units = np.array([0, 50, 100, 200, 300, 450], np.float32)
    normalised = mapping.normalise(units)
    np.testing.assert_allclose(normalised, [-1, -0.5, 0, 0.25, 0.5, 0.875], atol=1e-6)
    np.testing.assert_allclose(mapping.denormalise(normalised.copy()), units, atol=1e-4)
    assert mapping.normalise(np.array([1e6], np.float32))[0] == 1  # clipped, as the linear methods are


def test_a_linear_map_is_the_offset_and_scale_of_before() -> None:
    volume = np.linspace(-200, 900, 50, dtype=np.float32)
    mapping = intensity.IntensityMap.linear(100.0, 400.0)
    np.testing.assert_array_equal(mapping.normalise(volume), intensity.normalise(volume, 100.0, 400.0))


def test_a_volume_without_positive_values_is_refused_and_coinciding_percentiles_are_moved_apart() -> None:
    spec = {"method": "histogram", "mask": "nonzero", "percentiles": PERCENTILES, "landmarks": list(np.linspace(-0.8, 0.6, 11)),
            "reference": list(np.linspace(10, 500, 11))}
    with pytest.raises(GANTranslateError, match="not positive"):
        intensity.input_map(np.full((4, 4, 4), -7, np.float32), spec)
    constant = intensity.input_map(np.full((4, 4, 4), 7, np.float32), spec)  # coinciding percentiles, moved apart
    assert np.all(np.diff(constant.points) > 0)


def test_a_card_whose_landmarks_do_not_increase_is_refused() -> None:
    from conftest import make_card

    spec = {"method": "histogram", "percentiles": [10, 50, 90], "landmarks": [-0.5, 0.2, 0.1], "reference": [10, 50, 90]}
    with pytest.raises(GANTranslateError, match="must each increase"):
        parse_card(make_card(normalization={"T1": spec, "T2": spec}))
    spec = dict(spec, landmarks=[-0.5, 0.2])
    with pytest.raises(GANTranslateError, match="one length each"):
        parse_card(make_card(normalization={"T1": spec, "T2": spec}))


def test_an_identity_model_with_histogram_normalisation_maps_source_landmarks_onto_the_target_reference(tmp_path) -> None:
    """End to end through the engine: the source's own percentiles land on the target's reference units."""
    rng = np.random.default_rng(3)
    volume = brain(rng, gain=2.0)
    landmarks = list(np.linspace(-0.8, 0.6, len(PERCENTILES)))
    t1 = {"method": "histogram", "mask": "nonzero", "percentiles": PERCENTILES, "landmarks": landmarks,
          "reference": list(np.linspace(20, 900, len(PERCENTILES)))}
    t2 = dict(t1, reference=list(np.linspace(100, 3000, len(PERCENTILES))))
    package = make_package(tmp_path / "p", normalization={"T1": t1, "T2": t2})
    result = translate_image(sitk.GetImageFromArray(volume), package, options=InferenceOptions(compile="never"))
    out = sitk.GetArrayFromImage(result.image)
    inside = volume > 0
    np.testing.assert_allclose(np.percentile(out[inside], PERCENTILES), t2["reference"], rtol=0.02)
    assert np.all(out[~inside] == 0)  # zero background stays background


def test_the_trainer_learns_landmarks_from_the_files_themselves() -> None:
    """Each training file read whole: reading through a view of a temporary image once gave landmarks made of
    freed memory (a FLAIR reference of 1e30 shipped in a card)."""
    from gantranslate_trainer.preprocessing import learn_histogram_landmarks
    from GANTranslateLib.dataset_folder import read_dataset
    from trainer_helpers import DATASET, tiny_config

    config = tiny_config("unified", "data.normalization={method: histogram, mask: otsu}")
    subjects = read_dataset(DATASET).training
    domains = ["T1", "T2", "FLAIR", "T1c"]
    learn_histogram_landmarks(config, subjects, domains)
    for domain in domains:
        spec = config["data"]["normalization_by_domain"][domain]
        volumes = [sitk.GetArrayFromImage(sitk.ReadImage(str(s.files[domain]))) for s in subjects if domain in s.files]
        expected = intensity.learn_landmarks([intensity.foreground_values(v, spec) for v in volumes], spec["percentiles"])
        assert np.allclose(spec["landmarks"], expected[0]) and np.allclose(spec["reference"], expected[1]), domain
        assert max(v.max() for v in volumes) >= spec["reference"][-1] > spec["reference"][0] >= 0, domain
