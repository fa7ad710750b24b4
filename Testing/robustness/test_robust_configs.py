"""Trainer inputs: wrong settings and datasets are one line, found before any data is read."""
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from trainer_helpers import DATASET, tiny_config
from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.errors import GANTranslateError
from gantranslate_trainer.preprocessing import prepare_subject


@pytest.mark.parametrize("override, message", [
    ("train.lr=-0.001", "train.lr must be a number above 0"),
    ("train.lr=abc", "train.lr must be a number"),
    ("train.beta1=1.5", "train.beta1"),
    ("loss.l1=-3", "loss.l1 is a weight"),
    ("network.generator.args={num_downs: 7, ngf: 8, norm: instance}", "must be a multiple of 128"),
    ("network.generator.args={num_downs: 5, ngf: -5, norm: instance}", "network.generator.args.ngf must be a whole number"),
    ("network.generator.args={num_downs: 5, ngf: '8', norm: instance}", "whole number"),
    ("data.spacing=[1, 0, 1]", "data.spacing must be null or"),
    ("data.augment.appearance=2", "probability"),
    ("data.crop=[32.5, 32]", "whole numbers"),
])
def test_a_bad_setting_is_named(override: str, message: str) -> None:
    with pytest.raises(GANTranslateError, match=message):
        tiny_config("pix2pix", override)


def test_a_grid_mismatch_says_what_differs(tmp_path: Path) -> None:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    t2 = root / "TCGA-FG-6692-inferior" / "T2.nii.gz"
    image = sitk.ReadImage(str(t2))
    image.SetSpacing([1.0, 1.0, 1.2])
    sitk.WriteImage(image, str(t2))
    subject = read_dataset(root).training[0]
    with pytest.raises(GANTranslateError, match=r"spacing \(1.0, 1.0, 1.2\) vs \(1.0, 1.0, 1.0\)") as raised:
        prepare_subject(subject, ["T1", "T2"], tiny_config("pix2pix"), None)
    assert "size" not in str(raised.value).split("(", 1)[1]  # the sizes agree, so they are not what it blames
