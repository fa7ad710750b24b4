"""Model packages: validation with precise errors, and no code ever executed from a model file."""
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from conftest import make_card, make_package
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_card import parse_card
from GANTranslateLib.model_package import CARD_NAME, WEIGHTS_NAME, load_package, write_card
from GANTranslateLib.model_registry import find_package, list_packages
from GANTranslateLib.networks import build_generator
from GANTranslateLib.pix2pix_import import import_pix2pix

UNET = {"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}}


def test_round_trip(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture=UNET)
    network = load_package(package.path).build_network()
    assert not network.training
    again = make_package(tmp_path / "n", architecture=UNET)  # same seed -> same weights
    for (k, a), (_, b) in zip(network.state_dict().items(), again.build_network().state_dict().items()):
        assert torch.equal(a, b), k


@pytest.mark.parametrize(
    "change, message",
    [
        ({"domains": None}, "'domains' is a required property"),
        ({"architecture": {"name": "transformer", "args": {}}}, "unknown architecture 'transformer'"),
        ({"directions": [["T1", "PD"]]}, "uses 'PD', which is not in domains"),
        ({"mode": "3d"}, "spatial_dims 3"),
        ({"schema_version": 2}, "'schema_version'.*if a newer GANTranslate made it, update GANTranslate"),
        ({"calibration": {}}, "'calibration' was unexpected.*if a newer GANTranslate made it, update GANTranslate"),
        ({"normalization": {"T1": {"method": "window", "min": 0}}}, "normalization"),
        ({"orientation": "LLS"}, "orientation"),
    ],
)
def test_invalid_cards_name_the_field(change: dict, message: str) -> None:
    with pytest.raises(GANTranslateError, match=message):
        parse_card(make_card(**change))


def test_weights_that_do_not_match_the_card(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture=UNET)
    card = json.loads((package.path / CARD_NAME).read_text(encoding="utf-8"))
    card["architecture"]["args"]["ngf"] = 8
    (package.path / CARD_NAME).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(GANTranslateError, match=r"has shape \(4, 1, 4, 4\) but the card's architecture needs \(8, 1, 4, 4\)"):
        load_package(package.path).build_network()


def test_invalid_json_and_missing_weights(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture=UNET)
    (package.path / WEIGHTS_NAME).unlink()
    with pytest.raises(GANTranslateError, match="has no model.safetensors"):
        load_package(package.path).build_network()
    (package.path / CARD_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(GANTranslateError, match="not valid JSON"):
        load_package(package.path)


class RunsCode:
    """A pickle payload that would create a file if it were ever unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_renamed_to_safetensors_is_refused_without_running(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture=UNET)
    marker = tmp_path / "pwned"
    (package.path / WEIGHTS_NAME).write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(GANTranslateError, match="not a valid safetensors file"):
        load_package(package.path).build_network()
    assert not marker.exists()


def test_a_crafted_checkpoint_is_refused_by_the_importer(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "latest_net_G.pth"
    torch.save({"model.1.weight": RunsCode(marker)}, checkpoint)
    with pytest.raises(GANTranslateError, match="refused .*could run code"):
        import_pix2pix(checkpoint, tmp_path / "out", arch="unet_256", source="T1", target="T2")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_a_pth_file_given_as_model_is_refused(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.pth"
    torch.save({"w": torch.zeros(1)}, checkpoint)
    with pytest.raises(GANTranslateError, match="never unpickled"):
        load_package(checkpoint)


@pytest.mark.parametrize("arch, norm", [("unet_256", "batch"), ("resnet_6blocks", "instance")])
def test_import_reference_state_dict(tmp_path: Path, arch: str, norm: str) -> None:
    name = "unet_generator" if arch.startswith("unet") else "resnet_generator"
    extra = {"num_downs": 8} if name == "unet_generator" else {"n_blocks": 6}
    reference = build_generator(name, {"input_nc": 3, "output_nc": 3, "ngf": 8, "norm": norm, **extra})
    checkpoint = tmp_path / "latest_net_G.pth"
    state = {f"module.{k}": v for k, v in reference.state_dict().items()}  # as saved from DataParallel
    torch.save(state, checkpoint)
    package = import_pix2pix(checkpoint, tmp_path / "pkg", arch=arch, source="T1", target="T2", norm=norm,
                             ngf=8, input_nc=3, output_nc=3)
    loaded = package.build_network()
    x = torch.randn(1, 3, 256, 256)
    reference.eval()
    assert torch.equal(loaded(x), reference(x))
    assert package.card.channel_mode == "replicate"


def test_registry_finds_by_id_and_skips_broken_packages(tmp_path: Path) -> None:
    make_package(tmp_path / "good-model", id="good-model")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / CARD_NAME).write_text("{}", encoding="utf-8")
    assert [p.card.id for p in list_packages([tmp_path])] == ["good-model"]
    assert find_package("good-model", [tmp_path]).card.id == "good-model"
    with pytest.raises(GANTranslateError, match="not found"):
        find_package("missing-model", [tmp_path])


def test_safetensors_file_with_wrong_names(tmp_path: Path) -> None:
    package = make_package(tmp_path / "m", architecture=UNET)
    save_file({"other.weight": torch.zeros(1)}, str(package.path / WEIGHTS_NAME))
    with pytest.raises(GANTranslateError, match="do not match the card"):
        load_package(package.path).build_network()


def test_float16_weights_halve_the_file_and_load_as_float32(tmp_path: Path) -> None:
    import torch

    from GANTranslateLib.model_package import save_package

    full = make_package(tmp_path / "full", architecture=UNET)
    network = full.build_network()
    half = save_package(tmp_path / "half", full.card, network, weights_dtype="float16")
    size = lambda p: (p.path / WEIGHTS_NAME).stat().st_size  # noqa: E731
    assert size(half) < 0.6 * size(full)
    loaded = half.build_network()
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.randn(1, 1, 64, 64)
    assert torch.allclose(loaded(x), network(x), atol=1e-2)


def test_write_card_replaces_only_the_card_and_refuses_an_invalid_one(tmp_path: Path) -> None:
    package = make_package(tmp_path / "model")
    weights = (package.path / "model.safetensors").read_bytes()
    card = write_card(package.path, {**package.card.data, "metrics": {"note": "measured"}})
    assert load_package(package.path).card.data["metrics"] == {"note": "measured"} == card.data["metrics"]
    before = (package.path / "model.json").read_text(encoding="utf-8")
    with pytest.raises(GANTranslateError, match="is not in domains"):
        write_card(package.path, {**package.card.data, "directions": [["T1", "PD"]]})
    assert (package.path / "model.json").read_text(encoding="utf-8") == before
    assert (package.path / "model.safetensors").read_bytes() == weights
    assert sorted(p.name for p in package.path.iterdir()) == ["model.json", "model.safetensors"]
