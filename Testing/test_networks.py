"""Networks: shapes in 2D and 3D, and parameter names compatible with pytorch-CycleGAN-and-pix2pix."""
import pytest
import torch

from GANTranslateLib.networks import (
    ConditionalGenerator,
    NLayerDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    build_generator,
)


@pytest.mark.parametrize("dims", [2, 3])
def test_generators_keep_shape_and_range(dims: int) -> None:
    x = torch.randn(2, 1, *([32] * dims))
    for net in (ResnetGenerator(ngf=4, n_blocks=2, spatial_dims=dims), UnetGenerator(num_downs=5, ngf=4, spatial_dims=dims)):
        y = net(x)
        assert y.shape == x.shape
        assert y.abs().max() <= 1


@pytest.mark.parametrize("dims", [2, 3])
def test_patch_discriminator_with_domain_head(dims: int) -> None:
    d = NLayerDiscriminator(input_nc=1, ndf=4, n_layers=2, spatial_dims=dims, num_domains=4)
    patches, domains = d.forward_with_domain(torch.randn(3, 1, *([32] * dims)))
    assert patches.shape[:2] == (3, 1) and domains.shape == (3, 4)
    assert torch.equal(d(torch.zeros(1, 1, *([32] * dims))), d.forward_with_domain(torch.zeros(1, 1, *([32] * dims)))[0])


def test_conditional_generator_uses_the_label() -> None:
    torch.manual_seed(0)
    g = build_generator("resnet_generator", {"input_nc": 1 + 3, "ngf": 4, "n_blocks": 1}, num_domains=3)
    assert isinstance(g, ConditionalGenerator)
    x = torch.randn(2, 1, 16, 16)
    a, b = g(x, torch.tensor([0, 0])), g(x, torch.tensor([2, 2]))
    assert a.shape == x.shape and not torch.allclose(a, b)


def test_resnet_9blocks_names_match_the_reference() -> None:
    """Keys of a reference resnet_9blocks / instance-norm generator (e.g. latest_net_G.pth)."""
    keys = set(ResnetGenerator(input_nc=3, output_nc=3, n_blocks=9, norm="instance").state_dict())
    expected = {"model.1.weight", "model.4.weight", "model.7.bias", "model.10.conv_block.1.weight",
                "model.18.conv_block.5.bias", "model.19.weight", "model.22.weight", "model.26.weight", "model.26.bias"}
    assert expected <= keys
    assert len(keys) == 2 * (3 + 9 * 2 + 2 + 1)


def test_unet_256_names_match_the_reference() -> None:
    """Keys of a reference unet_256 / batch-norm generator: nested model.model.<i> blocks."""
    net = UnetGenerator(input_nc=3, output_nc=3, num_downs=8, norm="batch")
    keys = set(net.state_dict())
    assert {"model.model.0.weight", "model.model.1.model.2.running_mean", "model.model.3.weight", "model.model.3.bias"} <= keys
    innermost = "model.model.1" + ".model.3" * 6 + ".model.1.weight"  # the innermost down-convolution
    assert innermost in keys
    assert "model.model.0.bias" not in keys  # batch norm follows: no bias, as in the reference


def test_bad_architecture_arguments_are_reported() -> None:
    with pytest.raises(ValueError, match="bad arguments"):
        build_generator("unet_generator", {"num_layers": 3})
    with pytest.raises(ValueError, match="unknown architecture"):
        build_generator("vit", {})


def test_card_architecture_names_match_the_network_registry() -> None:
    from GANTranslateLib.model_card import KNOWN_ARCHITECTURES
    from GANTranslateLib.networks import GENERATORS

    assert set(KNOWN_ARCHITECTURES) == set(GENERATORS)


def test_listing_models_does_not_import_torch(tmp_path) -> None:
    import subprocess
    import sys

    code = ("import sys, GANTranslateLib.model_registry as r; r.list_packages(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
