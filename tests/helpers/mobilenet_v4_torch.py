"""timm's MobileNetV4 rebuilt by hand in PyTorch, for the MobileNetV4 tests.

timm cannot be imported here (it needs torchvision), so its builder is re-implemented from its
source (https://github.com/huggingface/pytorch-image-models): timm/models/mobilenetv3.py
(`_gen_mobilenet_v4`: the arch def strings, verbatim; `MobileNetV3`: stem, blocks, efficient
head with its norm), timm/models/_efficientnet_builder.py (`_decode_block_str`,
`round_channels`, `EfficientNetBuilder`: the first block of a stage takes its stride),
timm/models/_efficientnet_blocks.py (`ConvBnAct`, `EdgeResidual`, `UniversalInvertedResidual`,
`MobileAttention`), timm/layers/attention2d.py (`MultiQueryAttention2d`, its unfused path) and
timm/layers/helpers.py (`make_divisible`). Left out, as they change no count: weight
initialisation, dropout, drop path (identity at inference). The attention products are `MatMul`
modules, so that a forward hook counts them from the real tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from tests.helpers.hook_counts import Counted, count_with_hooks

Activation = Callable[[], nn.Module]

# timm/models/mobilenetv3.py, _gen_mobilenet_v4: (stem_size, activation, arch_def)
ARCH_DEFS: dict[str, tuple[int, Activation, tuple[tuple[str, ...], ...]]] = {
    "mobilenetv4_conv_small": (32, nn.ReLU, (
        ("cn_r1_k3_s2_e1_c32", "cn_r1_k1_s1_e1_c32"),
        ("cn_r1_k3_s2_e1_c96", "cn_r1_k1_s1_e1_c64"),
        ("uir_r1_a5_k5_s2_e3_c96", "uir_r4_a0_k3_s1_e2_c96", "uir_r1_a3_k0_s1_e4_c96"),
        ("uir_r1_a3_k3_s2_e6_c128", "uir_r1_a5_k5_s1_e4_c128", "uir_r1_a0_k5_s1_e4_c128",
         "uir_r1_a0_k5_s1_e3_c128", "uir_r2_a0_k3_s1_e4_c128"),
        ("cn_r1_k1_s1_c960",),
    )),
    "mobilenetv4_conv_medium": (32, nn.ReLU, (
        ("er_r1_k3_s2_e4_c48",),
        ("uir_r1_a3_k5_s2_e4_c80", "uir_r1_a3_k3_s1_e2_c80"),
        ("uir_r1_a3_k5_s2_e6_c160", "uir_r2_a3_k3_s1_e4_c160", "uir_r1_a3_k5_s1_e4_c160",
         "uir_r1_a3_k3_s1_e4_c160", "uir_r1_a3_k0_s1_e4_c160", "uir_r1_a0_k0_s1_e2_c160",
         "uir_r1_a3_k0_s1_e4_c160"),
        ("uir_r1_a5_k5_s2_e6_c256", "uir_r1_a5_k5_s1_e4_c256", "uir_r2_a3_k5_s1_e4_c256",
         "uir_r1_a0_k0_s1_e4_c256", "uir_r1_a3_k0_s1_e4_c256", "uir_r1_a3_k5_s1_e2_c256",
         "uir_r1_a5_k5_s1_e4_c256", "uir_r2_a0_k0_s1_e4_c256", "uir_r1_a5_k0_s1_e2_c256"),
        ("cn_r1_k1_s1_c960",),
    )),
    "mobilenetv4_conv_large": (24, nn.ReLU, (
        ("er_r1_k3_s2_e4_c48",),
        ("uir_r1_a3_k5_s2_e4_c96", "uir_r1_a3_k3_s1_e4_c96"),
        ("uir_r1_a3_k5_s2_e4_c192", "uir_r3_a3_k3_s1_e4_c192", "uir_r1_a3_k5_s1_e4_c192",
         "uir_r5_a5_k3_s1_e4_c192", "uir_r1_a3_k0_s1_e4_c192"),
        ("uir_r4_a5_k5_s2_e4_c512", "uir_r1_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512",
         "uir_r2_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512", "uir_r1_a5_k5_s1_e4_c512",
         "uir_r3_a5_k0_s1_e4_c512"),
        ("cn_r1_k1_s1_c960",),
    )),
    "mobilenetv4_hybrid_medium": (32, nn.ReLU, (
        ("er_r1_k3_s2_e4_c48",),
        ("uir_r1_a3_k5_s2_e4_c80", "uir_r1_a3_k3_s1_e2_c80"),
        ("uir_r1_a3_k5_s2_e6_c160", "uir_r1_a0_k0_s1_e2_c160", "uir_r1_a3_k3_s1_e4_c160",
         "uir_r1_a3_k5_s1_e4_c160", "mqa_r1_k3_h4_s1_v2_d64_c160", "uir_r1_a3_k3_s1_e4_c160",
         "mqa_r1_k3_h4_s1_v2_d64_c160", "uir_r1_a3_k0_s1_e4_c160",
         "mqa_r1_k3_h4_s1_v2_d64_c160", "uir_r1_a3_k3_s1_e4_c160",
         "mqa_r1_k3_h4_s1_v2_d64_c160", "uir_r1_a3_k0_s1_e4_c160"),
        ("uir_r1_a5_k5_s2_e6_c256", "uir_r1_a5_k5_s1_e4_c256", "uir_r2_a3_k5_s1_e4_c256",
         "uir_r1_a0_k0_s1_e2_c256", "uir_r1_a3_k5_s1_e2_c256", "uir_r1_a0_k0_s1_e2_c256",
         "uir_r1_a0_k0_s1_e4_c256", "mqa_r1_k3_h4_s1_d64_c256", "uir_r1_a3_k0_s1_e4_c256",
         "mqa_r1_k3_h4_s1_d64_c256", "uir_r1_a5_k5_s1_e4_c256", "mqa_r1_k3_h4_s1_d64_c256",
         "uir_r1_a5_k0_s1_e4_c256", "mqa_r1_k3_h4_s1_d64_c256", "uir_r1_a5_k0_s1_e4_c256"),
        ("cn_r1_k1_s1_c960",),
    )),
    "mobilenetv4_hybrid_large": (24, nn.GELU, (
        ("er_r1_k3_s2_e4_c48",),
        ("uir_r1_a3_k5_s2_e4_c96", "uir_r1_a3_k3_s1_e4_c96"),
        ("uir_r1_a3_k5_s2_e4_c192", "uir_r3_a3_k3_s1_e4_c192", "uir_r1_a3_k5_s1_e4_c192",
         "uir_r2_a5_k3_s1_e4_c192", "mqa_r1_k3_h8_s1_v2_d48_c192", "uir_r1_a5_k3_s1_e4_c192",
         "mqa_r1_k3_h8_s1_v2_d48_c192", "uir_r1_a5_k3_s1_e4_c192",
         "mqa_r1_k3_h8_s1_v2_d48_c192", "uir_r1_a5_k3_s1_e4_c192",
         "mqa_r1_k3_h8_s1_v2_d48_c192", "uir_r1_a3_k0_s1_e4_c192"),
        ("uir_r4_a5_k5_s2_e4_c512", "uir_r1_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512",
         "uir_r2_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512", "uir_r1_a5_k5_s1_e4_c512",
         "mqa_r1_k3_h8_s1_d64_c512", "uir_r1_a5_k0_s1_e4_c512", "mqa_r1_k3_h8_s1_d64_c512",
         "uir_r1_a5_k0_s1_e4_c512", "mqa_r1_k3_h8_s1_d64_c512", "uir_r1_a5_k0_s1_e4_c512",
         "mqa_r1_k3_h8_s1_d64_c512", "uir_r1_a5_k0_s1_e4_c512"),
        ("cn_r1_k1_s1_c960",),
    )),
}  # fmt: skip


def make_divisible(v: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """timm/layers/helpers.py, in substance (min_value = divisor)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def _conv_norm(
    c_in: int,
    c_out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    act: Activation | None = None,
) -> nn.Sequential:
    """timm's ConvNormAct: conv without bias, padding ((stride - 1) + (kernel - 1)) // 2 (timm's
    `get_padding`), BatchNorm2d, the activation where applied."""
    padding = ((stride - 1) + (kernel - 1)) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class LayerScale2d(nn.Module):
    """timm/layers/layer_scale.py: a learned factor per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), 1e-5))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


class MatMul(nn.Module):
    """`a @ b` as a module, so that a forward hook sees the product's operands."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b


