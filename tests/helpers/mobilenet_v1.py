"""MobileNet v1 as the paper gives it (Howard et al., arXiv:1704.04861): its layer table and its
costs recomputed from the paper's formulas, the reference the CLI tests check mbcalc against."""

from __future__ import annotations

import math
from fractions import Fraction

# MobileNet v1 1.0-224 under the paper's conventions: the totals its formulas give.
V1_MULT_ADDS = 568_740_352
V1_PARAMS = 4_210_088
V1_BN_PARAMS = 21_888
V1_STANDARD_MULT_ADDS = 4_867_293_184
V1_REDUCTION = 0.11685  # mult-adds / standard mult-adds to 5 decimals; the report carries 6

# MobileNets paper (Howard et al., arXiv:1704.04861), Table 1: a 3x3/2 conv to 32 channels, then
# 13 depthwise-separable units as (stride of the depthwise conv, output channels), a global
# average pool and a 1000-way fully connected layer.
V1_STEM = 32
V1_SEPARABLE = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
)  # fmt: skip
V1_CLASSES = 1000


def v1_reference(alpha: Fraction, height: int, width: int) -> dict[str, int]:
    """MobileNet v1 costs from the paper's formulas (Section 3), 'same' padding, floor(c * alpha).

    Standard conv: Dk*Dk*M*N*Df*Df; depthwise: Dk*Dk*M*Df*Df; pointwise: M*N*Df*Df;
    params are the weights (no biases) plus the fc's weights and biases; BN: 2 per channel.
    """
    channels = math.floor(V1_STEM * alpha)
    height, width = -(-height // 2), -(-width // 2)
    mult_adds = height * width * 9 * 3 * channels
    standard = mult_adds
    params = 9 * 3 * channels
    bn_params = 2 * channels
    for stride, out in V1_SEPARABLE:
        n = math.floor(out * alpha)
        height, width = -(-height // stride), -(-width // stride)
        depthwise, pointwise = height * width * 9 * channels, height * width * channels * n
        mult_adds += depthwise + pointwise
        standard += height * width * 9 * channels * n
        params += 9 * channels + channels * n
        bn_params += 2 * channels + 2 * n
        channels = n
    mult_adds += channels * V1_CLASSES
    standard += channels * V1_CLASSES
    params += channels * V1_CLASSES + V1_CLASSES
    return {
        "mult_adds": mult_adds,
        "params": params,
        "bn_params": bn_params,
        "standard_mult_adds": standard,
    }


def v1_activations_by_op(alpha: Fraction, height: int, width: int) -> list[int]:
    """Each conv's, depthwise conv's and pointwise conv's output elements, then the fc's: the
    activations of Dollár et al. ("Fast and Accurate Model Scaling"), from Table 1's shapes."""
    channels = math.floor(V1_STEM * alpha)
    height, width = -(-height // 2), -(-width // 2)
    counts = [height * width * channels]
    for stride, out in V1_SEPARABLE:
        n = math.floor(out * alpha)
        height, width = -(-height // stride), -(-width // stride)
        counts += [height * width * channels, height * width * n]  # depthwise, pointwise
        channels = n
    return [*counts, V1_CLASSES]
