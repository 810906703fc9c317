"""timm's MobileViT (v1) rebuilt by hand in PyTorch, for tests/test_zoo_mobilevit.py.

timm cannot be imported here (it needs torchvision), so its modules are transcribed from its
source (https://github.com/huggingface/pytorch-image-models): timm/models/mobilevit.py
(`MobileVitBlock`, `_inverted_residual_block`, `_mobilevit_block`, the `mobilevit_*`
`ByoModelCfg`s), timm/models/byobnet.py (`BottleneckBlock` with `bottle_in=True,
linear_out=True`, the `3x3` stem, `create_shortcut` with `downsample=''`, `final_conv`, the
classifier head), timm/models/vision_transformer.py (`Block`, `Attention`), timm/layers/mlp.py
(`Mlp`) and timm/layers/helpers.py (`make_divisible`): the same channel arithmetic, the same
module order. Attention is written with explicit matrix products (`Product`) instead of
`F.scaled_dot_product_attention`, the same computation, so that a hook sees both products.
Only what does not change a count is left out: initialisation, dropout and drop path
(identity at inference).

timm has no width multiplier for MobileViT; `MobileViT(..., alpha=)` scales every width of the
configuration (stem, block outputs, transformer widths, final conv) by `make_divisible(c *
alpha, 8)`, the rule the shipped specs state, and keeps timm's own arithmetic for the rest
(an inverted residual's `make_divisible(in * br)`, the MLP's `int(dim * mlp_ratio)`). This
module imports torch; the tests import it after `pytest.importorskip("torch")`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import Tensor, nn
from torch.nn import functional

from tests.helpers.hook_counts import Counted, count_with_hooks


def make_divisible(v: float, divisor: int = 8) -> int:
    """timm/layers/helpers.py `make_divisible` (min_value = divisor, round_limit = 0.9)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvNormAct(nn.Sequential):
    """timm's `ConvNormAct`: conv without bias (padding `((stride - 1) + (k - 1)) // 2`),
    BatchNorm2d, SiLU unless `act` is False."""

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True
    ) -> None:
        padding = ((stride - 1) + (kernel - 1)) // 2
        conv = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False)
        super().__init__(conv, nn.BatchNorm2d(cout), nn.SiLU() if act else nn.Identity())


class InvertedResidual(nn.Module):
    """byobnet `BottleneckBlock(bottle_in=True, linear_out=True, group_size=1)`: 1x1 to
    make_divisible(in * br), depthwise kxk with the stride, linear 1x1; the input added where
    the shape is kept (`create_shortcut` with `downsample=''` gives no shortcut otherwise)."""

    def __init__(self, cin: int, cout: int, stride: int, br: float) -> None:
        super().__init__()
        mid = make_divisible(cin * br)
        self.shortcut = cin == cout and stride == 1
        self.conv1_1x1 = ConvNormAct(cin, mid, 1)
        self.conv2_kxk = ConvNormAct(mid, mid, 3, stride, groups=mid)
        self.conv3_1x1 = ConvNormAct(mid, cout, 1, act=False)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.conv3_1x1(self.conv2_kxk(self.conv1_1x1(x)))
        return out + x if self.shortcut else out


class Product(nn.Module):
    """a @ b: one of attention's products, a module so that a hook sees its operands."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b


class Attention(nn.Module):
    """vision_transformer `Attention(dim, num_heads, qkv_bias=True)`: qkv and proj Linear
    with bias, softmax(q k^T / sqrt(head_dim)) v per head."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.scores = Product()
        self.weighted = Product()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        batch, tokens, dim = x.shape
        head = dim // self.heads
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, head).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        weights = (self.scores(q * head**-0.5, k.transpose(-2, -1))).softmax(dim=-1)
        out = self.weighted(weights, v).transpose(1, 2).reshape(batch, tokens, dim)
        result: Tensor = self.proj(out)
        return result


class TransformerBlock(nn.Module):
    """vision_transformer `Block`: pre-norm attention and MLP (fc1, SiLU, fc2), each added."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        out: Tensor = x + self.mlp(self.norm2(x))
        return out


def unfold(x: Tensor, p: int) -> Tensor:
    """`MobileVitBlock.forward`'s unfold: [B, C, H, W] -> [B * P, N, C], P = p * p positions
    of a patch, N = (H / p) * (W / p) patches."""
    b, c, h, w = x.shape
    n_h, n_w = h // p, w // p
    x = x.reshape(b * c * n_h, p, n_w, p).transpose(1, 2)
    return x.reshape(b, c, n_h * n_w, p * p).transpose(1, 3).reshape(b * p * p, n_h * n_w, -1)


def fold(x: Tensor, shape: tuple[int, int, int, int], p: int) -> Tensor:
    """`MobileVitBlock.forward`'s fold, the inverse of `unfold` to `shape` [B, C, H, W]."""
    b, c, h, w = shape
    n_h, n_w = h // p, w // p
    x = x.contiguous().view(b, p * p, n_h * n_w, -1)
    x = x.transpose(1, 3).reshape(b * c * n_h, n_w, p, p)
    return x.transpose(1, 2).reshape(b, c, n_h * p, n_w * p)


