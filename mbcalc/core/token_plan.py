"""The planner's rules for tokens: a map as a row of tokens, self-attention, the readout.

A row of N tokens of C features is a 1 x N x C map, so that every per-position layer (a 1x1
conv is a per-token linear layer, a layer norm, an activation, a residual add) works on tokens
as written.
"""

from __future__ import annotations

from fractions import Fraction

from mbcalc.core.ir import (
    FLAT,
    GLOBAL,
    KEEP,
    POINTWISE,
    SAME,
    Expand,
    Heads,
    Like,
    Partition,
    SpatialRule,
    StepAdder,
    TokenRow,
)
from mbcalc.core.mqa_plan import is_multi_query, plan_multi_query
from mbcalc.core.window_plan import crop_back, pad_to_windows, position_mlp
from mbcalc.kinds import OpKind
from mbcalc.spec import Attention, Readout, Tokens

_ONE_THIRD = Expand(Fraction(1, 3), "floor")
"""The attention products' output: one of the three (q, k, v) widths of their input."""


def plan_token_layer(
    add: StepAdder, layer: Tokens | Attention | Readout, path: str, tensor: int
) -> int:
    """The steps of a tokens, attention or readout layer on `tensor`; returns its output."""
    if isinstance(layer, Tokens):
        # a learned position embedding is added like a bias, one per token and channel
        row = TokenRow(1 if layer.class_token else 0)
        return add(layer, path, path, OpKind.TOKENS, (tensor,), SAME, row, bias=layer.position)
    if isinstance(layer, Attention):
        if is_multi_query(layer):
            return plan_multi_query(add, layer, path, tensor)
        return _attention(add, layer, path, tensor)
    if layer.take == "mean":
        return add(layer, path, path, OpKind.POOL, (tensor,), SAME, GLOBAL)
    return add(layer, path, path, OpKind.READOUT, (tensor,), SAME, FLAT)


def _attention(add: StepAdder, layer: Attention, path: str, tensor: int) -> int:
    """qkv (a 1x1 conv with bias to three whole-head widths), the products (`groups`: the
    heads; `bias`: a relative position bias table), proj (a 1x1 conv with bias back to the
    input's width), the layer's act after it; Swin's padding, cropping and position-bias MLP
    around them where the layer asks (`mbcalc.core.window_plan`)."""
    qkv = add(
        layer, f"{path}.qkv", path, OpKind.CONV, (pad_to_windows(add, layer, path, tensor),),
        Heads(layer.heads, 3), POINTWISE, act="none", groups=1, bias=layer.bias,
    )  # fmt: skip
    partition, table = attention_partition(layer), layer.position_bias == "relative"
    bias_table = position_mlp(add, layer, path, tensor)  # a continuous bias's, or none
    attend = add(
        layer, f"{path}.attend", path, OpKind.ATTEND, (qkv, *bias_table), _ONE_THIRD,
        partition, act="none", groups=layer.heads, bias=table, shift=layer.shift,
        cosine=layer.cosine,
    )  # fmt: skip
    proj = add(
        layer, f"{path}.proj", path, OpKind.CONV, (attend,), Like(tensor), POINTWISE,
        groups=1, bias=layer.bias,
    )  # fmt: skip
    return crop_back(add, layer, path, proj, tensor)


def attention_partition(layer: Attention) -> SpatialRule:
    """The spatial rule of an attention's products: which positions each query sees."""
    if layer.partition is None:
        return KEEP
    if layer.partition == "patch":
        return Partition("patch", stride=layer.size)
    return Partition(layer.partition, window=layer.size)
