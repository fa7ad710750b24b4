"""trainer/choose_settings.sh --loso: every variant trained once per source on the others and scored on that
source with the scale-free metric, one line per left-out patient (tiny data, two steps)."""
import os
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO
from test_source_split import dataset_with_sources


def test_loso_choice_trains_per_source_and_reports_each_left_out_patient(tmp_path: Path) -> None:
    root = dataset_with_sources(tmp_path)
    config = {"model": "pix2pix", "data": {"root": str(root), "source": "T1", "target": "T2", "crop": [32, 32],
                                           "cache": False, "patches_per_subject": 8},
              "network": {"generator": {"name": "unet_generator",
                                        "args": {"num_downs": 5, "ngf": 8, "norm": "instance", "upsample": "nearest"}},
                          "discriminator": {"ndf": 8, "n_layers": 2, "norm": "instance"}},
              "train": {"batch_size": 4, "checkpoint_every": 2, "log_every": 1, "image_every": 1000, "threads": 1}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "RUNS_DIR": str(tmp_path / "runs"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "GANTranslate"), str(REPO / "trainer")])}
    done = subprocess.run(["bash", str(REPO / "trainer" / "choose_settings.sh"), "--loso", str(path), "2", "nearest="],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    # site-a holds two patients, site-b one: a line each, and one summary line per source
    for patient in ("TCGA-FG-6692-inferior", "TCGA-FG-6692-holdout", "TCGA-FG-6692-superior"):
        assert sum(patient in line and "vs own LUT" in line for line in lines) == 1, done.stdout
    assert sum("(source)" in line and "own_lut_psnr mean" in line for line in lines) == 2
    for source in ("site-a", "site-b"):
        assert (tmp_path / "runs" / "choose_loso" / "tiny" / "nearest" / source / "package" / "model.json").is_file()
