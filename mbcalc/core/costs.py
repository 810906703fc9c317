"""Exact integer cost formulas, one per primitive op, by the paper's counting convention.

Counting convention:

- mult-adds: one multiply-accumulate counts 1.
  conv: H_out * W_out * k_h * k_w * (C_in / groups) * C_out;
  depthwise: H_out * W_out * k_h * k_w * C_in * multiplier; fc: inputs * outputs.
  Bias adds, batch norm, activations, pooling, residual adds, concatenation,
  squeeze-and-excite's channel scaling, softmax, channel splits and shuffles, a space-to-depth
  (neighbours side by side in the channels), padding and cropping are not mult-adds;
  nor are a standalone norm (batch, layer or group) and a layer scale.
  tokens: none (a position embedding is added like a bias); attention's products, for Nq
  queries each seeing K keys and an attention width D (all heads): 2 * Nq * K * D (QK^T and
  the weighted sum of V; Nq = K = N positions when global, maps padded up to whole windows
  or patches),
  its softmax, scaling, shifts and masks free; a readout (the class token, or the mean) none.
- params: weights and biases of conv, depthwise and fc ops; a class token and a learned
  position embedding (C per token) of a tokens op; a relative position bias table of an
  attention in windows, and a logit scale per head of a cosine one; the scale and shift of a
  layer or
  group norm (2 per channel) and a layer scale (1 per channel), which no conv absorbs.
- bn_params: 2 per channel (scale and shift) of every batch norm, a conv's or a standalone one
  (foldable at inference), kept apart, so that `params` matches the paper and
  `params + bn_params` matches PyTorch's trainable parameter count.
- an auxiliary head's ops run in training only: their params and bn_params count (they are
  in the model), their mult-adds are kept apart as `aux_mult_adds`, out of `mult_adds`.

The formulas take the op's fixed geometry (kernel, groups, bias, batch norm) and its shape as
numbers, so the same formula counts one setting with exact ints (`op_cost`) and a grid of
settings with numpy arrays (`mbcalc.grid.sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from mbcalc.core.arith import N, Num
from mbcalc.core.graph import Op, OpKind
from mbcalc.kinds import PartitionMode


@dataclass(frozen=True, slots=True)
class Cost:
    """What one op (or a sum of ops) costs."""

    mult_adds: int = 0
    params: int = 0
    bn_params: int = 0
    aux_mult_adds: int = 0  # of an auxiliary head's ops: training only, not in `mult_adds`

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.mult_adds + other.mult_adds,
            self.params + other.params,
            self.bn_params + other.bn_params,
            self.aux_mult_adds + other.aux_mult_adds,
        )


ZERO = Cost()


class Geometry(Protocol):
    """What a formula needs to know of an op besides its shape (an `Op` or a plan `Step`)."""

    @property
    def kernel(self) -> tuple[int, int] | None: ...
    @property
    def stride(self) -> tuple[int, int] | None: ...
    @property
    def groups(self) -> int | None: ...  # None: one group per input channel (depthwise)
    @property
    def bias(self) -> bool: ...
    @property
    def bn(self) -> bool: ...
    @property
    def kind(self) -> OpKind: ...
    @property
    def partition(self) -> PartitionMode | None: ...  # which positions an attend op's queries see
    @property
    def cosine(self) -> bool: ...  # an attend op's scaled cosine attention: a scale per head


@dataclass(frozen=True, slots=True)
class Dims:
    """An op's input and output shape: ints, or numpy arrays over many settings."""

    h_in: Num
    w_in: Num
    c_in: Num
    h_out: Num
    w_out: Num
    c_out: Num


Counts = tuple[Num, Num, Num]
"""(mult-adds, params, bn_params)."""

Formula = Callable[[Geometry, Dims], Counts]
FORMULAS: dict[OpKind, Formula] = {}


def formula(kind: OpKind) -> Callable[[Formula], Formula]:
    """Register the cost formula of one op kind."""

    def register(function: Formula) -> Formula:
        FORMULAS[kind] = function
        return function

    return register


def op_cost(op: Op) -> Cost:
    """The cost of one op; an op kind without a formula is an error, never a silent zero."""
    try:
        count = FORMULAS[op.kind]
    except KeyError:  # pragma: no cover - every OpKind has a formula, checked by a test
        raise LookupError(f"no cost formula for op kind {op.kind!r}") from None
    mult_adds, params, bn_params = count(op, Dims(*op.input, *op.output))
    if op.aux:
        return Cost(0, int(params), int(bn_params), int(mult_adds))
    return Cost(int(mult_adds), int(params), int(bn_params))


def op_costs(ops: Iterable[Op]) -> list[Cost]:
    """Each op's cost, as `op_cost`; ops alike in kind, geometry and shapes (the repeats of a
    layer) are counted once and share one `Cost`."""
    known: dict[tuple[object, ...], Cost] = {}
    costs = []
    for op in ops:
        # (the kind's id: an enum member hashes by a call in Python, its id does not)
        key = (
            id(op.kind), op.kernel, op.stride, op.groups, op.bias, op.bn, op.input, op.output,
            op.aux, op.partition, op.cosine,
        )  # fmt: skip
        cost = known.get(key)
        if cost is None:
            cost = known[key] = op_cost(op)
        costs.append(cost)
    return costs


