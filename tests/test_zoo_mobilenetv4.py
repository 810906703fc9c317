"""timm's MobileNetV4 (Qin et al. 2024, arXiv:2404.10518) as shipped specs.

The published figures are timm's benchmark table
(https://github.com/huggingface/pytorch-image-models,
results/benchmark-infer-amp-nchw-pt291-cu128-4090.csv):
`param_count` (millions, batch norms included) and `infer_gmacs`, which timm's benchmark.py
counts with fvcore's FlopCountAnalysis (the table's `infer_macts`, activations, only fvcore
gives): the mult-adds and attention products, and also each batch norm's output elements and
each global pool's input, which the paper's convention leaves out. So the spec's fvcore
profile is what rounds to them. Exact counts come from a PyTorch transcription of timm's
builder (`tests/helpers/mobilenet_v4_torch.py`): its parameters, and its mult-adds from
forward hooks on every conv, the classifier and the attention's two matrix products.
"""

from __future__ import annotations

from fractions import Fraction
from types import ModuleType

import pytest

from mbcalc import Report, Settings, analyze, build_graph
from mbcalc.core.graph import OpKind
from mbcalc.core.profiles import PROFILES, count
from mbcalc.spec.zoo import load_shipped

# (spec, alpha, side): (param_count in M, infer_gmacs) in timm's table; alpha 0.5 and 0.35 are
# timm's mobilenetv4_conv_small_050 and _035 (channel_multiplier 0.5 and 0.35)
PUBLISHED = {
    ("mobilenetv4_conv_small", "1", 224): (3.77, 0.19),
    ("mobilenetv4_conv_small", "1", 256): (3.77, 0.25),
    ("mobilenetv4_conv_small", "0.5", 224): (2.24, 0.07),
    ("mobilenetv4_conv_small", "0.35", 224): (1.91, 0.05),
    ("mobilenetv4_conv_medium", "1", 224): (9.72, 0.84),
    ("mobilenetv4_conv_medium", "1", 320): (9.72, 1.71),
    ("mobilenetv4_conv_large", "1", 256): (32.59, 2.86),
    ("mobilenetv4_conv_large", "1", 384): (32.59, 6.43),
    ("mobilenetv4_hybrid_medium", "1", 224): (11.07, 0.98),
    ("mobilenetv4_hybrid_medium", "1", 256): (11.07, 1.29),
    ("mobilenetv4_hybrid_large", "1", 384): (37.76, 7.77),
    ("mobilenetv4_hybrid_large", "1", 448): (37.76, 10.74),
}


def report(name: str, alpha: str = "1", side: int | None = None) -> Report:
    spec = load_shipped(name)
    return analyze(build_graph(spec, Settings(alpha=Fraction(alpha), res=side)))


@pytest.mark.parametrize(("name", "alpha", "side"), PUBLISHED)
def test_params_and_fvcores_count_round_to_timms_table(name: str, alpha: str, side: int) -> None:
    params, gmacs = PUBLISHED[name, alpha, side]
    mine = report(name, alpha, side)
    total = mine.total.cost
    assert round((total.params + total.bn_params) / 1e6, 2) == params
    assert round(count(mine, PROFILES["fvcore"]).operations / 1e9, 2) == gmacs


def test_the_published_gmacs_are_fvcores_not_the_papers() -> None:
    """Conv-M's 0.84: the mult-adds alone round to 0.83; the batch norms make the rest."""
    mine = report("mobilenetv4_conv_medium")
    assert round(mine.total.cost.mult_adds / 1e9, 2) == 0.83
    assert round(count(mine, PROFILES["fvcore"]).operations / 1e9, 2) == 0.84


# -- against the PyTorch transcription of timm's builder --------------------------------------


def reference() -> ModuleType:
    pytest.importorskip("torch")
    import tests.helpers.mobilenet_v4_torch as module

    return module


def assert_agrees(name: str, alpha: str, side: int) -> None:
    """params + BN params are the module's parameters(); mult-adds its hooked convs, Linear and
    attention products, the products apart too."""
    torch_ref = reference()
    counted = torch_ref.count(torch_ref.MobileNetV4(name, float(alpha)), side)
    mine = report(name, alpha, side)
    total = mine.total.cost
    products = sum(row.cost.mult_adds for row in mine.rows if row.op.kind is OpKind.ATTEND)
    assert (total.params + total.bn_params, total.mult_adds, products) == (
        counted.params,
        counted.mult_adds,
        counted.products,
    )


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("mobilenetv4_conv_small", 224),
        ("mobilenetv4_conv_medium", 224),
        ("mobilenetv4_hybrid_medium", 224),
    ],
)
def test_exact_at_alpha_1(name: str, side: int) -> None:
    assert_agrees(name, "1", side)


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "side"), [("mobilenetv4_conv_large", 256), ("mobilenetv4_hybrid_large", 384)]
)
def test_the_large_ones_exact_at_their_eval_sizes(name: str, side: int) -> None:
    assert_agrees(name, "1", side)


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "alpha", "side"),
    [
        ("mobilenetv4_conv_small", "0.5", 96),
        ("mobilenetv4_conv_small", "0.35", 224),
        ("mobilenetv4_conv_medium", "0.75", 192),
        ("mobilenetv4_conv_large", "1.25", 160),
        ("mobilenetv4_hybrid_medium", "0.5", 96),
        ("mobilenetv4_hybrid_medium", "1.5", 130),
        ("mobilenetv4_hybrid_large", "0.75", 128),
    ],
)
def test_exact_at_other_widths(name: str, alpha: str, side: int) -> None:
    """alpha is timm's channel_multiplier: outs made divisible by 8, the stem fixed below 1,
    attention's heads and head widths kept."""
    assert_agrees(name, alpha, side)
