"""Resize-then-convolve decoders: no built-in checkerboard; transposed convolution stays the default so
reference checkpoints still load; a card naming the option builds and round-trips through a package."""
import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from conftest import IDENTITY_CARD, make_package
from GANTranslateLib.checkerboard import nyquist_energy_share
from GANTranslateLib.model_card import parse_card
from GANTranslateLib.networks import ResnetGenerator, UnetGenerator, build_generator


def smooth_input(seed: int, size: int = 64) -> torch.Tensor:
    noise = np.random.default_rng(seed).normal(size=(size, size))
    return torch.from_numpy(gaussian_filter(noise, 4) * 10).float()[None, None]


def output_share(net: torch.nn.Module, seed: int) -> float:
    with torch.no_grad():
        out = net(smooth_input(seed))[0, 0].numpy()
    return nyquist_energy_share(out[None], np.ones((1, *out.shape), bool))


@pytest.mark.parametrize("build", [
    lambda up: UnetGenerator(num_downs=5, ngf=8, norm="none", upsample=up),
    lambda up: ResnetGenerator(ngf=8, n_blocks=1, norm="none", upsample=up),
])
def test_an_untrained_resize_conv_decoder_leaves_far_less_energy_at_nyquist(build) -> None:
    """Untrained networks show the architecture's own texture: stride-2 transposed convolutions give the
    even and odd output voxels different kernels (a period-2 pattern), nearest or linear resizing does not."""
    for seed in range(3):
        torch.manual_seed(seed)
        transposed = output_share(build("transposed"), seed)
        for mode in ("nearest", "linear"):
            torch.manual_seed(seed)
            assert output_share(build(mode), seed) < transposed / 5


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_conv_generators_keep_shape_and_range(dims: int, mode: str) -> None:
    x = torch.randn(1, 3, *([32] * dims))
    for net in (ResnetGenerator(input_nc=3, ngf=4, n_blocks=1, spatial_dims=dims, upsample=mode),
                UnetGenerator(input_nc=3, num_downs=5, ngf=4, spatial_dims=dims, upsample=mode)):
        y = net(x)
        assert y.shape == (1, 1, *([32] * dims)) and y.abs().max() <= 1


def test_transposed_stays_the_default_and_a_bad_mode_is_refused() -> None:
    default = set(UnetGenerator(num_downs=5, ngf=4).state_dict())
    assert default == set(UnetGenerator(num_downs=5, ngf=4, upsample="transposed").state_dict())
    assert default != set(UnetGenerator(num_downs=5, ngf=4, upsample="nearest").state_dict())
    with pytest.raises(ValueError, match="upsample must be one of"):
        build_generator("unet_generator", {"num_downs": 5, "upsample": "cubic"})
    card = {**IDENTITY_CARD, "architecture": {"name": "unet_generator", "args": {"num_downs": 5, "upsample": "cubic"}}}
    with pytest.raises(Exception, match="upsample must be one of"):
        parse_card(card, "test card")


def test_a_card_with_a_resize_conv_decoder_round_trips_through_a_package(tmp_path) -> None:
    from GANTranslateLib.model_package import load_package

    arch = {"name": "unet_generator", "args": {"input_nc": 1, "output_nc": 1, "num_downs": 5, "ngf": 4,
                                               "norm": "instance", "upsample": "linear"}}
    package = make_package(tmp_path / "m", architecture=arch)
    loaded = load_package(package.path)
    assert loaded.card.architecture_args["upsample"] == "linear"
    torch.manual_seed(0)
    fresh = build_generator("unet_generator", arch["args"]).eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded.build_network()(x), fresh(x), atol=1e-5)  # make_package seeds 0 too
