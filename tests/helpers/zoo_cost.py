"""Which shipped specs the costly per-spec PyTorch checks run on in full.

The checks that build a shipped spec as a PyTorch module and run it (`mbcalc verify`'s and the
real FLOPs tools') take seconds per spec and setting at 224x224. A family's deeper or wider
members are built from the layer types and rules of the member checked in full (ResNet-101 and
-152 from ResNet-50's bottlenecks, ResNeXt-101 from ResNeXt-50's grouped ones, VGG 19 from
VGG 16's convs, EfficientNetV2-M and -L from -S's units, DenseNet-169 from DenseNet-121's dense
layers, ConvNeXt-B from ConvNeXt-T's blocks, ShuffleNet V2's other widths from 1.0x's units, the
ViTs from ViT-B/16's encoder layers, MobileNetV4 Conv-M and -L from Conv-S's UIBs, Hybrid-L
from Hybrid-M's UIBs and multi-query attention, MobileViT XS and S from XXS's blocks, the Swins
from Swin-T's or Swin-V2-T's blocks).
`mbcalc verify` checks them once, at REDUCED (a quarter of the width, 64x64), where every op is
still compared with PyTorch's; the real tools, whose counts depend on the op kinds alone, count
them through the member they are built like. A check's cost grows with the number of ops far
more than with their size, so a smaller resolution alone saves little. Their figures at 224 are
checked without PyTorch (tests/test_zoo_published.py). The per-spec checks of the engines
(a sweep's grid against the one-setting engine, every deployment option, the long table's
rendering) run on the members checked in full too, and the sweep's on the largest network
shipped, whose counts come nearest the int64 bound.
"""

from __future__ import annotations

from fractions import Fraction

from mbcalc import Settings
from mbcalc.core.settings import Request
from mbcalc.spec import Aux, walk_layers
from mbcalc.spec.zoo import load_shipped, shipped_names

_SIZES = ("800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")
_LARGER_REGNETS = [("x", size) for size in _SIZES] + [("y", size) for size in (*_SIZES, "128gf")]

# A family member: the spec checked in full that it is built like.
CHECKED_LIKE = {
    "resnet34": "resnet18",
    "resnet101": "resnet50",
    "resnet152": "resnet50",
    "wide_resnet50_2": "resnet50",
    "wide_resnet101_2": "resnet50",
    "resnext101_32x8d": "resnext50_32x4d",
    "resnext101_64x4d": "resnext50_32x4d",
    "vgg11": "vgg16",
    "vgg13": "vgg16",
    "vgg19": "vgg16",
    "vgg13_bn": "vgg11_bn",
    "vgg16_bn": "vgg11_bn",
    "vgg19_bn": "vgg11_bn",
    "efficientnet_v2_m": "efficientnet_v2_s",
    "efficientnet_v2_l": "efficientnet_v2_s",
    "densenet161": "densenet121",
    "densenet169": "densenet121",
    "densenet201": "densenet121",
    "convnext_small": "convnext_tiny",
    "convnext_base": "convnext_tiny",
    "convnext_large": "convnext_tiny",
    "shufflenet_v2_x0_5": "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5": "shufflenet_v2_x1_0",
    "shufflenet_v2_x2_0": "shufflenet_v2_x1_0",
    **{f"regnet_{kind}_{size}": f"regnet_{kind}_400mf" for kind, size in _LARGER_REGNETS},
    **{f"efficientnet_b{n}": "efficientnet_b0" for n in range(1, 8)},
    **{f"vit_{size}": "vit_b_16" for size in ("b_32", "l_16", "l_32", "h_14")},
    **{f"mobilenetv4_conv_{size}": "mobilenetv4_conv_small" for size in ("medium", "large")},
    "mobilenetv4_hybrid_large": "mobilenetv4_hybrid_medium",
    **{f"mobilevit_{size}": "mobilevit_xxs" for size in ("xs", "s")},
    **{f"swin_{size}": "swin_t" for size in ("s", "b")},
    **{f"swin_v2_{size}": "swin_v2_t" for size in ("s", "b")},
}
LARGEST = "regnet_y_128gf"
"""The shipped spec with the most mult-adds at its own resolution."""
REDUCED = Request(alpha=Fraction(1, 4), res=64)
"""A quarter of the width at 64x64, at the spec's own depth (`defaults:`)."""


def checked_in_full() -> list[str]:
    """The shipped specs the costly checks run on at every setting."""
    return [name for name in shipped_names() if name not in CHECKED_LIKE]


def checked_reduced() -> list[str]:
    """The shipped family members the costly checks run on once, at REDUCED."""
    return [name for name in shipped_names() if name in CHECKED_LIKE]


def at_fitting_size(name: str, setting: Settings) -> Settings:
    """`setting`, at the spec's own input size when the spec has an auxiliary head: the head
    (run in training, on the input it was made for) fits no smaller one (Inception v3's)."""
    layers = walk_layers(load_shipped(name).layers)
    if any(isinstance(layer, Aux) for layer in layers):
        return Settings(alpha=setting.alpha)
    return setting
