"""Attention over patches and the resized block as PyTorch runs them: the modules mbcalc.torch
builds compute what timm's MobileViT computes (its unfold into patches, its `Attention`, its
bilinear interpolation, with the same weights), and `mbcalc verify` passes on them, the
shipped MobileViT specs included."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mbcalc import Settings, analyze, build_graph, parse_spec
from mbcalc.spec.zoo import load_shipped

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
network = pytest.importorskip("mbcalc.pytorch.network")
verification = pytest.importorskip("mbcalc.pytorch.verification")
reference = pytest.importorskip("tests.helpers.mobilevit_torch")


def spec_text(body: str, size: tuple[int, int], channels: int) -> str:
    return (
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n{body}"
    )


@pytest.mark.parametrize(
    ("size", "width", "heads"), [((4, 6), 8, 2), ((2, 2), 4, 1), ((6, 4), 12, 3)]
)
def test_patch_attention_is_mobilevits_unfolded_attention(
    size: tuple[int, int], width: int, heads: int
) -> None:
    spec = parse_spec(spec_text(f"  - attention: {{heads: {heads}, patch: 2}}\n", size, width))
    module = network.Network(build_graph(spec)).eval()
    attention = reference.Attention(width, heads).eval()
    qkv, proj = module.ops[0].conv, module.ops[2].conv
    with torch.no_grad():
        qkv.weight.copy_(attention.qkv.weight[:, :, None, None])
        qkv.bias.copy_(attention.qkv.bias)
        proj.weight.copy_(attention.proj.weight[:, :, None, None])
        proj.bias.copy_(attention.proj.bias)
        x = torch.randn(2, width, *size)
        expected = reference.fold(attention(reference.unfold(x, 2)), tuple(x.shape), 2)
        torch.testing.assert_close(module(x), expected)


RESIZED = """\
  - block:
      multiple: 2
      layers:
        - pointwise: {out: 4, act: none}
"""


@pytest.mark.parametrize("size", [(5, 7), (4, 6), (1, 3)])
def test_a_resize_is_timms_bilinear_interpolation(size: tuple[int, int]) -> None:
    module = network.Network(build_graph(parse_spec(spec_text(RESIZED, size, 4)))).eval()
    up = (-(-size[0] // 2) * 2, -(-size[1] // 2) * 2)
    x = torch.randn(1, 4, *size)
    with torch.no_grad():
        resized = module.ops[0](x)
        restored = module.ops[2](resized)
    expected = torch.nn.functional.interpolate(x, size=up, mode="bilinear", align_corners=False)
    torch.testing.assert_close(resized, expected)
    back = torch.nn.functional.interpolate(resized, size=size, mode="bilinear", align_corners=False)
    torch.testing.assert_close(restored, x if up == size else back)
    assert (resized is x) == (up == size)  # nothing runs where the size fits


MOBILEVIT_BLOCK = """\
  - parallel:
      merge: concat
      branches:
        - []
        - - conv: {out: 8, kernel: 3, act: swish}
          - pointwise: {out: 12, bn: false, act: none}
          - block:
              multiple: 2
              layers:
                - block:
                    residual: true
                    layers: [norm: {kind: layer}, attention: {heads: 3, patch: 2}]
                - norm: {kind: layer}
          - pointwise: {out: 8, act: swish}
  - conv: {out: 8, kernel: 3, act: swish}
"""


@pytest.mark.parametrize("size", [(4, 4), (5, 7), (3, 2), (1, 1)])
@pytest.mark.parametrize("alpha", [Fraction(1), Fraction(1, 2), Fraction(3, 2)])
def test_verify_passes_on_a_mobilevit_block(size: tuple[int, int], alpha: Fraction) -> None:
    spec = parse_spec(spec_text(MOBILEVIT_BLOCK, size, 8))
    result = verification.verify(analyze(build_graph(spec, Settings(alpha=alpha))))
    assert result.ok, result.verdict
    total, got = result.report.total.cost, result.measured()
    assert (got.mult_adds, got.params) == (total.mult_adds, total.params)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "alpha", "side"),
    [("mobilevit_xxs", Fraction(1, 2), 128), ("mobilevit_xs", Fraction(1, 4), 80)],
)
def test_verify_passes_on_the_shipped_specs(name: str, alpha: Fraction, side: int) -> None:
    report = analyze(build_graph(load_shipped(name), Settings(alpha=alpha, res=side)))
    result = verification.verify(report)
    assert result.ok, result.verdict
