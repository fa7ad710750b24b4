"""Trainer configuration and dataset checks fail early with one clear line."""
import json
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from trainer_helpers import DATASET, tiny_config
from gantranslate_trainer.cli import main
from gantranslate_trainer.config import load_config
from GANTranslateLib.dataset_folder import read_dataset, require_domains
from gantranslate_trainer.preprocessing import prepare_subject
from GANTranslateLib.errors import GANTranslateError

REPO = Path(__file__).resolve().parent.parent


def test_unknown_key_suggests_the_right_one() -> None:
    with pytest.raises(GANTranslateError, match=r"unknown config key 'train.stpes' \(did you mean 'train.steps'\?\)"):
        tiny_config("pix2pix", "train.stpes=3")


def test_overrides_are_typed_yaml() -> None:
    config = tiny_config("pix2pix", "train.lr=0.001", "data.augment.enabled=false")
    assert config["train"]["lr"] == 0.001 and config["data"]["augment"]["enabled"] is False


@pytest.mark.parametrize("override, message", [
    ("model=diffusion", "model must be one of"),
    ("data.crop=[32]", "data.crop needs 2 sizes"),
    ("loss.gan=wasserstein", "loss.gan must be one of"),
    ("train.steps=0", "train.steps must be a positive integer"),
    ("data.normalization={method: minmax}", "data.normalization.method must be one of percentile, zscore, histogram, window"),
    ("data.normalization_by_domain={CT: {method: window}}", "data.normalization_by_domain.CT is a window and needs min and max"),
])
def test_invalid_values(override: str, message: str) -> None:
    with pytest.raises(GANTranslateError, match=message):
        tiny_config("pix2pix", override)


@pytest.mark.parametrize("model, override, message", [
    ("pix2pix", "data.directions=[[T1, T2]]", "'data.directions' is an option of unified, not of this model"),
    ("pix2pix", "loss.identity=1", "'loss.identity' is an option of cyclegan"),
    ("cyclegan", "data.intensity_prior=true", "'data.intensity_prior' is an option of pix2pix and unified"),
    ("unified", "data.directions=[[T1, T1]]", r"\['T1', 'T1'\] is not a \[source, target\] pair"),
    ("unified", "data.directions=[[T1, PD]]", "two different domains in data.domains"),
    ("unified", "data.directions=[]", "data.directions is empty"),
])
def test_invalid_directions(model: str, override: str, message: str) -> None:
    with pytest.raises(GANTranslateError, match=message):
        tiny_config(model, override)


@pytest.mark.parametrize("given, filled", [
    ({"method": "zscore"}, {"method": "zscore", "clip": 5.0, "mask": "nonzero"}),
    ({"method": "zscore", "mask": "otsu", "clip": 3}, {"method": "zscore", "clip": 3, "mask": "otsu"}),
    ({"method": "percentile", "high": 99}, {"method": "percentile", "high": 99, "mask": "nonzero", "fixed_low": 0}),
    ({"method": "percentile", "low": 1}, {"method": "percentile", "low": 1, "high": 99.5, "mask": "nonzero"}),
    ({"method": "histogram"}, {"method": "histogram", "mask": "nonzero"}),
])
def test_a_normalisation_method_gets_its_defaults(given: dict, filled: dict) -> None:
    """A config naming only the method trains (a z-score without its clip used to end in a KeyError)."""
    text = "{" + ", ".join(f"{k}: {v}" for k, v in given.items()) + "}"
    assert tiny_config("pix2pix", f"data.normalization={text}")["data"]["normalization"] == filled


