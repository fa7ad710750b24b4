"""Record the input guard's training profile in the bundled cards that lack one.

    python trainer/record_input_profiles.py [config-name ...]   (default: every bundled model without a profile)

The T1 -> CT, super-resolution and low-dose models were trained before the trainer recorded a profile of
its training data (input_guard.py), so nothing could warn that, say, a skull-stripped T1 is unlike the
head the T1 -> CT model learned on. The profile written here is the one the trainer records at the end of
a run (preprocessing.input_profile): every domain of the config's dataset, from the training subjects'
acquired volumes. The datasets must be prepared first (trainer/train_bundled_models.sh does it).
"""
from __future__ import annotations

import sys
from pathlib import Path

from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.model_package import load_package, write_card
from gantranslate_trainer.config import load_config
from gantranslate_trainer.preprocessing import input_profile

from evaluate_bundled_models import CONFIGS, bundled_configs


def training_profile_of(config: dict) -> dict:
    data = config["data"]
    dataset = read_dataset(data["root"], config["validation"]["subjects"], inner=data["split"] == "inner")
    return input_profile(dataset.training, dataset.domains)


def main(names: list[str]) -> int:
    bundled = bundled_configs()
    chosen = names or [name for name, package in bundled.items() if "input_profile" not in load_package(package).card.data]
    for name in chosen:
        config = load_config(CONFIGS / f"{name}.yaml")
        if not (Path(config["data"]["root"]) / "dataset.json").is_file():
            print(f"error: {config['data']['root']} has no dataset.json; prepare the data first", file=sys.stderr)
            return 2
        package = load_package(bundled[name])
        profile = training_profile_of(config)
        write_card(package.path, {**package.card.data, "input_profile": profile})
        print(f"{package.card.id}: input profile of {', '.join(profile['domains'])} recorded in {package.path / 'model.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