def _bn(geometry: Geometry, d: Dims) -> Num:
    return 2 * d.c_out if geometry.bn else 0


@formula(OpKind.CONV)
@formula(OpKind.DEPTHWISE)
def conv_counts(geometry: Geometry, d: Dims) -> Counts:
    """Dense, grouped or depthwise convolution (a pointwise conv has a 1x1 kernel).

    H_out * W_out * k_h * k_w * (C_in / groups) * C_out mult-adds. A depthwise op has one
    group per input channel, which makes this the paper's k_h * k_w * C_in * multiplier.
    """
    assert geometry.kernel is not None
    groups = d.c_in if geometry.groups is None else geometry.groups
    weights = math.prod(geometry.kernel) * (d.c_in // groups) * d.c_out
    params = weights + d.c_out if geometry.bias else weights
    return d.h_out * d.w_out * weights, params, _bn(geometry, d)


@formula(OpKind.FC)
def fc_counts(geometry: Geometry, d: Dims) -> Counts:
    """Fully connected on the flattened H x W x C input: inputs * outputs."""
    weights = d.h_in * d.w_in * d.c_in * d.c_out
    return weights, weights + d.c_out if geometry.bias else weights, 0


@formula(OpKind.POOL)
@formula(OpKind.ADD)
@formula(OpKind.CONCAT)
@formula(OpKind.SCALE)
@formula(OpKind.SOFTMAX)
@formula(OpKind.SPLIT)
@formula(OpKind.SHUFFLE)
@formula(OpKind.READOUT)
@formula(OpKind.RESIZE)
@formula(OpKind.SPACE_TO_DEPTH)
@formula(OpKind.PAD)
@formula(OpKind.CROP)
@formula(OpKind.POSITIONS)
def free_counts(geometry: Geometry, d: Dims) -> Counts:
    """Pooling, merges, channel scaling, softmax, splits, shuffles, a class token's readout, a
    resize, a space-to-depth, padding, cropping and a window's table of offsets: no mult-adds,
    no params by the paper's convention."""
    return 0, 0, 0


@formula(OpKind.BATCH_NORM)
def batch_norm_counts(geometry: Geometry, d: Dims) -> Counts:
    """A standalone batch norm: its scale and shift are BN params, no mult-adds."""
    return 0, 0, _bn(geometry, d)


@formula(OpKind.LAYER_NORM)
@formula(OpKind.GROUP_NORM)
def norm_counts(geometry: Geometry, d: Dims) -> Counts:
    """A layer or group norm: a scale and a shift per channel, params; no mult-adds."""
    return 0, 2 * d.c_out, 0


@formula(OpKind.LAYER_SCALE)
def layer_scale_counts(geometry: Geometry, d: Dims) -> Counts:
    """A layer scale: one learned factor per channel, a param; no mult-adds."""
    return 0, d.c_out, 0


@formula(OpKind.TOKENS)
def tokens_counts(geometry: Geometry, d: Dims) -> Counts:
    """A map to a row of tokens: a class token (C params) where the row is longer than the
    map, a learned position embedding (C per token) where `bias` says; no mult-adds."""
    tokens = d.h_out * d.w_out
    class_tokens = tokens - d.h_in * d.w_in
    position = tokens * d.c_out if geometry.bias else 0
    return 0, class_tokens * d.c_out + position, 0


@formula(OpKind.ATTEND)
def attend_counts(geometry: Geometry, d: Dims) -> Counts:
    """Self-attention's products for Nq queries of width D (all heads), each seeing K keys
    (`attention_span`): Nq * K * D for QK^T and as many for the weighted sum of V; params:
    a relative position bias table, (2M_h - 1) x (2M_w - 1) per head, where `bias` says, and
    a learned logit scale per head where the attention is `cosine`."""
    queries, keys = attention_span(geometry, d.h_in, d.w_in)
    product = queries * keys * d.c_out  # QK^T's, as many as the weighted sum's
    window, heads = geometry.kernel, geometry.groups or 1
    table = 0
    if geometry.bias and window is not None:
        table = (2 * window[0] - 1) * (2 * window[1] - 1) * heads
    return product + product, table + heads if geometry.cosine else table, 0


def attention_span(geometry: Geometry, height: N, width: N) -> tuple[N, N]:
    """(queries, keys each query sees) of an attend op over a height x width map.

    Global: H*W and H*W. In M_h x M_w windows (`kernel`; blocks or a grid): the map padded up
    to whole windows, ceil(H / M_h) * M_h * ceil(W / M_w) * M_w queries, each seeing M_h * M_w.
    Over s_h x s_w patches (`stride`): the map padded up to whole patches, each query seeing
    the ceil(H / s_h) * ceil(W / s_w) positions at its offset. With keys down-sampled by
    `stride` ("strided"): H*W queries, each seeing ceil(H / s_h) * ceil(W / s_w).
    """
    mode, window, stride = geometry.partition, geometry.kernel, geometry.stride
    if mode is None:
        return height * width, height * width
    if window is not None:
        rows, cols = window
        return -(-height // rows) * rows * (-(-width // cols) * cols), rows * cols
    assert stride is not None
    down, across = -(-height // stride[0]), -(-width // stride[1])  # each offset's positions
    if mode == "patch":
        return down * stride[0] * (across * stride[1]), down * across
    return height * width, down * across
