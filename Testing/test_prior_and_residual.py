"""The intensity prior (look-up tables learned on training pairs, fed to the generator as an extra
channel) and residual generators (which predict a correction to their input or to that prior).

The trainer and the engine must build the very same network and input, and the tables must be the
ones the evaluator's look-up-table baseline learns, or the "margin over the baseline" means nothing.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from trainer_helpers import DATASET, tiny_config
from GANTranslateLib import intensity_prior, lut_baseline
from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.evaluation import evaluate
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.model_card import parse_card
from GANTranslateLib.model_package import load_package
from GANTranslateLib.network_runner import NetworkRunner
from GANTranslateLib.translation import InferenceOptions, translate_image
from gantranslate_trainer.checkpoint import load_checkpoint
from gantranslate_trainer.cli import export_run
from gantranslate_trainer.config import load_config
from gantranslate_trainer.models import build_model
from gantranslate_trainer.preprocessing import fit_prior_tables, prepare_subject
from gantranslate_trainer.training import train

HOLDOUT = DATASET / "TCGA-FG-6692-holdout"
CPU = torch.device("cpu")


def test_numpy_and_tensor_binning_agree_at_every_edge() -> None:
    values = np.concatenate([np.linspace(-1.2, 1.2, 10001), [-1.0, 1.0, -1 + 2 / 256, 1 - 1e-7]]).astype(np.float32)
    assert np.array_equal(intensity_prior.bin_index(values), intensity_prior.bin_index_tensor(torch.from_numpy(values)).numpy())
    assert intensity_prior.bin_index(np.float32([-1.0, 1.0])).tolist() == [0, 255]


def test_table_is_the_mean_target_per_source_bin_with_gaps_filled() -> None:
    source = np.float32([-0.999, -0.999, 0.0, 0.0, 0.0, 0.999])  # bins 0, 128 and 255
    target = np.float32([0.2, 0.4, -0.5, -0.7, 0.3, 1.0])
    mask = np.array([True, True, True, True, False, True])  # the masked-out voxel must not count
    table = intensity_prior.fit_table([(source, target, mask)])
    assert table[0] == pytest.approx(0.3)
    assert table[128] == pytest.approx(-0.6)
    assert table[255] == pytest.approx(1.0)
    assert table[64] == pytest.approx(0.3 + (-0.6 - 0.3) * 64 / 128)  # empty bins: interpolated
    with pytest.raises(ValueError, match="no foreground"):
        intensity_prior.fit_table([(source, target, np.zeros(6, bool))])


def test_background_stays_background_and_is_not_learned() -> None:
    """-1 is background (outside a skull-stripped brain, air, padding): it maps to -1 and never into bin 0,
    which dark tissue shares."""
    source = np.float32([-1.0, -1.0, -0.999])
    target = np.float32([0.9, 0.9, 0.5])
    table = intensity_prior.fit_table([(source, target, np.ones(3, bool))])
    assert table[0] == pytest.approx(0.5)
    assert intensity_prior.map_array(np.float32([-1.0, -1.2, -0.999]), table).tolist() == [-1.0, -1.0, pytest.approx(0.5)]
    mapped = intensity_prior.map_tensor(torch.tensor([[[-1.0, -1.2, -0.999]]]), torch.from_numpy(table))
    assert mapped.flatten().tolist() == [-1.0, -1.0, pytest.approx(0.5)]


def test_per_item_tables_map_each_item_through_its_own() -> None:
    tables = torch.stack([torch.linspace(-1, 1, 256), torch.linspace(1, -1, 256)])
    image = torch.rand(2, 1, 5, 7) * 2 - 1
    mapped = intensity_prior.map_tensor(image, tables)
    assert torch.equal(mapped[0], intensity_prior.map_tensor(image[:1], tables[0])[0])
    assert torch.equal(mapped[1], intensity_prior.map_tensor(image[1:], tables[1])[0])
    batch = torch.rand(2, 3, 4, 4)  # neighbours as channels: the centre slice is the one mapped
    with_prior = intensity_prior.with_prior(batch, tables[0])
    assert with_prior.shape == (2, 4, 4, 4)
    assert torch.equal(with_prior[:, :3], batch)
    assert torch.equal(with_prior[:, 3:], intensity_prior.map_tensor(batch[:, 1:2], tables[0]))


@pytest.fixture(scope="module")
def pix2pix_package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prior")
    config = tiny_config("pix2pix", "data.intensity_prior=true", "data.adjacent=1", steps=2)
    train(config, folder / "run", quiet=True)
    return config, export_run(folder / "run", folder / "model", which="last")


def test_exported_card_carries_the_evaluators_baseline_table(pix2pix_package) -> None:
    config, package = pix2pix_package
    card = package.card
    assert card.has_intensity_prior and card.image_channels == 3
    assert card.architecture_args["input_nc"] == 4
    shipped = np.asarray(card.prior_table("T1", "T2"), np.float32)
    subjects = [prepare_subject(s, ["T1", "T2"], config, None) for s in read_dataset(DATASET).training]
    assert np.array_equal(shipped, fit_prior_tables(subjects, [["T1", "T2"]])["T1->T2"])
    # the evaluator's baseline, learned from the same training subjects on their own grid
    pairs = [(read_volume(s.files["T1"]), read_volume(s.files["T2"]), sitk.GetArrayFromImage(read_volume(s.mask)) > 0)
             for s in read_dataset(DATASET).training]
    baseline = lut_baseline.fit_from_images(card, "T1", "T2", pairs).table
    np.testing.assert_allclose(shipped, baseline, atol=1e-5)
    assert json.loads(card.to_json())["intensity_prior"]["tables"]["T1->T2"] == shipped.tolist()


def test_engine_feeds_the_network_exactly_what_the_trainer_fed_it(pix2pix_package) -> None:
    config, package = pix2pix_package
    model = build_model(config, ["T1", "T2"])
    model.load_state_dict(load_checkpoint(Path(package.path).parent / "run" / "last.pt", CPU)["model"])
    batch = torch.rand(2, 3, 32, 32) * 2 - 1
    seen = []
    runner = NetworkRunner(_Recorder(seen), package.card, "T1", "T2", CPU, compile="never")
    runner(batch)
    assert torch.equal(seen[0], model.generator_input(batch, 0, 1))


def test_the_prior_channel_reaches_the_network_at_inference(pix2pix_package, tmp_path: Path) -> None:
    _, package = pix2pix_package
    image = read_volume(HOLDOUT / "T1.nii.gz")
    options = InferenceOptions(device="cpu", compile="never")
    with_tables = sitk.GetArrayFromImage(translate_image(image, package, options=options).image)
    data = json.loads(package.card.to_json())
    data["intensity_prior"]["tables"]["T1->T2"] = [0.0] * 256
    flattened = load_package(package.path)
    flattened = type(flattened)(flattened.path, parse_card(data))
    without = sitk.GetArrayFromImage(translate_image(image, flattened, options=options).image)
    assert np.abs(with_tables - without).max() > 1e-3


def test_unified_model_with_a_prior_has_a_table_per_direction(tmp_path: Path) -> None:
    config = tiny_config("unified", "data.intensity_prior=true", steps=2)
    train(config, tmp_path / "run", quiet=True)
    package = export_run(tmp_path / "run", tmp_path / "model", which="last")
    assert len(package.card.data["intensity_prior"]["tables"]) == 12
    assert package.card.image_channels == 1
    result = translate_image(read_volume(HOLDOUT / "T1.nii.gz"), package, "T1", "FLAIR", InferenceOptions(compile="never"))
    assert result.image.GetSize() == read_volume(HOLDOUT / "T1.nii.gz").GetSize()
    _, summary = evaluate(DATASET, "T1", "FLAIR", tmp_path / "evaluation", package=package)
    assert "baseline_psnr" in summary["metrics"]


def test_a_card_without_a_table_for_a_direction_is_refused(pix2pix_package) -> None:
    data = json.loads(pix2pix_package[1].card.to_json())
    data["intensity_prior"]["tables"] = {"T2->T1": [0.0] * 256}
    with pytest.raises(GANTranslateError, match="no table for direction"):
        parse_card(data)
    data["intensity_prior"]["tables"] = {"T1->T2": [0.0] * 10}
    with pytest.raises(GANTranslateError, match="intensity_prior"):
        parse_card(data)


def test_cyclegan_cannot_take_a_prior() -> None:
    with pytest.raises(GANTranslateError, match="is an option of pix2pix and unified"):
        load_config(None, [f"data.root={DATASET}", "model=cyclegan", "data.source=T1", "data.target=T2",
                           "data.intensity_prior=true"])


class _Recorder(torch.nn.Module):
    """Stands in for the network: records its input and returns its first channel."""

    def __init__(self, seen: list) -> None:
        super().__init__()
        self.seen = seen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return x[:, :1]


def test_residual_output_adds_its_base_channel() -> None:
    from GANTranslateLib.networks import build_generator

    network = build_generator("unet_generator", {"input_nc": 4, "output_nc": 1, "num_downs": 5, "ngf": 4, "norm": "instance"},
                              num_domains=2, residual_channel=1)
    x, labels = torch.rand(2, 2, 32, 32), torch.tensor([0, 1])
    assert torch.equal(network(x, labels), x[:, 1:2])  # untrained: exactly its base channel
    for parameter in network.parameters():
        parameter.data.normal_(0, 0.1)
    inner = network.inner(x, labels)
    assert inner.abs().max() > 0
    assert torch.equal(network(x, labels), x[:, 1:2] + inner)
    assert network.size_divisor == network.inner.size_divisor


@pytest.mark.parametrize("residual, extra, channel", [("input", ["data.adjacent=1"], 1),
                                                      ("prior", ["data.intensity_prior=true", "data.adjacent=1"], 3)])
def test_residual_generators_export_and_run_as_trained(tmp_path: Path, residual: str, extra: list, channel: int) -> None:
    config = tiny_config("pix2pix", f"network.generator.residual={residual}", *extra, steps=2)
    train(config, tmp_path / "run", quiet=True)
    package = export_run(tmp_path / "run", tmp_path / "model", which="last")
    assert package.card.data["architecture"]["residual"] == residual
    assert package.card.residual_channel == channel
    model = build_model(config, ["T1", "T2"])
    model.load_state_dict(load_checkpoint(tmp_path / "run" / "last.pt", CPU)["model"])
    model.eval()
    batch = torch.rand(1, 3, 32, 32) * 2 - 1
    shipped = NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU, compile="never")
    with torch.no_grad():
        torch.testing.assert_close(shipped(batch), model.generator(model.generator_input(batch, 0, 1)))


@pytest.mark.parametrize("override, message", [("network.generator.residual=prior", "needs data.intensity_prior"),
                                               ("network.generator.residual=output", "must be input, prior or null")])
def test_bad_residual_settings_are_refused(override: str, message: str) -> None:
    with pytest.raises(GANTranslateError, match=message):
        load_config(None, [f"data.root={DATASET}", "model=pix2pix", "data.source=T1", "data.target=T2", override])
