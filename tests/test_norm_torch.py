"""Norms and layer scales as `mbcalc.torch` builds them, against PyTorch's own functions and
against torchvision's DenseNet and ConvNeXt units rebuilt here from torchvision's source
(torchvision/models/densenet.py `_DenseLayer`, convnext.py `CNBlock`)."""

from __future__ import annotations

from fractions import Fraction

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import Tensor, nn  # noqa: E402 - after the skip: the whole module needs PyTorch

from mbcalc import Settings, analyze, build_graph, parse_spec  # noqa: E402
from mbcalc.pytorch import Network, verify  # noqa: E402
from mbcalc.pytorch.norm_modules import Permute  # noqa: E402 - torchvision.ops.misc.Permute
from tests.helpers.norms import EVERY_NORM  # noqa: E402


@pytest.mark.parametrize("setting", [Settings(), Settings(Fraction(1, 2), res=20)])
def test_every_norm_verifies(setting: Settings) -> None:
    verification = verify(build_graph(parse_spec(EVERY_NORM), setting))
    assert verification.ok, verification.verdict


def single_op(layer: str, channels: int) -> nn.Module:
    spec = parse_spec(f"input: {{size: 5, channels: {channels}}}\nlayers:\n  - {layer}\n")
    return Network(build_graph(spec)).eval()


def test_layer_norm_normalizes_the_channels_at_each_position() -> None:
    x = torch.randn(2, 6, 5, 5)
    expected = nn.functional.layer_norm(x.permute(0, 2, 3, 1), (6,)).permute(0, 3, 1, 2)
    assert torch.allclose(single_op("norm: {kind: layer}", 6)(x), expected, atol=1e-6)


def test_group_norm_is_pytorchs() -> None:
    x = torch.randn(2, 6, 5, 5)
    expected = nn.functional.group_norm(x, 3)
    assert torch.allclose(single_op("norm: {kind: group, groups: 3}", 6)(x), expected, atol=1e-6)


def test_a_layer_scale_multiplies_each_channel_by_its_factor() -> None:
    module = single_op("layer_scale: {}", 4)
    (factor,) = module.parameters()
    assert factor.shape == (4, 1, 1)
    with torch.no_grad():
        factor.copy_(torch.arange(4.0).reshape(4, 1, 1))
    x = torch.randn(1, 4, 5, 5)
    assert torch.equal(module(x), x * torch.arange(4.0).reshape(1, 4, 1, 1))


def torch_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_a_dense_layer_has_torchvisions_params_and_grows_by_the_growth_rate() -> None:
    """torchvision's _DenseLayer(num_input_features=64, growth_rate=32, bn_size=4)."""
    dense_layer = nn.Sequential(
        nn.BatchNorm2d(64), nn.ReLU(), nn.Conv2d(64, 128, 1, bias=False),
        nn.BatchNorm2d(128), nn.ReLU(), nn.Conv2d(128, 32, 3, padding=1, bias=False),
    )  # fmt: skip
    spec = parse_spec("""
input: {size: 8, channels: 64}
batchnorm: false
layers:
  - parallel:
      branches:
        - []
        - - norm: {act: relu}
          - conv: {out: 128, kernel: 1, bn: true}
          - conv: {out: 32, kernel: 3, padding: 1, act: none}
""")
    report = analyze(build_graph(spec))
    assert report.total.cost.params + report.total.cost.bn_params == torch_params(dense_layer)
    assert report.graph.output_shape == (8, 8, 64 + 32)


class CNBlock(nn.Module):
    """torchvision's CNBlock(dim, layer_scale=1e-6, stochastic_depth_prob=0) at inference."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute(0, 2, 3, 1),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            Permute(0, 3, 1, 2),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x: Tensor) -> Tensor:
        result: Tensor = self.layer_scale * self.block(x) + x
        return result


def test_a_convnext_block_has_torchvisions_params_and_mult_adds() -> None:
    dim, size = 24, 7
    spec = parse_spec(f"""
input: {{size: {size}, channels: {dim}}}
batchnorm: false
layers:
  - block:
      residual: true
      layers:
        - depthwise: {{kernel: 7, padding: 3, bias: true, act: none}}
        - norm: {{kind: layer}}
        - pointwise: {{out: {4 * dim}, bias: true, act: gelu}}
        - pointwise: {{out: {dim}, bias: true, act: none}}
        - layer_scale: {{}}
""")
    report = analyze(build_graph(spec))
    block = CNBlock(dim)
    assert report.total.cost.params == torch_params(block)
    assert report.total.cost.bn_params == 0
    # the depthwise conv, then the two Linear layers on every position
    assert report.total.cost.mult_adds == size * size * (7 * 7 * dim + 2 * dim * 4 * dim)
    x = torch.randn(1, dim, size, size)
    assert block(x).shape == Network(report.graph)(x).shape
