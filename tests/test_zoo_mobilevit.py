"""timm's MobileViT XXS, XS and S as shipped specs: timm's published figures, the modules'
formulas and a PyTorch reference.

Published figures: timm's benchmark tables (https://github.com/huggingface/pytorch-image-models,
results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv and the other pt113, pt240 and pt291
tables, all alike), at 256x256: `param_count` in M (every parameter, BN's included) and
`infer_gmacs`, which timm's benchmark.py measures with fvcore's `FlopCountAnalysis`
(`profile_fvcore`; the tables' `infer_macts`, fvcore's activation count, is filled): the convs
and Linears, the attention products (`aten::matmul`), batch norms at 2 per element, layer norms
at 5 and the global pool at 1, which is mbcalc's fvcore profile. The paper convention's
mult-adds (no norms) fall short of the published figure. The pt210 tables print 0.34, 0.93 and
1.86 GMACs: timm's attention then ran `F.scaled_dot_product_attention`, which fvcore does not
count, so those are the same count without the attention products.

The PyTorch reference (`tests/helpers/mobilevit_torch.py`, a transcription of timm's modules)
must agree with mbcalc exactly: params from `parameters()`, mult-adds from forward hooks on
every Conv2d and Linear and on both attention products (from the real tensors).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.core.profiles import PROFILES, count
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import family_of, load_shipped

# timm's benchmark tables: param_count (M), infer_gmacs (G) with and without the products
PUBLISHED = {
    "mobilevit_xxs": ("1.27", "0.42", "0.34"),
    "mobilevit_xs": ("2.32", "1.05", "0.93"),
    "mobilevit_s": ("5.58", "2.03", "1.86"),
}

# mobilevit.py model_cfgs: per MobileViT block (stages 2, 3, 4) the transformer width, depth
TRANSFORMERS = {
    "mobilevit_xxs": ((64, 2), (80, 4), (96, 3)),
    "mobilevit_xs": ((96, 2), (120, 4), (144, 3)),
    "mobilevit_s": ((144, 2), (192, 4), (240, 3)),
}


def products_by_formula(name: str, side: int) -> int:
    """The attention products at side x side: stage i's map is (side / 2^(i+2)) square, cut
    into p*p = 4 sequences of N / 4 tokens, each attending within itself: per layer
    2 * 4 * (N / 4)^2 * D (QK^T and the weighted sum of V)."""
    total = 0
    for stage, (width, depth) in enumerate(TRANSFORMERS[name], start=3):
        positions = (side >> stage) ** 2
        total += depth * 2 * 4 * (positions // 4) ** 2 * width
    return total


def two_decimals(count: int, unit: int) -> str:
    """`count / unit` as timm's tables print it: round(x, 2)."""
    return f"{round(count / unit, 2):.2f}"


@pytest.mark.parametrize("name", PUBLISHED)
def test_params_are_timms(name: str) -> None:
    total = analyze(build_graph(load_shipped(name), Settings(res=256))).total.cost
    assert two_decimals(total.params + total.bn_params, 10**6) == PUBLISHED[name][0]


@pytest.mark.parametrize("name", PUBLISHED)
def test_timms_gmacs_are_fvcores_count_with_the_attention_products(name: str) -> None:
    report = analyze(build_graph(load_shipped(name), Settings(res=256)))
    products = sum(row.cost.mult_adds for row in report.rows if row.op.kind is OpKind.ATTEND)
    assert products == products_by_formula(name, 256)
    fvcore = count(report, PROFILES["fvcore"]).operations
    _, with_products, without = PUBLISHED[name]
    assert two_decimals(fvcore, 10**9) == with_products
    assert two_decimals(fvcore - products, 10**9) == without
    # the paper's convention leaves the norms out, and misses timm's figure
    assert two_decimals(report.total.cost.mult_adds, 10**9) != with_products


def test_mobilevit_is_a_family() -> None:
    assert {family_of(name) for name in PUBLISHED} == {"MobileViT"}


SETTINGS = [  # (spec, alpha, resolution): 160 and 96 leave maps of odd sides (5, 3)
    ("mobilevit_xxs", Fraction(1), 256),
    ("mobilevit_xxs", Fraction(1, 2), 256),
    ("mobilevit_xxs", Fraction(1, 2), 128),
    ("mobilevit_xxs", Fraction(1), 160),
    ("mobilevit_xs", Fraction(1), 256),
    ("mobilevit_s", Fraction(1), 256),
    ("mobilevit_s", Fraction(3, 4), 96),
]


@pytest.mark.torch
def test_fvcore_on_the_pytorch_reference_counts_what_the_fvcore_profile_counts() -> None:
    pytest.importorskip("torch")
    fvcore = pytest.importorskip("fvcore.nn")
    import torch

    from tests.helpers.mobilevit_torch import MobileViT

    analysis = fvcore.FlopCountAnalysis(
        MobileViT("mobilevit_xxs").eval(), torch.zeros(1, 3, 256, 256)
    )
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    report = analyze(build_graph(load_shipped("mobilevit_xxs"), Settings(res=256)))
    assert analysis.total() == count(report, PROFILES["fvcore"]).operations


@pytest.mark.torch
@pytest.mark.parametrize(("name", "alpha", "side"), SETTINGS)
def test_the_pytorch_reference_agrees_exactly(name: str, alpha: Fraction, side: int) -> None:
    pytest.importorskip("torch")
    from tests.helpers.mobilevit_torch import MobileViT
    from tests.helpers.mobilevit_torch import count as count_torch

    reference = count_torch(MobileViT(name, alpha), side)
    report = analyze(build_graph(load_shipped(name), Settings(alpha=alpha, res=side)))
    total = report.total.cost
    products = sum(row.cost.mult_adds for row in report.rows if row.op.kind is OpKind.ATTEND)
    assert (total.params + total.bn_params, total.mult_adds, products) == (
        reference.params,
        reference.mult_adds,
        reference.products,
    )
