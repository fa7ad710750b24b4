"""Re-scoring bundled models: every shipped direction is evaluated and the card records exactly that."""
import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_package
from trainer_helpers import DATASET
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_package import load_package

sys.path.insert(0, str(REPO / "trainer"))
import evaluate_bundled_models  # noqa: E402

NORM = {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}


def test_every_direction_is_scored_and_recorded_in_the_card(tmp_path: Path) -> None:
    package = make_package(tmp_path / "model", domains=["T1", "T2", "FLAIR"], directions=[["T1", "T2"], ["T1", "FLAIR"]],
                           normalization={d: NORM for d in ("T1", "T2", "FLAIR")})
    weights = (package.path / "model.safetensors").read_bytes()
    summaries = evaluate_bundled_models.evaluate_package(package.path, DATASET, tmp_path / "evaluation")
    assert list(summaries) == ["T1->T2", "T1->FLAIR"]
    on_disk = json.loads((tmp_path / "evaluation" / "T1_to_FLAIR" / "summary.json").read_text(encoding="utf-8"))
    assert summaries["T1->FLAIR"] == on_disk and on_disk["target"] == "FLAIR"
    evaluate_bundled_models.record_in_card(package.path, summaries)
    reloaded = load_package(package.path)
    assert reloaded.card.data["metrics"]["held_out_evaluation"] == summaries
    assert (package.path / "model.safetensors").read_bytes() == weights
    assert sorted(p.name for p in package.path.iterdir()) == ["model.json", "model.safetensors"]  # no temporary left


def test_an_invalid_card_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    package = make_package(tmp_path / "model", normalization={"T1": NORM, "T2": NORM})
    card = json.loads((package.path / "model.json").read_text(encoding="utf-8"))
    del card["normalization"]["T2"]
    before = json.dumps(card)
    (package.path / "model.json").write_text(before, encoding="utf-8")
    with pytest.raises(GANTranslateError, match="normalization has no entry for domain"):
        evaluate_bundled_models.record_in_card(package.path, {"T1->T2": {"metrics": {}}})
    assert (package.path / "model.json").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in package.path.iterdir()) == ["model.json", "model.safetensors"]


def test_unknown_config_is_a_one_line_error(capsys) -> None:
    assert evaluate_bundled_models.main(["no_such_config"]) == 2
    error = capsys.readouterr().err
    assert "no bundled model for config(s) no_such_config" in error and "t1_to_t2_pix2pix" in error


def test_each_bundled_model_has_the_config_that_made_it() -> None:
    bundled = evaluate_bundled_models.bundled_configs()
    shipped = {p.name for p in evaluate_bundled_models.MODELS.iterdir() if (p / "model.json").is_file()}
    assert {package.name for package in bundled.values()} == shipped


def test_a_missing_dataset_is_a_one_line_error(tmp_path: Path, monkeypatch, capsys) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    shutil.copy(evaluate_bundled_models.CONFIGS / "t1_to_t2_pix2pix.yaml", configs)
    text = (configs / "t1_to_t2_pix2pix.yaml").read_text(encoding="utf-8")
    (configs / "t1_to_t2_pix2pix.yaml").write_text(text.replace("root:", "root: /nonexistent/dataset  #"), encoding="utf-8")
    monkeypatch.setattr(evaluate_bundled_models, "CONFIGS", configs)
    assert evaluate_bundled_models.main(["t1_to_t2_pix2pix"]) == 2
    assert "/nonexistent/dataset has no dataset.json; prepare the data first" in capsys.readouterr().err


def test_the_fast_mode_error_is_measured_on_a_held_out_volume_and_recorded(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}})
    record = evaluate_bundled_models.record_fast_mode(package.path, DATASET)
    card = load_package(package.path).card.data["fast_mode"]
    assert card == record and record["volumes"] == ["Testing/Data/tcga_dataset/TCGA-FG-6692-holdout/T1.nii.gz"]
    assert record["bf16"]["allowed"] and record["fp16"]["allowed"]
