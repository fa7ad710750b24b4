"""Small, fast training configurations on the real test dataset."""
from __future__ import annotations

from pathlib import Path

from conftest import DATA
from gantranslate_trainer.config import load_config

DATASET = DATA / "tcga_dataset"

TINY = {
    "pix2pix": ["model=pix2pix", "data.source=T1", "data.target=T2",
                "network.generator={name: unet_generator, args: {num_downs: 5, ngf: 8, norm: instance}}"],
    "cyclegan": ["model=cyclegan", "data.source=T1", "data.target=T2",
                 "network.generator={name: resnet_generator, args: {ngf: 8, n_blocks: 2, norm: instance}}"],
    "unified": ["model=unified", "data.domains=[T1, T2, FLAIR, T1c]",
                "network.generator={name: resnet_generator, args: {ngf: 8, n_blocks: 2, norm: instance}}"],
}


def tiny_config(model: str, *extra: str, steps: int = 6, dims: int = 2) -> dict:
    crop = "[32, 32]" if dims == 2 else "[16, 32, 32]"
    common = [f"data.root={DATASET}", f"data.dims={dims}", f"data.crop={crop}", "data.cache=false",
              "network.discriminator={ndf: 8, n_layers: 2, norm: instance}",
              f"train.steps={steps}", f"train.decay_start={steps // 2}", "train.batch_size=4",
              "train.checkpoint_every=3", "train.validate_every=1000", "train.log_every=1", "train.image_every=1000",
              "validation.batch_size=4", "data.patches_per_subject=8"]
    return load_config(None, common + TINY[model] + list(extra))


def run_dir(tmp_path: Path, name: str = "run") -> Path:
    return tmp_path / name
