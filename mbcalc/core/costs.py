"""Exact integer cost formulas, one per primitive op, by the paper's counting convention.

Counting convention:

- mult-adds: one multiply-accumulate counts 1.
  conv: H_out * W_out * k_h * k_w * (C_in / groups) * C_out;
  depthwise: H_out * W_out * k_h * k_w * C_in * multiplier; fc: inputs * outputs.
  Bias adds, batch norm, activations, pooling, residual adds, concatenation,
  squeeze-and-excite's channel scaling and softmax are not mult-adds.
- params: weights and biases of conv, depthwise and fc ops.
- bn_params: 2 per channel (scale and shift) of every batch norm, kept apart, so that `params`
  matches the paper and `params + bn_params` matches PyTorch's trainable parameter count.

The formulas take the op's fixed geometry (kernel, groups, bias, batch norm) and its shape as
numbers, so the same formula counts one setting with exact ints (`op_cost`) and a grid of
settings with numpy arrays (`mbcalc.grid.sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from mbcalc.core.arith import Num
from mbcalc.core.graph import Op, OpKind


@dataclass(frozen=True, slots=True)
class Cost:
    """What one op (or a sum of ops) costs."""

    mult_adds: int = 0
    params: int = 0
    bn_params: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.mult_adds + other.mult_adds,
            self.params + other.params,
            self.bn_params + other.bn_params,
        )


ZERO = Cost()


class Geometry(Protocol):
    """What a formula needs to know of an op besides its shape (an `Op` or a plan `Step`)."""

    @property
    def kernel(self) -> tuple[int, int] | None: ...
    @property
    def groups(self) -> int | None: ...  # None: one group per input channel (depthwise)
    @property
    def bias(self) -> bool: ...
    @property
    def bn(self) -> bool: ...


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
    return Cost(int(mult_adds), int(params), int(bn_params))


def op_costs(ops: Iterable[Op]) -> list[Cost]:
    """Each op's cost, as `op_cost`; ops alike in kind, geometry and shapes (the repeats of a
    layer) are counted once and share one `Cost`."""
    known: dict[tuple[object, ...], Cost] = {}
    costs = []
    for op in ops:
        # (the kind's id: an enum member hashes by a call in Python, its id does not)
        key = (id(op.kind), op.kernel, op.groups, op.bias, op.bn, op.input, op.output)
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
def free_counts(geometry: Geometry, d: Dims) -> Counts:
    """Pooling, merges, channel scaling and softmax: no mult-adds, no params by the paper's
    convention."""
    return 0, 0, 0