class MobileVitBlock(nn.Module):
    """mobilevit.py `MobileVitBlock` (kernel 3, num_heads 4, mlp_ratio 2, fusion on): local
    3x3 conv and 1x1 to the transformer width, the map interpolated up to whole patches,
    unfolded, the transformer, a LayerNorm, folded, interpolated back, 1x1 projection, the
    block's input concatenated first, the 3x3 fusion conv."""

    def __init__(self, chs: int, dim: int, depth: int, patch: int = 2) -> None:
        super().__init__()
        self.conv_kxk = ConvNormAct(chs, chs, 3)
        self.conv_1x1 = nn.Conv2d(chs, dim, 1, bias=False)
        self.transformer = nn.Sequential(*(TransformerBlock(dim, 4, 2.0) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.conv_proj = ConvNormAct(dim, chs, 1)
        self.conv_fusion = ConvNormAct(chs + chs, chs, 3)
        self.patch = patch

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.conv_1x1(self.conv_kxk(x))
        p = self.patch
        b, c, h, w = x.shape
        new_h, new_w = math.ceil(h / p) * p, math.ceil(w / p) * p
        interpolate = (new_h, new_w) != (h, w)
        if interpolate:
            x = functional.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False)
        x = fold(self.norm(self.transformer(unfold(x, p))), (b, c, new_h, new_w), p)
        if interpolate:
            x = functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        out: Tensor = self.conv_fusion(torch.cat((shortcut, self.conv_proj(x)), dim=1))
        return out


@dataclass(frozen=True)
class Stage:
    """One of a `ByoModelCfg`'s `blocks`: d inverted residuals to c (the first with stride s),
    then, where `transformer` = (dim, depth), a MobileViT block."""

    d: int
    c: int
    s: int
    transformer: tuple[int, int] | None = None


@dataclass(frozen=True)
class Config:
    stages: tuple[Stage, ...]
    br: float
    num_features: int
    stem_chs: int = 16


CONFIGS = {  # mobilevit.py `model_cfgs`: mobilevit_xxs's blocks take br=2.0, the others 4.0
    "mobilevit_xxs": Config(
        (Stage(1, 16, 1), Stage(3, 24, 2), Stage(1, 48, 2, (64, 2)), Stage(1, 64, 2, (80, 4)),
         Stage(1, 80, 2, (96, 3))),
        2.0, 320,
    ),
    "mobilevit_xs": Config(
        (Stage(1, 32, 1), Stage(3, 48, 2), Stage(1, 64, 2, (96, 2)), Stage(1, 80, 2, (120, 4)),
         Stage(1, 96, 2, (144, 3))),
        4.0, 384,
    ),
    "mobilevit_s": Config(
        (Stage(1, 32, 1), Stage(3, 64, 2), Stage(1, 96, 2, (144, 2)), Stage(1, 128, 2, (192, 4)),
         Stage(1, 160, 2, (240, 3))),
        4.0, 640,
    ),
}  # fmt: skip


class MobileViT(nn.Module):
    """byobnet `ByobNet` on a MobileViT config: stem (3x3 stride 2), stages, final 1x1 conv,
    global average pool and fc to 1000 classes."""

    def __init__(self, name: str, alpha: Fraction = Fraction(1)) -> None:
        super().__init__()
        cfg = CONFIGS[name]

        def width(c: int) -> int:
            return make_divisible(float(c * alpha))

        prev = width(cfg.stem_chs)
        self.stem = ConvNormAct(3, prev, 3, 2)
        stages: list[nn.Module] = []
        for stage in cfg.stages:
            blocks: list[nn.Module] = []
            for i in range(stage.d):
                blocks.append(
                    InvertedResidual(prev, width(stage.c), stage.s if i == 0 else 1, cfg.br)
                )
                prev = width(stage.c)
            if stage.transformer is not None:
                dim, depth = stage.transformer
                blocks.append(MobileVitBlock(prev, width(dim), depth))
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_conv = ConvNormAct(prev, width(cfg.num_features), 1)
        self.global_pool = nn.AdaptiveAvgPool2d(1)  # timm's SelectAdaptivePool2d('avg')
        self.fc = nn.Linear(width(cfg.num_features), 1000)

    def forward(self, x: Tensor) -> Tensor:
        x = self.global_pool(self.final_conv(self.stages(self.stem(x))))
        out: Tensor = self.fc(x.flatten(1))
        return out


def count(model: nn.Module, size: int) -> Counted:
    """`model`'s params and mult-adds on a 1 x 3 x size x size input, by forward hooks."""
    return count_with_hooks(model, size, (Product,))
