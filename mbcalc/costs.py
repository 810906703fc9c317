"""Exact integer cost formulas, one per primitive op (SPEC.md section 2, the paper's convention).

Counting convention:

- mult-adds: one multiply-accumulate counts 1.
  conv: H_out * W_out * k_h * k_w * (C_in / groups) * C_out;
  depthwise: H_out * W_out * k_h * k_w * C_in * multiplier; fc: inputs * outputs.
  Bias adds, batch norm, activations, pooling, residual adds, concatenation and
  squeeze-and-excite's channel scaling are not mult-adds.
- params: weights and biases of conv, depthwise and fc ops.
- bn_params: 2 per channel (scale and shift) of every batch norm, kept apart, so that `params`
  matches the paper and `params + bn_params` matches PyTorch's trainable parameter count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from mbcalc.graph import Op, OpKind


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

Formula = Callable[[Op], Cost]
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
        return FORMULAS[op.kind](op)
    except KeyError:  # pragma: no cover - every OpKind has a formula, checked by a test
        raise LookupError(f"no cost formula for op kind {op.kind!r}") from None


def _bn(op: Op) -> int:
    return 2 * op.output[2] if op.bn else 0


@formula(OpKind.CONV)
@formula(OpKind.DEPTHWISE)
def conv_cost(op: Op) -> Cost:
    """Dense, grouped or depthwise convolution (a pointwise conv has a 1x1 kernel).

    A depthwise op has groups = C_in, so its k_h * k_w * (C_in / groups) * C_out is the
    paper's k_h * k_w * C_in * multiplier.
    """
    assert op.kernel is not None
    assert op.groups is not None
    height, width, c_out = op.output
    weights = math.prod(op.kernel) * (op.input[2] // op.groups) * c_out
    return Cost(
        mult_adds=height * width * weights,
        params=weights + (c_out if op.bias else 0),
        bn_params=_bn(op),
    )


@formula(OpKind.FC)
def fc_cost(op: Op) -> Cost:
    """Fully connected on the flattened input."""
    inputs, outputs = math.prod(op.input), op.output[2]
    return Cost(mult_adds=inputs * outputs, params=inputs * outputs + (outputs if op.bias else 0))


@formula(OpKind.POOL)
@formula(OpKind.ADD)
@formula(OpKind.CONCAT)
@formula(OpKind.SCALE)
def free_cost(op: Op) -> Cost:
    """Pooling, merges and channel scaling: no mult-adds, no params by the paper's convention."""
    return ZERO
