"""Training runs for real on real slices: every model learns, resumes bit-exactly, and exports."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from conftest import assert_same_geometry
from trainer_helpers import DATASET, tiny_config
from gantranslate_trainer.checkpoint import load_checkpoint
from gantranslate_trainer.cli import export_run
from gantranslate_trainer.config import save_config
from GANTranslateLib.dataset_folder import read_dataset
from gantranslate_trainer.models import build_model
from gantranslate_trainer.preprocessing import prepare_subject
from gantranslate_trainer.sampling import TrainingSamples, make_plan
from gantranslate_trainer.training import resolve_run, train
from gantranslate_trainer.validation import validation_directions
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_registry import find_package
from GANTranslateLib.inference_options import InferenceOptions
from GANTranslateLib.translation import translate_image

HOLDOUT = DATASET / "TCGA-FG-6692-holdout"


def fixed_batch(config: dict, domains: list[str]) -> dict:
    subjects = [prepare_subject(s, domains, config, None) for s in read_dataset(DATASET).training]
    samples = TrainingSamples(subjects, make_plan(config, domains), seed=123)
    return torch.utils.data.default_collate([samples[i] for i in range(8)])


def generator_l1(model, batch) -> float:
    model.eval()
    with torch.no_grad():
        value = float((model.translate(batch) - batch["target"]).abs().mean())
    model.train()
    return value


@pytest.mark.parametrize("name, domains", [
    ("pix2pix", ["T1", "T2"]), ("cyclegan", ["T1", "T2"]), ("unified", ["T1", "T2", "FLAIR", "T1c"])])
def test_each_model_learns(tmp_path: Path, name: str, domains: list) -> None:
    steps = {"pix2pix": 40, "cyclegan": 40, "unified": 40}[name]
    # Unpaired CycleGAN never sees its target pairs, so its L1 falls less than paired models' in a short run.
    required = {"pix2pix": 0.8, "cyclegan": 0.9, "unified": 0.8}[name]
    config = tiny_config(name, "train.lr=0.001", "data.augment.enabled=false", "loss.gan=lsgan", steps=steps)
    batch = fixed_batch(config, domains)
    torch.manual_seed(config["seed"])
    before = generator_l1(build_model(config, domains), batch)
    train(config, tmp_path / "run", quiet=True)
    state = load_checkpoint(tmp_path / "run" / "last.pt", torch.device("cpu"))
    model = build_model(config, domains)
    model.load_state_dict(state["model"])
    after = generator_l1(model, batch)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    losses = [v for row in log if row["kind"] == "train" for k, v in row.items() if k not in ("step", "kind")]
    assert all(np.isfinite(losses))
    assert after < required * before, (before, after)


def test_a_unified_model_learns_and_ships_only_its_chosen_directions(tmp_path: Path) -> None:
    chosen = [["T1", "T2"], ["T1", "FLAIR"], ["T2", "T1"]]
    config = tiny_config("unified", f"data.directions={chosen}", steps=2)
    domains = config["data"]["domains"]
    subjects = [prepare_subject(s, domains, config, None) for s in read_dataset(DATASET).training]
    samples = TrainingSamples(subjects, make_plan(config, domains), seed=0)
    drawn = set()
    for epoch in range(20):
        samples.set_epoch(epoch)
        drawn |= {(domains[int(samples[i]["source_domain"])], domains[int(samples[i]["target_domain"])])
                  for i in range(len(samples))}
    assert drawn == {tuple(d) for d in chosen}
    assert validation_directions(config, domains) == [tuple(d) for d in chosen]  # scored on what it ships
    train(config, tmp_path / "run", quiet=True)
    card = export_run(tmp_path / "run", tmp_path / "model").card
    assert [list(d) for d in card.directions] == chosen and card.domains == domains


def test_a_unified_model_ships_the_directions_export_names(tmp_path: Path) -> None:
    """export.directions: the package offers those chosen (e.g. on inner validation) of the ones it learned."""
    config = tiny_config("unified", "data.directions=[[T1, T2], [T1, FLAIR], [T2, T1]]",
                         "export.directions=[[T1, T2], [T2, T1]]", steps=2)
    train(config, tmp_path / "run", quiet=True)
    card = export_run(tmp_path / "run", tmp_path / "model").card
    assert [list(d) for d in card.directions] == [["T1", "T2"], ["T2", "T1"]]
    assert set(card.data["baseline_tables"]) == {"T1->T2", "T2->T1"}
    with pytest.raises(GANTranslateError, match="does not translate T1->FLAIR"):
        translate_image(sitk.ReadImage(str(HOLDOUT / "T1.nii.gz")), find_package(str(tmp_path / "model")), "T1", "FLAIR",
                        InferenceOptions(compile="never"))
    with pytest.raises(GANTranslateError, match=r"export.directions: \['FLAIR', 'T1'\] is not a direction the model learns"):
        tiny_config("unified", "data.directions=[[T1, T2]]", "export.directions=[[FLAIR, T1]]")
    with pytest.raises(GANTranslateError, match="export.directions is for the unified model"):
        tiny_config("pix2pix", "export.directions=[[T1, T2]]")


@pytest.mark.parametrize("gan", ["vanilla", "hinge", "wgan-gp"])
def test_other_adversarial_losses_and_image_losses_run(tmp_path: Path, gan: str) -> None:
    config = tiny_config("pix2pix", f"loss.gan={gan}", "loss.edge=1.0", "loss.ssim=1.0", steps=2)
    train(config, tmp_path / "run", quiet=True)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    row = [r for r in rows if r["kind"] == "train"][-1]
    assert np.isfinite([row["D"], row["G_adv"], row["edge"], row["ssim"]]).all()


@pytest.mark.parametrize("name", ["pix2pix", "unified"])
def test_three_dimensional_training_exports_a_patch_model(tmp_path: Path, name: str) -> None:
    generator = "{name: resnet_generator, args: {ngf: 4, n_blocks: 1, norm: instance}}"
    config = tiny_config(name, f"network.generator={generator}", "validation.subjects=[TCGA-FG-6692-holdout]",
                         "train.validate_every=2", steps=2, dims=3)
    train(config, tmp_path / "run", quiet=True)
    package = export_run(tmp_path / "run", tmp_path / "model")
    assert package.card.mode == "3d" and package.card.patch_size == (32, 32, 16)
    if name == "pix2pix":  # paired: the card carries its training data's look-up-table baseline and input profile
        assert len(package.card.baseline_table("T1", "T2")) == 256
        assert set(package.card.data["input_profile"]["domains"]) == {"T1", "T1c", "T2", "FLAIR"}
    # the exported checkpoint's own validation scores (the last step), never another step's
    assert package.card.data["metrics"]["validation"]["step"] == 2 and package.card.data["metrics"]["checkpoint"] == "last.pt"
    image = sitk.ReadImage(str(HOLDOUT / "T1.nii.gz"))
    result = translate_image(image, package, "T1", "T2")
    assert_same_geometry(result.image, image)


def test_resume_is_bit_exact(tmp_path: Path) -> None:
    config = tiny_config("cyclegan", "train.pool_size=4", "network.generator.args.dropout=true", steps=6)
    train(config, tmp_path / "straight", quiet=True)
    train(config, tmp_path / "interrupted", quiet=True, stop_at_step=3)
    assert load_checkpoint(tmp_path / "interrupted" / "last.pt", torch.device("cpu"))["step"] == 3
    config_again, folder, resume = resolve_run(None, [], None, str(tmp_path / "interrupted"))
    assert resume and folder == tmp_path / "interrupted"
    train(config_again, folder, resume=True, quiet=True)
    a = load_checkpoint(tmp_path / "straight" / "last.pt", torch.device("cpu"))
    b = load_checkpoint(tmp_path / "interrupted" / "last.pt", torch.device("cpu"))
    assert a["step"] == b["step"] == 6
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert all(torch.equal(x, y) for x, y in zip(a["extra"]["pool_a"]["images"], b["extra"]["pool_a"]["images"]))


def test_resume_with_a_different_config_is_refused(tmp_path: Path) -> None:
    config = tiny_config("pix2pix", steps=3)
    train(config, tmp_path / "run", quiet=True)
    other = tmp_path / "other.yaml"
    changed = tiny_config("pix2pix", "train.lr=0.1", steps=3)
    save_config(changed, other)
    with pytest.raises(GANTranslateError, match="different config"):
        resolve_run(str(other), [], None, str(tmp_path / "run"))
    with pytest.raises(GANTranslateError, match="already holds a run"):
        resolve_run(str(other), [], str(tmp_path / "run"), None)


def test_a_killed_run_leaves_a_whole_checkpoint(tmp_path: Path) -> None:
    config = tiny_config("pix2pix", "train.checkpoint_every=1", steps=400)
    config_file = tmp_path / "c.yaml"
    save_config(config, config_file)
    process = subprocess.Popen([sys.executable, "-m", "gantranslate_trainer.cli", "train", str(config_file),
                                "--run-dir", str(tmp_path / "run"), "--quiet"])
    try:
        checkpoint = tmp_path / "run" / "last.pt"
        for _ in range(600):
            if checkpoint.exists() and load_checkpoint(checkpoint, torch.device("cpu"))["step"] >= 3:
                break
            process.wait(timeout=0.1) if process.poll() is not None else __import__("time").sleep(0.1)
        process.kill()
    finally:
        process.wait()
    state = load_checkpoint(tmp_path / "run" / "last.pt", torch.device("cpu"))
    assert 3 <= state["step"] < 400
    config_again, folder, _ = resolve_run(None, [], None, str(tmp_path / "run"))
    train(config_again, folder, resume=True, quiet=True, stop_at_step=state["step"] + 1)
    assert load_checkpoint(folder / "last.pt", torch.device("cpu"))["step"] == state["step"] + 1


def test_two_process_torchrun_trains_and_exports(tmp_path: Path) -> None:
    config = tiny_config("pix2pix", steps=4)
    config_file = tmp_path / "c.yaml"
    save_config(config, config_file)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "gantranslate_trainer.cli", "train", str(config_file), "--run-dir", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    state = load_checkpoint(tmp_path / "run" / "last.pt", torch.device("cpu"))
    assert state["step"] == 4 and len(state["rng"]) == 2
    package = export_run(tmp_path / "run", tmp_path / "model")
    out = tmp_path / "t2.nii.gz"
    predicted = subprocess.run([sys.executable, "-m", "GANTranslateLib.cli", "predict", "-m", str(package.path),
                                "-i", str(HOLDOUT / "T1.nii.gz"), "-o", str(out)], capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr
    assert find_package(package.path).card.id == package.card.id and out.exists()


def test_pairs_made_on_the_fly_by_a_degradation(tmp_path: Path) -> None:
    config = tiny_config("pix2pix", "data.source=T1_LR", "data.target=T1",
                         "data.degradation={kind: low_resolution_mr, factor: 2, from: T1, to: T1_LR}", "data.axis=coronal",
                         "data.crop=[32, 32]", "export.task=super-resolution", steps=2)
    train(config, tmp_path / "run", quiet=True)
    package = export_run(tmp_path / "run", tmp_path / "model")
    assert package.card.directions == [("T1_LR", "T1")] and "low_resolution_mr" in package.card.data["description"]
    assert package.card.output_scale == "input"  # restoration keeps the subject's intensity scale


def test_a_restoration_target_is_normalised_in_its_inputs_units() -> None:
    """Inference maps a restoration model's output back with the input's range (output_scale "input"), so
    training must give it the target in those units: with its own range, thick slices' lower percentiles
    would teach the network a contrast change that inference then misreads."""
    degradation = "data.degradation={kind: low_resolution_mr, factor: 2, from: T1, to: T1_LR}"
    subject = read_dataset(DATASET).training[0]
    restoring = tiny_config("pix2pix", "data.source=T1_LR", "data.target=T1", degradation, "export.task=super-resolution")
    prepared = prepare_subject(subject, ["T1_LR", "T1"], restoring, None)
    assert prepared.ranges["T1"] == prepared.ranges["T1_LR"]
    offset, scale = prepared.ranges["T1_LR"].offset, prepared.ranges["T1_LR"].scale
    raw = sitk.GetArrayFromImage(sitk.ReadImage(str(subject.files["T1"])))
    inside = np.abs(prepared.volumes["T1"]) < 1  # normalisation clips to [-1, 1]
    assert inside.mean() > 0.9
    # axial data: the model grid is the image grid
    np.testing.assert_allclose((prepared.volumes["T1"] * scale + offset)[inside], raw[inside], atol=1e-3 * scale)
    translating = tiny_config("pix2pix", "data.source=T1_LR", "data.target=T1", degradation)
    own = prepare_subject(subject, ["T1_LR", "T1"], translating, None).ranges
    assert own["T1"] != own["T1_LR"]


def test_degrade_command_adds_a_domain_to_a_dataset(tmp_path: Path) -> None:
    import shutil

    from gantranslate_trainer.cli import main

    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    assert main(["degrade", str(root), "--kind", "low_resolution_mr", "--from", "T2", "--to", "T2_LR"]) == 0
    manifest = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    assert "T2_LR" in manifest["domains"]
    assert manifest["degradations"]["T2_LR"] == {"from": "T2", "kind": "low_resolution_mr", "factor": 2, "kspace_fraction": 1.0,
                                                 "interpolation": "cubic", "seed": 0}
    clean = sitk.ReadImage(str(root / "TCGA-FG-6692-holdout" / "T2.nii.gz"))
    made = sitk.ReadImage(str(root / "TCGA-FG-6692-holdout" / "T2_LR.nii.gz"))
    assert_same_geometry(made, clean)


def test_validation_never_compiles_the_network(tmp_path: Path, monkeypatch) -> None:
    """Weights change between validations, so a compiled network would never be reused: only cache litter."""
    from GANTranslateLib import network_runner

    compiled = []
    monkeypatch.setattr(network_runner, "compiler_available", lambda: True)
    monkeypatch.setattr(network_runner, "COMPILE_SECONDS", 0.0)  # 'auto' would compile any job
    monkeypatch.setattr(network_runner, "compile_network", lambda *args: compiled.append(args))
    train(tiny_config("pix2pix", "train.validate_every=1", "validation.batch_size=1", steps=2), tmp_path / "run", quiet=True)
    assert any(json.loads(line)["kind"] == "validation" for line in (tmp_path / "run" / "log.jsonl").read_text(encoding="utf-8").splitlines())
    assert compiled == []