class _Block(nn.Module):
    """`body`, then the layer scale (the hybrids'), plus the input where `has_skip`."""

    def __init__(self, body: nn.Module, c_out: int, has_skip: bool, layer_scale: bool) -> None:
        super().__init__()
        self.body = body
        self.layer_scale: nn.Module = LayerScale2d(c_out) if layer_scale else nn.Identity()
        self.has_skip = has_skip

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layer_scale(self.body(x))
        return out + x if self.has_skip else out


def universal_inverted_residual(
    c_in: int, c_out: int, start: int, mid: int, stride: int, expand: float, act: Activation
) -> nn.Sequential:
    """UniversalInvertedResidual's body: dw_start (no act; the stride when there is no dw_mid),
    pw_exp to make_divisible(c_in * expand), dw_mid with the stride, pw_proj (no act)."""
    mid_chs = make_divisible(c_in * expand)
    layers: list[nn.Module] = []
    if start:
        layers.append(_conv_norm(c_in, c_in, start, 1 if mid else stride, groups=c_in))
    layers.append(_conv_norm(c_in, mid_chs, 1, act=act))
    if mid:
        layers.append(_conv_norm(mid_chs, mid_chs, mid, stride, groups=mid_chs, act=act))
    layers.append(_conv_norm(mid_chs, c_out, 1))
    return nn.Sequential(*layers)


