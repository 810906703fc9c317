"""Every shipped spec named after a torchvision classifier has torchvision's published figures.

The figures are torchvision 0.28's weights metadata (`tests/data/torchvision_models.json`):
the trainable parameter count, which params plus BN params must equal exactly, and the G
mult-adds at the model's evaluation crop size, printed to three decimals, which the spec's
mult-adds must round to.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from mbcalc import Cost, Settings, analyze, build_graph
from mbcalc.core.settings import Request
from mbcalc.spec.zoo import load_shipped, shipped_names
from tests.helpers.torchvision_figures import PUBLISHED

WITH_FIGURES = [name for name in shipped_names() if name in PUBLISHED]

# The torchvision classifiers the spec language writes exactly, by family.
TORCHVISION_FAMILIES = {
    "resnet": ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
    "resnext": ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"),
    "wide_resnet": ("wide_resnet50_2", "wide_resnet101_2"),
    "vgg": ("vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"),
    "alexnet": ("alexnet",),
    "squeezenet": ("squeezenet1_0", "squeezenet1_1"),
    "googlenet": ("googlenet",),
    "inception": ("inception_v3",),
    "mobilenet": ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"),
    "mnasnet": ("mnasnet1_0",),
    "regnet": (
        "regnet_x_400mf",
        "regnet_x_800mf",
        "regnet_x_1_6gf",
        "regnet_x_3_2gf",
        "regnet_x_8gf",
        "regnet_x_16gf",
        "regnet_x_32gf",
        "regnet_y_400mf",
        "regnet_y_800mf",
        "regnet_y_1_6gf",
        "regnet_y_3_2gf",
        "regnet_y_8gf",
        "regnet_y_16gf",
        "regnet_y_32gf",
        "regnet_y_128gf",
    ),
    "efficientnet": tuple(f"efficientnet_b{n}" for n in range(8)),
    "efficientnet_v2": ("efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"),
    "densenet": ("densenet121", "densenet161", "densenet169", "densenet201"),
    "convnext": ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large"),
    "shufflenet": (
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
    ),
    "vit": ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"),
    "maxvit": ("maxvit_t",),
    "swin": ("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"),
}

# torchvision's other widths of a shipped spec: (the spec, its alpha). MNASNet's _get_depths
# rounds every width but the last conv's 1,280 with make_divisible(c * alpha, 8).
AT_WIDTH = {
    "mnasnet0_5": ("mnasnet1_0", Fraction(1, 2)),
    "mnasnet0_75": ("mnasnet1_0", Fraction(3, 4)),
    "mnasnet1_3": ("mnasnet1_0", Fraction(13, 10)),
}


def millions_half_up(count: int) -> int:
    return (count + 500_000) // 1_000_000


def cost_at(name: str, setting: Settings | Request) -> Cost:
    """The spec's cost at `setting`; a `Request` is completed by the spec's own defaults."""
    spec = load_shipped(name)
    if isinstance(setting, Request):
        setting = setting.settings(spec.defaults)
    return analyze(build_graph(spec, setting)).total.cost


def assert_published(name: str, cost: Cost) -> None:
    published = PUBLISHED[name]
    assert cost.params + cost.bn_params == published.num_params
    assert millions_half_up(cost.mult_adds) == published.gflops * 1000


@pytest.mark.parametrize("family", TORCHVISION_FAMILIES)
def test_each_family_is_shipped_under_torchvisions_names(family: str) -> None:
    assert set(TORCHVISION_FAMILIES[family]) <= set(WITH_FIGURES)


@pytest.mark.parametrize("name", WITH_FIGURES)
def test_params_and_mult_adds_are_torchvisions_at_its_crop_size(name: str) -> None:
    assert_published(name, cost_at(name, Request(res=PUBLISHED[name].eval_size)))


@pytest.mark.parametrize("name", AT_WIDTH)
def test_a_shipped_spec_at_alpha_is_torchvisions_model_of_that_width(name: str) -> None:
    spec, alpha = AT_WIDTH[name]
    assert_published(name, cost_at(spec, Settings(alpha=alpha, res=PUBLISHED[name].eval_size)))


TRANSFORMERS = ("vit_", "swin_", "maxvit_")
"""torchvision's attention-based classifiers."""


def test_every_convolutional_classifier_of_torchvision_ships() -> None:
    convolutional = {name for name in PUBLISHED if not name.startswith(TRANSFORMERS)}
    shipped = set(WITH_FIGURES) | set(AT_WIDTH)
    assert len(convolutional) == 68
    assert convolutional == {name for name in shipped if not name.startswith(TRANSFORMERS)}
