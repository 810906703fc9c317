"""Swin's pieces as PyTorch runs them: the space-to-depth in torchvision's `PatchMerging`
order, the window attention against a plain reference written here, and `mbcalc verify` on
networks and shipped specs that use them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import Tensor, nn  # noqa: E402 - after the skip: the whole module needs PyTorch

from mbcalc import Settings, build_graph, parse_spec  # noqa: E402
from mbcalc.spec.zoo import load_shipped  # noqa: E402

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


@dataclass(frozen=True)
class WindowWeights:
    """One window attention's weights, read from the module mbcalc.torch builds, and what
    Swin computes with them (torchvision's ShiftedWindowAttention / ...V2)."""

    qkv_weight: Tensor
    qkv_bias: Tensor
    proj_weight: Tensor
    proj_bias: Tensor
    heads: int
    window: int
    table: Tensor | None = None  # V1: (2M-1)^2 x heads
    mlp: tuple[Tensor, Tensor, Tensor] | None = None  # V2: Linear(2, 512) and Linear(512, heads)
    logit_scale: Tensor | None = None  # V2: heads x 1 x 1

    def qkv(self, tokens: Tensor) -> Tensor:
        bias = self.qkv_bias.clone()
        if self.logit_scale is not None:  # V2 holds the k bias at zero
            third = bias.numel() // 3
            bias[third : 2 * third] = 0
        result: Tensor = functional.linear(tokens, self.qkv_weight, bias)
        return result

    def proj(self, tokens: Tensor) -> Tensor:
        result: Tensor = functional.linear(tokens, self.proj_weight, self.proj_bias)
        return result

    def logits(self, q: Tensor, k: Tensor, head: int) -> Tensor:
        if self.logit_scale is None:
            dot: Tensor = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
            return dot
        scale = torch.clamp(self.logit_scale[head, 0, 0], max=math.log(100.0)).exp()
        cosine: Tensor = functional.normalize(q, dim=-1) @ functional.normalize(k, dim=-1).mT
        scaled: Tensor = cosine * scale
        return scaled

    def bias_table(self) -> Tensor:
        """(2M-1) x (2M-1) x heads: the bias of each (row, column) offset, per head."""
        side = 2 * self.window - 1
        if self.table is not None:
            return self.table.view(side, side, self.heads)
        assert self.mlp is not None
        offsets = torch.arange(1 - self.window, self.window, dtype=torch.float32)
        scaled = offsets / (self.window - 1) * 8
        coordinate = torch.sign(scaled) * torch.log2(scaled.abs() + 1) / 3
        pairs = torch.stack(torch.meshgrid(coordinate, coordinate, indexing="ij"), dim=-1)
        first, first_bias, second = self.mlp
        hidden = functional.relu(functional.linear(pairs, first, first_bias))
        table: Tensor = 16 * torch.sigmoid(functional.linear(hidden, second))
        return table


def window_attention_reference(
    x: Tensor, weights: WindowWeights, heads: int, window: int, shift: bool
) -> Tensor:
    """Shifted window attention on N x H x W x C as Swin describes it, one window, head, query
    at a time: the map padded to whole windows, rolled back by window // 2 where `shift` (not
    when one window covers the padded map), each window's tokens attending to each other with
    the position bias (and, where shifted, -100 between tokens from different regions of the
    unrolled map), rolled forward again and cropped."""
    _, height, width, channels = x.shape
    padded_h, padded_w = -(-height // window) * window, -(-width // window) * window
    x = functional.pad(x, (0, 0, 0, padded_w - width, 0, padded_h - height))
    shift_h = window // 2 if shift and window < padded_h else 0
    shift_w = window // 2 if shift and window < padded_w else 0
    x = torch.roll(x, (-shift_h, -shift_w), (1, 2))
    region = regions(padded_h, padded_w, window, shift_h, shift_w)
    bias = weights.bias_table()  # (2M-1) x (2M-1) x heads
    head = channels // heads
    out = torch.zeros_like(x)
    for top in range(0, padded_h, window):
        for left in range(0, padded_w, window):
            cells = [(top + i, left + j) for i in range(window) for j in range(window)]
            tokens = torch.stack([x[:, r, c] for r, c in cells], dim=1)  # N x M*M x C
            q, k, v = weights.qkv(tokens).chunk(3, dim=-1)
            mixed = torch.zeros_like(tokens)
            for h in range(heads):
                part = slice(h * head, (h + 1) * head)
                logits = weights.logits(q[..., part], k[..., part], h)
                for a, (ra, ca) in enumerate(cells):
                    for b, (rb, cb) in enumerate(cells):
                        logits[:, a, b] += bias[ra - rb + window - 1, ca - cb + window - 1, h]
                        if region[ra][ca] != region[rb][cb]:
                            logits[:, a, b] -= 100.0
                mixed[..., part] = logits.softmax(dim=-1) @ v[..., part]
            projected = weights.proj(mixed)
            for t, (r, c) in enumerate(cells):
                out[:, r, c] = projected[:, t]
    rolled: Tensor = torch.roll(out, (shift_h, shift_w), (1, 2))
    return rolled[:, :height, :width]


def regions(height: int, width: int, window: int, shift_h: int, shift_w: int) -> list[list[int]]:
    """Each position's region of the rolled map: positions that were not neighbours before the
    roll lie in different regions (bands [0, H-M), [H-M, H-s), [H-s, H) in each direction)."""

    def band(position: int, size: int, shift: int) -> int:
        if shift == 0:
            return 0
        return 0 if position < size - window else 1 if position < size - shift else 2

    return [
        [3 * band(r, height, shift_h) + band(c, width, shift_w) for c in range(width)]
        for r in range(height)
    ]


def weights_of(module: Any, heads: int, window: int, v2: bool) -> WindowWeights:
    """The weights of a network of one attention layer (pad, qkv, [positions, cpb_mlp.0,
    cpb_mlp.2], attend, proj, crop), as Linear weights."""
    ops = list(module.ops)
    qkv, proj, attend = ops[1].conv, ops[-2].conv, ops[-3]
    extra: dict[str, object] = {"table": attend.table}
    if v2:
        first, second = ops[3].conv, ops[4].conv
        mlp = (first.weight[:, :, 0, 0], first.bias, second.weight[:, :, 0, 0])
        extra = {"mlp": mlp, "logit_scale": attend.logit_scale}
    return WindowWeights(
        qkv.weight[:, :, 0, 0], qkv.bias, proj.weight[:, :, 0, 0], proj.bias, heads, window,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("v2", [False, True], ids=["relative", "continuous-cosine"])
@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize(
    ("size", "window", "heads"), [((6, 6), 3, 2), ((5, 7), 3, 2), ((2, 3), 4, 1), ((8, 4), 4, 3)]
)
def test_window_attention_is_swins_with_the_same_weights(
    v2: bool, shift: bool, size: tuple[int, int], window: int, heads: int
) -> None:
    channels = 6
    bias = "position_bias: continuous, cosine: true" if v2 else "position_bias: relative"
    spec = parse_spec(
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n  - attention: {{heads: {heads}, window: {window}, "
        f"shift: {str(shift).lower()}, padded: true, {bias}}}\n"
    )
    module = network.Network(build_graph(spec)).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn_like(parameter))
        if v2:  # torchvision holds V2's k bias at zero: so does the module here
            module.ops[1].conv.bias[channels : 2 * channels] = 0
        weights = weights_of(module, heads, window, v2)
        x = torch.randn(2, *size, channels)
        expected = window_attention_reference(x, weights, heads, window, shift)
        got = module(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
@pytest.mark.parametrize("res", [64, 96])
def test_swins_verify_at_a_quarter_width(name: str, res: int) -> None:
    # at 96 the stages' maps, 24, 12, 6 and 3, are padded to whole windows, and the last
    # stage's single window is not shifted
    graph = build_graph(load_shipped(name), Settings(alpha=Fraction(1, 4), res=res))
    result = verification.verify(graph)
    assert result.ok, result.verdict