@pytest.mark.parametrize("config", sorted((REPO / "trainer" / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(config: Path) -> None:
    assert load_config(config)["data"]["root"]


def copy_dataset(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATASET, tmp_path / "dataset"))


def test_paired_training_leaves_out_a_subject_without_both_domains(tmp_path: Path) -> None:
    root = copy_dataset(tmp_path)
    (root / "TCGA-FG-6692-superior" / "T2.nii.gz").unlink()
    dataset = read_dataset(root)
    used = require_domains(dataset, ["T1", "T2"], paired=True)
    assert [s.name for s in used] == [s.name for s in dataset.training if s.name != "TCGA-FG-6692-superior"]
    assert require_domains(dataset, ["T1", "T2"], paired=False) == dataset.training


def test_paired_training_without_any_paired_subject_names_a_missing_file(tmp_path: Path) -> None:
    root = copy_dataset(tmp_path)
    for index, subject in enumerate(read_dataset(root).training):
        (root / subject.name / ("T2.nii.gz" if index == 0 else "T1.nii.gz")).unlink()
    dataset = read_dataset(root)
    with pytest.raises(GANTranslateError, match=r"no training subject has every one of T1, T2 \(subject .* lacks .*T2.nii.gz\)"):
        require_domains(dataset, ["T1", "T2"], paired=True)


def test_mismatched_grids_between_paired_files(tmp_path: Path) -> None:
    root = copy_dataset(tmp_path)
    t2 = root / "TCGA-FG-6692-inferior" / "T2.nii.gz"
    image = sitk.ReadImage(str(t2))
    sitk.WriteImage(image[:, :, :3], str(t2))
    subject = read_dataset(root).training[0]
    with pytest.raises(GANTranslateError, match="the T2 grid differs from T1"):
        prepare_subject(subject, ["T1", "T2"], tiny_config("pix2pix"), None)


def test_missing_subject_folder_and_manifest(tmp_path: Path) -> None:
    root = copy_dataset(tmp_path)
    manifest = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    manifest["training"].append("nobody")
    (root / "dataset.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(GANTranslateError, match="subject folder .*nobody .* does not exist"):
        read_dataset(root)
    with pytest.raises(GANTranslateError, match="has no dataset.json"):
        read_dataset(tmp_path)


def test_cli_reports_config_errors_in_one_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"model: pix2pix\ndata: {{root: {DATASET}, source: T1, target: T2}}\ntrain: {{stpes: 3}}\n", encoding="utf-8")
    assert main(["train", str(config), "--run-dir", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'train.steps'" in err
    assert not (tmp_path / "run").exists()


def test_cli_takes_overrides_before_or_after_options(tmp_path: Path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"model: pix2pix\ndata: {{root: {DATASET}, source: T1, target: T2}}\n", encoding="utf-8")
    for argv in (["train", str(config), "train.stpes=3", "--run-dir", str(tmp_path / "run")],
                 ["train", "--run-dir", str(tmp_path / "run"), str(config), "train.stpes=3"],
                 ["train", str(config), "--run-dir", str(tmp_path / "run"), "train.stpes=3"]):
        assert main(argv) == 1  # the override reached the config: its typo is reported
        assert "did you mean 'train.steps'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", str(config), "--run-dir", str(tmp_path / "run"), "--no-such-option"])


def test_fingerprint_ignores_new_keys_at_their_default_and_cadence() -> None:
    from gantranslate_trainer.config import DEFAULTS, fingerprint

    config = tiny_config("pix2pix")
    older = {**config, "loss": {k: v for k, v in config["loss"].items() if k != "adversarial"}}
    assert "adversarial" in DEFAULTS["loss"] and fingerprint(older) == fingerprint(config)
    assert fingerprint(tiny_config("pix2pix", "train.steps=99")) == fingerprint(config)
    assert fingerprint(tiny_config("pix2pix", "train.lr=0.1")) != fingerprint(config)


def test_fewer_steps_than_the_decay_start_names_the_key_and_a_value() -> None:
    """`train.steps=40` alone failed with 'decay_start must lie between 0 and train.steps', naming no value."""
    from gantranslate_trainer.config import load_config

    shipped = Path(__file__).parents[1] / "trainer" / "configs" / "t1_to_t2_pix2pix.yaml"
    with pytest.raises(GANTranslateError, match=r"train.decay_start \(2000\) must lie between 0 and train.steps \(40\); "
                                                r"set it too, e.g. train.decay_start=20"):
        load_config(shipped, ["train.steps=40"])
    assert load_config(shipped, ["train.steps=40", "train.decay_start=20"])["train"]["steps"] == 40
