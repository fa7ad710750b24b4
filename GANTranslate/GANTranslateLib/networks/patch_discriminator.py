"""PatchGAN discriminator (Isola et al. 2017): classifies overlapping patches as real or fake.

Parameter names match pytorch-CycleGAN-and-pix2pix's ``NLayerDiscriminator``. With ``num_domains`` > 0 a
second head classifies the domain of the image, as the unified multi-domain GAN (StarGAN, Dai et al.
2020) needs; the head pools the shared trunk's features.
"""
from __future__ import annotations

from torch import Tensor, nn

from .layers import check_spatial_dims, conv, norm_factory, uses_bias


class NLayerDiscriminator(nn.Module):
    def __init__(
        self,
        input_nc: int = 2,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        spatial_dims: int = 2,
        num_domains: int = 0,
    ) -> None:
        super().__init__()
        check_spatial_dims(spatial_dims)
        Conv, Norm = conv(spatial_dims), norm_factory(norm, spatial_dims)
        bias = uses_bias(norm)
        layers: list[nn.Module] = [Conv(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                Conv(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                Norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        self.num_domains = num_domains
        if num_domains:
            self.trunk = nn.Sequential(*layers)
            self.adv_head = Conv(ndf * mult, 1, 4, stride=1, padding=1)
            self.cls_head = Conv(ndf * mult, num_domains, 1)
        else:
            self.model = nn.Sequential(*layers, Conv(ndf * mult, 1, 4, stride=1, padding=1))

    def forward(self, x: Tensor) -> Tensor:
        """Patch realism logits (N, 1, …)."""
        if self.num_domains:
            return self.adv_head(self.trunk(x))
        return self.model(x)

    def forward_with_domain(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Patch realism logits and domain logits (N, num_domains), sharing one pass through the trunk."""
        if not self.num_domains:
            raise RuntimeError("this discriminator has no domain head (num_domains=0)")
        features = self.trunk(x)
        domain_logits = self.cls_head(features).flatten(2).mean(-1)
        return self.adv_head(features), domain_logits
