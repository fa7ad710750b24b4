"""Source appearance augmentation: it changes the source's look, never its background or the target."""
import numpy as np
import torch

from trainer_helpers import DATASET, tiny_config
from GANTranslateLib.dataset_folder import read_dataset
from gantranslate_trainer.appearance_augmentation import appearance_transforms, augment_appearance
from gantranslate_trainer.preprocessing import prepare_subject
from gantranslate_trainer.sampling import TrainingSamples, make_plan


def slice_with_background() -> torch.Tensor:
    image = torch.full((1, 32, 32), -1.0)
    image[:, 8:24, 8:24] = torch.linspace(-0.8, 0.9, 256).reshape(16, 16)
    return image


def test_background_stays_background_and_the_range_holds() -> None:
    image = slice_with_background()
    out = augment_appearance(image, appearance_transforms(1.0), np.random.default_rng(0))
    assert torch.all(out[image <= -1] == -1)
    assert out.min() >= -1 and out.max() <= 1
    assert not torch.allclose(out, image)


def test_the_same_draw_gives_the_same_look() -> None:
    image = slice_with_background()
    transforms = appearance_transforms(1.0)
    a = augment_appearance(image, transforms, np.random.default_rng([4, 2]))
    b = augment_appearance(image, transforms, np.random.default_rng([4, 2]))
    c = augment_appearance(image, transforms, np.random.default_rng([4, 3]))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_training_samples_change_the_source_only() -> None:
    on = tiny_config("pix2pix", "data.augment={enabled: true, flip_left_right: false, rotate_degrees: 0, scale: 0, "
                                "intensity: 0, appearance: 1.0}")
    off = tiny_config("pix2pix", "data.augment={enabled: true, flip_left_right: false, rotate_degrees: 0, scale: 0, "
                                 "intensity: 0, appearance: 0.0}")
    subjects = [prepare_subject(s, ["T1", "T2"], on, None) for s in read_dataset(DATASET).training]
    changed = TrainingSamples(subjects, make_plan(on, ["T1", "T2"]), seed=1)[5]
    plain = TrainingSamples(subjects, make_plan(off, ["T1", "T2"]), seed=1)[5]
    assert torch.equal(changed["target"], plain["target"])
    assert not torch.equal(changed["source"], plain["source"])