class MultiQueryAttention2d(nn.Module):
    """timm/layers/attention2d.py with kv_stride, without query strides, unfused: q from the
    map, k and v each from their own depthwise stride-s conv + BN of it, one head of width
    `key_dim` shared by the `heads` query heads; 1x1 convs without bias."""

    def __init__(self, dim: int, heads: int, key_dim: int, kv_stride: int) -> None:
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.query = nn.Conv2d(dim, heads * key_dim, 1, bias=False)
        self.key = self._kv(dim, key_dim, kv_stride)
        self.value = self._kv(dim, key_dim, kv_stride)
        self.scores = MatMul()
        self.weighted = MatMul()
        self.output = nn.Conv2d(heads * key_dim, dim, 1, bias=False)

    @staticmethod
    def _kv(dim: int, key_dim: int, kv_stride: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        if kv_stride > 1:
            layers += [
                nn.Conv2d(dim, dim, 3, kv_stride, 1, groups=dim, bias=False),
                nn.BatchNorm2d(dim),
            ]
        layers.append(nn.Conv2d(dim, key_dim, 1, bias=False))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        q = self.query(x).reshape(b, self.heads, self.key_dim, -1).transpose(-1, -2)
        k = self.key(x).flatten(2).transpose(1, 2).unsqueeze(1)  # b, 1, M, key_dim
        v = self.value(x).flatten(2).transpose(1, 2).unsqueeze(1)
        attn = self.scores(q * self.key_dim**-0.5, k.transpose(-1, -2)).softmax(dim=-1)
        o = self.weighted(attn, v)  # b, heads, N, key_dim
        o = o.transpose(1, 2).reshape(b, h, w, -1).permute(0, 3, 1, 2)
        out: Tensor = self.output(o)
        return out


def mobile_attention(c: int, heads: int, key_dim: int, kv_stride: int) -> nn.Sequential:
    """MobileAttention's body: its BatchNorm2d (no act), then the multi-query attention."""
    return nn.Sequential(nn.BatchNorm2d(c), MultiQueryAttention2d(c, heads, key_dim, kv_stride))


def _options(block: str) -> tuple[str, int, dict[str, int]]:
    """timm's `_decode_block_str` for these strings: type, repeats, the numeric options."""
    kind, *rest = block.split("_")
    options = {part[0]: int(part[1:]) for part in rest}
    return kind, options.pop("r"), options


def _block(
    kind: str, o: dict[str, int], c_in: int, c_out: int, stride: int, act: Activation, scale: bool
) -> nn.Module:
    if kind == "cn":  # ConvBnAct: no skip unless asked
        return _conv_norm(c_in, c_out, o["k"], stride, act=act)
    if kind == "er":  # EdgeResidual (FusedIB): kxk conv to make_divisible(c_in * e), 1x1 proj
        mid = make_divisible(c_in * o["e"])
        body = nn.Sequential(
            _conv_norm(c_in, mid, o["k"], stride, act=act), _conv_norm(mid, c_out, 1)
        )
        return _Block(body, c_out, c_in == c_out and stride == 1, False)
    if kind == "uir":
        body = universal_inverted_residual(c_in, c_out, o["a"], o["k"], stride, o["e"], act)
        return _Block(body, c_out, c_in == c_out and stride == 1, scale)
    assert kind == "mqa"
    body = mobile_attention(c_in, o["h"], o["d"], o.get("v", 1))
    return _Block(body, c_out, c_in == c_out and stride == 1, scale)


class MobileNetV4(nn.Module):
    """MobileNetV3 with MobileNetV4's arch def: conv_stem 3x3/2 + bn1 + act, the blocks, global
    average pool, conv_head 1x1 to 1280 (no bias) + norm_head + act, flatten, classifier.

    `multiplier` is timm's channel_multiplier (mobilenetv4_conv_small_050 is 0.5): every
    block's out channels round_channels(c * multiplier) = make_divisible(c * multiplier, 8);
    below 1 the stem is fixed (`fix_stem`); the head's 1280 is never scaled."""

    def __init__(self, variant: str, multiplier: float = 1.0, num_classes: int = 1000) -> None:
        super().__init__()
        stem, act, arch_def = ARCH_DEFS[variant]
        scale = "hybrid" in variant  # layer_scale_init_value 1e-5 in the hybrids only
        c = stem if multiplier < 1.0 else make_divisible(stem * multiplier)
        self.stem = _conv_norm(3, c, 3, 2, act=act)
        blocks: list[nn.Module] = []
        for stage in arch_def:
            first = True
            for block in stage:
                kind, repeats, o = _options(block)
                c_out = make_divisible(o["c"] * multiplier)
                for _ in range(repeats):
                    stride = o["s"] if first else 1
                    blocks.append(_block(kind, o, c, c_out, stride, act, scale))
                    c, first = c_out, False
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = _conv_norm(c, 1280, 1, act=act)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.head(self.pool(self.blocks(self.stem(x))))
        logits: Tensor = self.classifier(x.flatten(1))
        return logits


def count(model: nn.Module, side: int) -> Counted:
    """`model`'s params and mult-adds on a 1 x 3 x side x side input, by forward hooks."""
    return count_with_hooks(model, side, (MatMul,))
