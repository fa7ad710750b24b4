"""Held out by patient: 'test' subjects are never trained on; the inner split chooses settings without them."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from trainer_helpers import DATASET, tiny_config
from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.evaluation import on_common_scale
from gantranslate_trainer.training import train


def dataset_with(tmp_path: Path, **lists) -> Path:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    info = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    info.update(lists)
    (root / "dataset.json").write_text(json.dumps(info), encoding="utf-8")
    return root


def test_test_subjects_are_left_out_of_training_whatever_the_lists_say(tmp_path: Path) -> None:
    root = dataset_with(tmp_path, training=["TCGA-FG-6692-inferior", "TCGA-FG-6692-superior"], validation=[],
                        test=["TCGA-FG-6692-holdout"])
    dataset = read_dataset(root)
    assert [s.name for s in dataset.test] == ["TCGA-FG-6692-holdout"]
    assert "TCGA-FG-6692-holdout" not in [s.name for s in dataset.training]
    with pytest.raises(GANTranslateError, match="in both training and test"):
        read_dataset(dataset_with(tmp_path / "b", test=["TCGA-FG-6692-inferior"]))


def test_the_inner_split_validates_on_training_subjects_and_hides_the_test_patients(tmp_path: Path) -> None:
    root = dataset_with(tmp_path, validation=[], test=["TCGA-FG-6692-holdout"],
                        inner_validation=["TCGA-FG-6692-superior"])
    inner = read_dataset(root, inner=True)
    assert [s.name for s in inner.training] == ["TCGA-FG-6692-inferior"]
    assert [s.name for s in inner.validation] == ["TCGA-FG-6692-superior"]
    assert inner.test == [] and "TCGA-FG-6692-holdout" not in [s.name for s in inner.subjects()]
    with pytest.raises(GANTranslateError, match="no 'inner_validation'"):
        read_dataset(DATASET, inner=True)


def test_training_on_the_inner_split_never_reads_a_test_subject(tmp_path: Path, monkeypatch) -> None:
    root = dataset_with(tmp_path, validation=[], test=["TCGA-FG-6692-holdout"],
                        inner_validation=["TCGA-FG-6692-superior"])
    read = []
    import gantranslate_trainer.preprocessing as preprocessing

    original = preprocessing.read_volume
    monkeypatch.setattr(preprocessing, "read_volume", lambda path: read.append(Path(path)) or original(path))
    for split in ("inner", "outer"):
        train(tiny_config("pix2pix", f"data.root={root}", f"data.split={split}", steps=2), tmp_path / split, quiet=True)
    assert read and not any("holdout" in str(p) for p in read)


@pytest.mark.parametrize("manifest, message", [
    ({"domains": "T1", "training": []}, "'domains' must be a list"),
    ({"domains": ["T1"], "training": "sub-01"}, "'training' must be a list"),
    ({"domains": ["T1"], "training": [], "test": [3]}, "'test' must be a list"),
    ([1, 2], "must hold a JSON object"),
])
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path: Path, manifest, message: str) -> None:
    (tmp_path / "dataset.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(GANTranslateError, match=message):
        read_dataset(tmp_path)


def test_mr_scores_do_not_depend_on_a_scanners_gain() -> None:
    """MR has no intensity unit: a synthetic image right up to a global gain scores as if it were exact."""
    from GANTranslateLib import metrics

    rng = np.random.default_rng(0)
    real = rng.uniform(100, 900, (6, 16, 16)).astype(np.float32)
    mask = np.ones(real.shape, bool)
    scaled = lambda a, target="T2": on_common_scale(a, mask, target)  # noqa: E731
    assert metrics.psnr(scaled(3.7 * real), scaled(real), mask) > 120  # float rounding only
    assert metrics.psnr(real * 3.7, real, mask) < 10  # unscaled, the gain alone would sink the score
    hu = real - 1000
    assert on_common_scale(hu, mask, "CT") is hu  # CT keeps Hounsfield units
