"""Counting profiles: why every FLOPs counter gives a different number, and how to match each.

The paper counts one multiply-accumulate as 1 and nothing else. Other tools count 2 FLOPs per
multiply-accumulate, or add operations the paper leaves out, each at its own cost per element:

| extra      | what is counted                                   | elements                        |
|------------|---------------------------------------------------|---------------------------------|
| bias       | the bias add of a conv or fc that has one         | the op's outputs                |
| bn         | batch norm at inference (scale, shift, ...)       | outputs of each op with a BN    |
| act        | the activation after an op                        | outputs of each activated op    |
| pool       | an average pool's additions                       | the pool's inputs               |
| pool_out   | an average pool's divisions                       | the pool's outputs              |
| add        | residual and branch additions                     | the add's outputs               |
| scale      | squeeze-and-excite's channel scaling              | the scaled outputs              |
| softmax    | a softmax's exponentials or divisions             | n, the classes                  |
| softmax_sum| a softmax's sum                                   | n - 1                           |

A profile is a factor of FLOPs per mult-add, the extras with their cost per element, and which
parameters count. The shipped profiles reproduce the tools' totals for a PyTorch MobileNet v1
with a batch norm after every conv and a softmax at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from mbcalc.limits import count_weight

if TYPE_CHECKING:  # the command line imports this module for its options: keep it light
    from mbcalc.report import Report


class Extra(StrEnum):
    BIAS = "bias"
    BN = "bn"
    ACT = "act"
    POOL = "pool"
    POOL_OUT = "pool_out"
    ADD = "add"
    SCALE = "scale"
    SOFTMAX = "softmax"
    SOFTMAX_SUM = "softmax_sum"


class ParamsRule(StrEnum):
    """Which parameters count: the paper's, PyTorch's trainable ones, or Keras' summary's."""

    PAPER = "paper"  # weights and biases
    TORCH = "torch"  # + batch norm scale and shift
    KERAS = "keras"  # + batch norm running mean and variance


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    flops_per_mult_add: int = 1
    extras: dict[Extra, int] = field(default_factory=dict)  # cost per element
    params: ParamsRule = ParamsRule.PAPER


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("paper", "the MobileNets paper: multiply-accumulates only, 1 each"),
        Profile(
            "torch",
            "torch.utils.flop_counter: 2 FLOPs per multiply-accumulate, nothing else",
            flops_per_mult_add=2,
            params=ParamsRule.TORCH,
        ),
        Profile(
            "fvcore",
            "fvcore FlopCountAnalysis: + batch norm at 2 per element, + average pools' inputs",
            extras={Extra.BN: 2, Extra.POOL: 1},
            params=ParamsRule.TORCH,
        ),
        Profile(
            "thop",
            "thop profile: + batch norm at 4 per element, + average pools (inputs and outputs), "
            "+ softmax",
            extras={
                Extra.BN: 4,
                Extra.POOL: 1,
                Extra.POOL_OUT: 1,
                Extra.SOFTMAX: 2,
                Extra.SOFTMAX_SUM: 1,
            },
            params=ParamsRule.TORCH,
        ),
        Profile(
            "ptflops",
            "ptflops (pytorch backend): + fc and conv biases, batch norm at 2 per element, and "
            "activations and average pools counted twice (its functional patching counts them "
            "again), + softmax at 1 per class",
            extras={Extra.BIAS: 1, Extra.BN: 2, Extra.ACT: 2, Extra.POOL: 2, Extra.SOFTMAX: 1},
            params=ParamsRule.TORCH,
        ),
    )
}
"""The shipped profiles by name."""


def elements(report: Report) -> dict[Extra, int]:
    """How many elements each extra operation touches in `report`'s network."""
    from mbcalc.graph import OpKind

    counts = dict.fromkeys(Extra, 0)
    for row in report.rows:
        op = row.op
        size = math.prod(op.output)
        if op.bias:
            counts[Extra.BIAS] += size
        if op.bn:
            counts[Extra.BN] += size
        if op.act != "none":
            counts[Extra.ACT] += size
        if op.kind is OpKind.POOL and op.pool == "avg":
            counts[Extra.POOL] += math.prod(op.input)
            counts[Extra.POOL_OUT] += size
        if op.kind is OpKind.ADD:
            counts[Extra.ADD] += size * (len(op.sources) - 1)
        if op.kind is OpKind.SCALE:
            counts[Extra.SCALE] += size
    classes = math.prod(report.graph.output_shape)
    counts[Extra.SOFTMAX] = classes
    counts[Extra.SOFTMAX_SUM] = classes - 1
    return counts


@dataclass(frozen=True)
class Counted:
    """A report's total under a profile."""

    profile: Profile
    mult_adds: int
    extras: dict[Extra, int]  # operations added per extra (elements x cost)
    params: int

    @property
    def operations(self) -> int:
        """FLOPs (or mult-adds) of the multiply-accumulates plus every extra counted."""
        return self.mult_adds * self.profile.flops_per_mult_add + sum(self.extras.values())


def count(report: Report, profile: Profile) -> Counted:
    """`report`'s total as `profile` counts it."""
    touched = elements(report)
    extras = {extra: touched[extra] * cost for extra, cost in profile.extras.items() if cost}
    total = report.total.cost
    params = total.params
    if profile.params is not ParamsRule.PAPER:
        params += total.bn_params
    if profile.params is ParamsRule.KERAS:
        params += total.bn_params  # running mean and variance: as many as scale and shift
    return Counted(profile, total.mult_adds, extras, params)


def custom_profile(
    base: Profile, flops: bool, extras: dict[Extra, int], params: ParamsRule | None
) -> Profile:
    """`base` changed by command-line options (--flops, --count, --params)."""
    merged = {**base.extras, **extras}
    changed = [
        text
        for text, given in (("--flops", flops), ("--count", extras), ("--params", params))
        if given
    ]
    return Profile(
        name=f"{base.name}+custom" if changed else base.name,
        description=base.description + (f", changed by {', '.join(changed)}" if changed else ""),
        flops_per_mult_add=2 if flops else base.flops_per_mult_add,
        extras=merged,
        params=params or base.params,
    )


def parse_extras(text: str) -> dict[Extra, int]:
    """`bn=4,pool,act=2`: extras with their cost per element (1 when not given)."""
    extras: dict[Extra, int] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, _, cost = part.partition("=")
        try:
            extra = Extra(name.strip())
        except ValueError:
            known = ", ".join(e.value for e in Extra)
            raise ValueError(f"unknown operation {name.strip()!r} (known: {known})") from None
        if cost and not (cost.strip().isascii() and cost.strip().isdigit()):
            raise ValueError(f"the cost of {extra.value} must be a whole number, got {cost!r}")
        extras[extra] = count_weight(extra.value, cost.strip()) if cost else 1
    return extras
