"""Multi-query attention as PyTorch runs it: the module mbcalc.torch builds computes what timm's
MultiQueryAttention2d computes with the same weights (its transcription in
tests/helpers/mobilenet_v4_torch.py), key and value heads shared by groups of query heads
compute the per-head textbook attention, and `mbcalc verify` passes on such layers and on
the hybrid MobileNetV4s, the products counted from the real tensors."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from mbcalc import Settings, analyze, build_graph, parse_spec
from mbcalc.spec.zoo import load_shipped

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
network = pytest.importorskip("mbcalc.pytorch.network")
verification = pytest.importorskip("mbcalc.pytorch.verification")


def attention_module(arguments: str, size: tuple[int, int], channels: int) -> Any:
    spec = parse_spec(
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nlayers:\n"
        f"  - attention: {{name: attn, {arguments}}}\n"
    )
    module = network.Network(build_graph(spec)).eval()
    return dict(zip(module.op_names, module.ops, strict=True)), module


def copy_(target: Any, source: Any) -> None:
    """A conv's weight, or a batch norm's weight, bias and running statistics."""
    for name, value in source.state_dict().items():
        target.state_dict()[name].copy_(value)


@pytest.mark.parametrize(("size", "stride"), [((6, 5), 2), ((7, 7), 1), ((9, 4), 3)])
def test_multi_query_attention_is_timms(size: tuple[int, int], stride: int) -> None:
    from tests.helpers.mobilenet_v4_torch import MultiQueryAttention2d

    arguments = f"heads: 4, kv_heads: 1, head_width: 8, kv_stride: {stride}, bias: false"
    ops, module = attention_module(arguments, size, 16)
    reference = MultiQueryAttention2d(16, 4, 8, stride).eval().double()
    module.double()  # in float64 the two orders of the same sums agree to the last bits
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.copy_(torch.randn_like(parameter))
        copy_(ops["attn.query.proj"].conv, reference.query)
        copy_(ops["attn.output.proj"].conv, reference.output)
        for part in ("key", "value"):
            layers = getattr(reference, part)
            copy_(ops[f"attn.{part}.proj"].conv, layers[-1])
            if stride > 1:
                layers[1].running_mean.uniform_(-1, 1)
                layers[1].running_var.uniform_(0.5, 2)
                copy_(ops[f"attn.{part}.down_conv"].conv, layers[0])
                copy_(ops[f"attn.{part}.down_conv"].bn, layers[1])
        x = torch.randn(2, 16, *size, dtype=torch.float64)
        torch.testing.assert_close(module(x), reference(x))


def test_shared_key_heads_serve_their_group_of_query_heads() -> None:
    """6 query heads over 2 key and value heads: query head h attends with kv head h // 3."""
    ops, _ = attention_module("heads: 6, kv_heads: 2, head_width: 4", (3, 3), 8)
    attend = ops["attn.attend"]
    q, k, v = torch.randn(1, 24, 3, 3), torch.randn(1, 8, 3, 3), torch.randn(1, 8, 3, 3)
    with torch.no_grad():
        got = attend(q, k, v)
    for head in range(6):
        kv = head // 3
        qh = q[0, 4 * head : 4 * head + 4].flatten(1).T  # positions x d
        kh, vh = (t[0, 4 * kv : 4 * kv + 4].flatten(1).T for t in (k, v))
        expected = torch.softmax(qh @ kh.T / 2, dim=-1) @ vh
        torch.testing.assert_close(got[0, 4 * head : 4 * head + 4].flatten(1).T, expected)


@pytest.mark.parametrize(
    ("arguments", "size", "alpha"),
    [
        ("heads: 4, kv_heads: 1, head_width: 8, kv_stride: 2, bias: false", (6, 5), "1"),
        ("heads: 4, kv_heads: 2, head_width: 3, kv_stride: [2, 3]", (7, 8), "0.5"),
        ("heads: 3, head_width: 5", (4, 4), "1.5"),
        ("heads: 2, kv_stride: 2", (5, 5), "0.75"),
    ],
)
def test_verify_passes_on_multi_query_layers(
    arguments: str, size: tuple[int, int], alpha: str
) -> None:
    spec = parse_spec(
        f"input: {{size: [{size[0]}, {size[1]}], channels: 3}}\nlayers:\n"
        f"  - pointwise: {{out: 24}}\n  - attention: {{{arguments}}}\n"
    )
    result = verification.verify(build_graph(spec, Settings(alpha=Fraction(alpha))))
    assert result.ok, result.verdict


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenetv4_hybrid_medium", "mobilenetv4_hybrid_large"])
def test_verify_passes_on_the_hybrids(name: str) -> None:
    report = analyze(build_graph(load_shipped(name), Settings(alpha=Fraction(1, 2), res=96)))
    result = verification.verify(report)
    assert result.ok, result.verdict
    total, got = report.total.cost, result.measured()
    assert (got.mult_adds, got.params) == (total.mult_adds, total.params)
