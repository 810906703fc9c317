"""Tokens and attention as PyTorch runs them: `mbcalc verify` on random token networks, and
the attention mbcalc.torch builds (qkv conv, products, proj conv) computing what PyTorch's
`nn.MultiheadAttention` computes with the same weights, torchvision's ViT's class token and
position embedding included."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbcalc import Settings, Spec, analyze, build_graph, parse_spec
from tests.helpers.attention_networks import ATTENTION_NETWORKS

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
network = pytest.importorskip("mbcalc.pytorch.network")
verification = pytest.importorskip("mbcalc.pytorch.verification")


@pytest.mark.parametrize(("tokens", "width", "heads"), [(5, 8, 2), (7, 12, 3), (1, 4, 4)])
def test_attention_is_pytorchs_multihead_attention(tokens: int, width: int, heads: int) -> None:
    spec = parse_spec(
        f"input: {{size: [1, {tokens}], channels: {width}}}\nlayers:\n"
        f"  - attention: {{heads: {heads}}}\n"
    )
    module = network.Network(build_graph(spec)).eval()
    reference = torch.nn.MultiheadAttention(width, heads, batch_first=True).eval()
    qkv, proj = module.ops[0].conv, module.ops[2].conv
    with torch.no_grad():
        qkv.weight.copy_(reference.in_proj_weight[:, :, None, None])
        qkv.bias.copy_(reference.in_proj_bias)
        proj.weight.copy_(reference.out_proj.weight[:, :, None, None])
        proj.bias.copy_(reference.out_proj.bias)
        x = torch.randn(2, tokens, width)
        expected, _ = reference(x, x, x, need_weights=False)
        got = module(x.transpose(1, 2).unsqueeze(2))  # N x C x 1 x T
    torch.testing.assert_close(got.squeeze(2).transpose(1, 2), expected)


def test_tokens_put_the_class_token_first_and_add_the_positions() -> None:
    spec = parse_spec(
        "input: {size: [2, 3], channels: 4}\nlayers:\n"
        "  - tokens: {class_token: true, position: true}\n  - readout: {take: class}\n"
    )
    module = network.Network(build_graph(spec)).eval()
    tokens = module.ops[0].tokens
    with torch.no_grad():
        tokens.class_token.copy_(torch.arange(4.0).reshape(1, 4, 1))
        tokens.position.copy_(torch.ones(1, 4, 7))
        x = torch.randn(1, 4, 2, 3)
        row = tokens(x)
        # torchvision's ViT: flatten(2) of the patch grid, class token first, positions added
        expected = torch.cat([torch.arange(4.0).reshape(1, 4, 1), x.flatten(2)], dim=2) + 1
        torch.testing.assert_close(row, expected.unsqueeze(2))
        torch.testing.assert_close(module(x).flatten(), torch.arange(4.0) + 1)


@pytest.mark.parametrize("networks", ATTENTION_NETWORKS.values(), ids=ATTENTION_NETWORKS.keys())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_attention_networks_verify_at_any_setting(
    networks: tuple[Callable[[], st.SearchStrategy[Spec]], int], data: st.DataObject
) -> None:
    strategy, largest = networks
    spec = data.draw(strategy())
    alpha = data.draw(st.integers(25, 150).map(lambda n: Fraction(n, 100)))
    res = data.draw(st.integers(1, largest))
    result = verification.verify(analyze(build_graph(spec, Settings(alpha=alpha, res=res))))
    assert result.ok, result.verdict
    total, got = result.report.total.cost, result.measured()
    assert (got.mult_adds, got.params) == (total.mult_adds, total.params)
