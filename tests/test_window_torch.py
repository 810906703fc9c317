"""Swin's pieces as PyTorch runs them: the space-to-depth in torchvision's `PatchMerging`
order, the window attention against a plain reference written here, and `mbcalc verify` on
networks and shipped specs that use them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import Tensor, nn  # noqa: E402 - after the skip: the whole module needs PyTorch

from mbcalc import build_graph, parse_spec  # noqa: E402

network = pytest.importorskip("mbcalc.pytorch.network")
verification = pytest.importorskip("mbcalc.pytorch.verification")
functional = nn.functional


def patch_merging_gather(x: Tensor) -> Tensor:
    """torchvision's PatchMerging before its norm, on N x H x W x C: an odd side padded by one,
    then x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] concatenated."""
    height, width = x.shape[1:3]
    x = functional.pad(x, (0, 0, 0, width % 2, 0, height % 2))
    parts = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
    gathered: Tensor = torch.cat(parts, dim=-1)
    return gathered


@pytest.mark.parametrize(("height", "width"), [(4, 6), (5, 7), (1, 1), (3, 2)])
def test_space_to_depth_is_torchvisions_patch_merging_gather(height: int, width: int) -> None:
    spec = parse_spec(
        f"input: {{size: [{height}, {width}], channels: 3}}\nlayers:\n  - space_to_depth: {{}}\n"
    )
    module = network.Network(build_graph(spec)).eval()
    x = torch.randn(2, 3, height, width)
    expected = patch_merging_gather(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    torch.testing.assert_close(module(x), expected)


def test_a_space_to_depth_network_verifies() -> None:
    spec = parse_spec(
        "input: {size: [5, 7], channels: 3}\nbatchnorm: false\nlayers:\n"
        "  - space_to_depth: {block: 3}\n  - norm: {kind: layer}\n"
        "  - pointwise: {out: 6, bias: false, act: none}\n"
    )
    result = verification.verify(build_graph(spec))
    assert result.ok, result.verdict
