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


def test_export_records_the_loso_scores_and_the_checkerboard_measure_in_the_card(tmp_path: Path) -> None:
    from trainer_helpers import tiny_config
    from GANTranslateLib.evaluation import evaluate
    from GANTranslateLib.model_package import load_package
    from gantranslate_trainer.cli import export_run
    from gantranslate_trainer.training import train

    root = dataset_with_sources(tmp_path)
    run = tmp_path / "run"
    train(tiny_config("pix2pix", f"data.root={root}", "data.split=loso:site-b", steps=2), run, quiet=True)
    first = export_run(run, tmp_path / "first")
    _, summary = evaluate(root, "T1", "T2", tmp_path / "eval", package=first, split="loso:site-b")
    assert summary["split"] == "loso:site-b" and list(summary["scale_free"]["per_subject"]) == ["TCGA-FG-6692-superior"]
    card = export_run(run, tmp_path / "package", loso_evaluations=[tmp_path / "eval" / "summary.json"]).card.data
    loso = card["metrics"]["leave_one_source_out"]["T1->T2 loso:site-b"]
    assert loso["per_subject"]["TCGA-FG-6692-superior"]["sf_own_lut_psnr"] > 0
    assert set(card["metrics"]["checkerboard"]["loso:site-b"]) >= {"nyquist_energy_share_synthetic_mean",
                                                                   "nyquist_energy_share_real_range", "within_real_range"}
    assert load_package(tmp_path / "package").card.data["metrics"] == card["metrics"]
