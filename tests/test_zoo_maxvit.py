"""torchvision's MaxViT-T as a shipped spec, against its modules' formulas.

MaxViT-T (Tu et al. 2022, arXiv:2204.01697, as torchvision/models/maxvit.py builds it:
stem 64, stages of 2, 2, 5, 2 layers at 64, 128, 256, 512 channels, heads of 32 channels,
7 x 7 partitions): every figure is recomputed here from the modules' textbook formulas.

What torchvision's 5.558 GFLOPS counts. Its weights metadata (`_ops`) was measured by the
script of pytorch/vision pull request 6936, a `TorchDispatchMode` counter after Chillee's (the
one `torch.utils.flop_counter` grew from), which counts the aten convolutions and matrix
products in mult-adds. In MaxViT every Linear runs as a matrix product and both `einsum`s of
RelativePositionalMultiHeadAttention as batched ones, so the figure is the convs', the
Linears' and the attention products' mult-adds, 2 * Nq * K * D per attention layer (Nq
positions, K = 7 * 7 keys per query, D channels): summed by hand below, 5,558,046,720 -> 5.558.
Without the products (5,381,025,792 -> 5.381) it is not, and nothing else is in it: the
relative position bias's addition, the scaling of k by C^-0.5, the softmax, the layer and
batch norms, the pools, the squeeze-excitation's scaling and the residual adds are not
mult-adds of a convolution or a matrix product.

What the spec language could not write before partitioned attention (issue 13: "MaxViT-T
misses 177 M mult-adds and 28,392 params"): the attention products within 7 x 7 partitions,
2 * Nq * 49 * D over the 22 attention layers, 177,020,928 mult-adds (global attention, all it
had, lets each query see the whole map: 3,136 keys in the first stage instead of 49), and the
relative position bias tables, (2 * 7 - 1)^2 params per head in each attention layer (169 * 168
heads in all = 28,392).
"""

from __future__ import annotations

import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import load_shipped

STAGES = ((64, 2), (128, 2), (256, 5), (512, 2))  # channels, layers: torchvision's maxvit_t
HEAD_DIM, WINDOW, STEM, CLASSES = 32, 7, 64, 1000


def halved(side: int) -> int:
    """A 3x3 stride-2 conv's (or pool's) output side with padding 1 (torchvision's
    _get_conv_output_shape)."""
    return (side + 2 - 3) // 2 + 1


def mbconv_by_formula(c_in: int, c: int, side_in: int, side: int) -> tuple[int, int, int]:
    """(mult-adds, params, BN params) of MaxViT's MBConv from c_in to c channels, its input
    side_in x side_in, its output side x side: the projection shortcut (avg pool, 1x1 conv
    with bias) where the side halves, pre-norm BN, 1x1 to 4c + BN, depthwise 3x3 + BN,
    squeeze-excitation to c / 4 (both fcs with bias), 1x1 back to c with bias."""
    mid, squeeze = 4 * c, c // 4
    n_in, n = side_in * side_in, side * side
    proj = (n * c_in * c, c_in * c + c) if side != side_in else (0, 0)
    mult_adds = proj[0] + n_in * c_in * mid + n * 9 * mid + 2 * mid * squeeze + n * mid * c
    params = proj[1] + c_in * mid + 9 * mid + 2 * mid * squeeze + squeeze + mid + mid * c + c
    return mult_adds, params, 2 * c_in + 2 * mid + 2 * mid


def partition_attention_by_formula(c: int, side: int) -> tuple[int, int, int]:
    """(mult-adds without the products, the products, params) of one PartitionAttentionLayer
    on a side x side map of c channels (side a multiple of the window, as torchvision needs):
    layer norm, to_qkv (Linear c -> 3c), the products, merge (Linear c -> c), the relative
    position bias table ((2 * 7 - 1)^2 x heads); layer norm, MLP (Linear c -> 4c, GELU,
    Linear 4c -> c)."""
    n, heads = side * side, c // HEAD_DIM
    linears = n * c * 3 * c + n * c * c + 2 * n * c * 4 * c
    products = 2 * n * WINDOW * WINDOW * c
    table = (2 * WINDOW - 1) ** 2 * heads
    params = 2 * c + 3 * c * c + 3 * c + c * c + c + table + 2 * c + 8 * c * c + 4 * c + c
    return linears, products, params


def maxvit_by_formula(side: int) -> tuple[int, int, int, int]:
    """(mult-adds with the products, the products, params, BN params) of torchvision's
    maxvit_t at side x side."""
    side = halved(side)
    mult_adds = side * side * 27 * STEM + side * side * 9 * STEM * STEM
    params, bn_params, products = 27 * STEM + 9 * STEM * STEM + STEM, 2 * STEM, 0
    c_in = STEM
    for c, layers in STAGES:
        for index in range(layers):
            side_in, side = side, halved(side) if index == 0 else side
            conv = mbconv_by_formula(c_in, c, side_in, side)
            c_in = c
            linears, attended, attention_params = partition_attention_by_formula(c, side)
            mult_adds += conv[0] + 2 * (linears + attended)
            products += 2 * attended
            params += conv[1] + 2 * attention_params
            bn_params += conv[2]
    last = STAGES[-1][0]
    mult_adds += last * last + last * CLASSES  # Linear + Tanh, Linear without bias
    params += 2 * last + last * last + last + last * CLASSES  # layer norm, the two Linears
    return mult_adds, products, params, bn_params


@pytest.mark.parametrize("side", [224, 448])
def test_maxvit_t_spec_is_its_formula(side: int) -> None:
    total = analyze(build_graph(load_shipped("maxvit_t"), Settings(res=side))).total.cost
    mult_adds, _, params, bn_params = maxvit_by_formula(side)
    assert (total.mult_adds, total.params, total.bn_params) == (mult_adds, params, bn_params)


def test_torchvisions_figure_includes_the_products_and_no_norm() -> None:
    report = analyze(build_graph(load_shipped("maxvit_t"), Settings(res=224)))
    attends = [row.cost for row in report.rows if row.op.kind is OpKind.ATTEND]
    mult_adds, products, params, bn_params = maxvit_by_formula(224)
    assert sum(cost.mult_adds for cost in attends) == products
    # torchvision's MaxVit_T_Weights.IMAGENET1K_V1: num_params 30,919,624, 5.558 GFLOPS
    assert params + bn_params == 30_919_624
    assert round(mult_adds / 1e9, 3) == 5.558
    assert round((mult_adds - products) / 1e9, 3) != 5.558


def test_what_the_language_without_partitions_missed() -> None:
    report = analyze(build_graph(load_shipped("maxvit_t"), Settings(res=224)))
    attends = [row.cost for row in report.rows if row.op.kind is OpKind.ATTEND]
    heads = sum(2 * layers * (c // HEAD_DIM) for c, layers in STAGES)
    assert (len(attends), heads) == (22, 168)
    assert round(sum(cost.mult_adds for cost in attends) / 1e6) == 177  # the 177 M
    assert sum(cost.params for cost in attends) == 13 * 13 * heads == 28_392  # the issue's
