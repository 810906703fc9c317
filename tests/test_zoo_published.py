"""Every shipped spec named after a torchvision classifier has torchvision's published figures.

The figures are torchvision 0.28's weights metadata (`tests/data/torchvision_models.json`):
the trainable parameter count, which params plus BN params must equal exactly, and the G
mult-adds at the model's evaluation crop size, printed to three decimals, which the spec's
mult-adds must round to.
"""

from __future__ import annotations

import pytest

from mbcalc import Settings, analyze, build_graph
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
    "mobilenet": ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"),
    "efficientnet": ("efficientnet_b0",),
}


def millions_half_up(count: int) -> int:
    return (count + 500_000) // 1_000_000


@pytest.mark.parametrize("family", TORCHVISION_FAMILIES)
def test_each_family_is_shipped_under_torchvisions_names(family: str) -> None:
    assert set(TORCHVISION_FAMILIES[family]) <= set(WITH_FIGURES)


@pytest.mark.parametrize("name", WITH_FIGURES)
def test_params_and_mult_adds_are_torchvisions_at_its_crop_size(name: str) -> None:
    published = PUBLISHED[name]
    setting = Settings(res=published.eval_size)
    cost = analyze(build_graph(load_shipped(name), setting)).total.cost
    assert cost.params + cost.bn_params == published.num_params
    assert millions_half_up(cost.mult_adds) == published.gflops * 1000
