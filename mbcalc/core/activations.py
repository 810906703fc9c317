"""Output activations: the elements of the tensors an op writes, where the count includes it.

Dollár, Singh & Girshick ("Fast and Accurate Model Scaling", CVPR 2021) define a network's
activations as the elements of the outputs of its conv layers, and found them to track GPU
runtime better than FLOPs; timm's `infer_macts` is fvcore's `ActivationCountAnalysis`, which
counts the outputs of convolutions and matrix products (`aten::_convolution`, `addmm`, `bmm`,
`einsum`, `matmul`, `linear`). mbcalc counts the same, per image:

- conv, depthwise (and pointwise): H_out * W_out * C_out; fc: its C_out outputs.
- attend: its two products, the attention matrix heads * Nq * K (each of the Nq queries of
  each head against the K keys it sees, `attention_span`) and the weighted sum of V, Nq * D.
- every other op (pooling, merges, norms, channel scaling, softmax, tokens, resizes, ...): 0.
- an auxiliary head's op (training only): 0.

Like the cost formulas, `activations` takes numbers or numpy arrays (the grid engine).
"""

from __future__ import annotations

from mbcalc.core.arith import Num
from mbcalc.core.costs import Dims, Geometry, attention_span
from mbcalc.core.graph import Op
from mbcalc.kinds import OpKind

_OUTPUT_COUNTED = frozenset({OpKind.CONV, OpKind.DEPTHWISE, OpKind.FC})
"""Op kinds whose whole output is counted (a convolution's or a linear layer's)."""


def activations(geometry: Geometry, d: Dims) -> Num:
    """The output activations of one op of `geometry` and shapes `d` (module docstring)."""
    if geometry.kind in _OUTPUT_COUNTED:
        return d.h_out * d.w_out * d.c_out
    if geometry.kind is OpKind.ATTEND:
        queries, keys = attention_span(geometry, d.h_in, d.w_in)
        heads = geometry.groups or 1
        return heads * queries * keys + queries * d.c_out
    return 0


def op_activations(op: Op) -> int:
    """The output activations of one op of a graph: 0 for an auxiliary head's."""
    if op.aux:
        return 0
    return int(activations(op, Dims(*op.input, *op.output)))
