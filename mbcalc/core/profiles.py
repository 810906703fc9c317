"""Counting profiles: why every FLOPs counter gives a different number, and how to match each.

The paper counts one multiply-accumulate as 1 and nothing else. Other tools count 2 FLOPs per
multiply-accumulate, or add operations the paper leaves out, each at its own cost per element.
The elements an operation touches, by key (`family` or `family.qualifier`):

| key                   | what is counted                             | elements              |
|-----------------------|---------------------------------------------|-----------------------|
| bias                  | the bias add of a conv or fc that has one   | the op's outputs      |
| bn                    | batch norm at inference (scale, shift, ...) | outputs of each BN    |
| act.NAME              | an activation (relu, relu6, prelu, ...)     | the activated outputs |
| pool.FORM             | an average pool                             | the pool's inputs     |
| pool_out.FORM         | an average pool                             | the pool's outputs    |
| maxpool.FORM          | a max pool                                  | the pool's inputs     |
| maxpool_out.FORM      | a max pool                                  | the pool's outputs    |
| add                   | residual and branch additions               | the add's outputs     |
| scale                 | squeeze-and-excite's channel scaling        | the scaled outputs    |
| softmax               | a declared softmax's exponentials, divisions| its elements          |
| softmax_sum           | a declared softmax's sums                   | (C - 1) x H x W       |
| layer_norm            | a standalone layer norm                     | its outputs           |
| group_norm            | a standalone group norm                     | its outputs           |
| layer_scale           | a layer scale's multiplication              | its outputs           |
| pool_window.FORM      | an adaptive average pool, as thop counts it | see below             |
| position              | a position embedding's addition to tokens   | the tokens' elements  |
| resize                | a bilinear resize that changes the size     | its outputs           |

A pool's FORM is how `mbcalc.torch` runs it (`mbcalc.core.graph.pool_form`): `global` (an
`AdaptiveAvgPool2d` / `AdaptiveMaxPool2d` module), `window` (an `AvgPool2d` / `MaxPool2d`
module), `padded` (explicit padding, then one `F.avg_pool2d` / `F.max_pool2d` call; its
inputs are the padded input the window reads) or `adaptive` (an adaptive pool module to a grid
larger than 1x1). `pool_window` counts, per output of an adaptive average pool, its mean window
(input over output sides) plus one, in float64 and truncated: thop's rule, one less than inputs
plus outputs where the float64 product falls short. A profile's cost for a family (`act`, `pool`)
applies to every qualifier under it, a qualified cost (`act.relu6`) to that one only.

A profile is a factor of FLOPs per mult-add, the costs per element, and which parameters
count. The shipped profiles of other tools reproduce their totals on the module
`mbcalc.torch.build` makes, exactly, as written there: `Conv2d` (with `ZeroPad2d` before it
for an uneven SAME padding), `BatchNorm2d`, the activation as a module (`nn.ReLU`, `nn.ReLU6`,
`nn.Hardswish`, `nn.SiLU`, ...; a squeeze-and-excite gate `nn.Sigmoid` or `nn.Hardsigmoid`),
`Linear` after a permute and flatten, pools as above, residual adds with `+`, channel scaling
with `*`, and `nn.Softmax(dim=1)` only where the spec declares a `softmax` layer; a standalone
norm is `BatchNorm2d`, `nn.LayerNorm` between permutes, or `nn.GroupNorm`, a layer scale a
tensor multiplied in (`mbcalc.pytorch.norm_modules`); tokens are a flatten, a `torch.cat` of
the class token and an addition of the position embedding, attention's products two `@`
between tensors with a scaling and `Tensor.softmax` between them
(`mbcalc.pytorch.token_modules`), in block and grid partitions with a relative position bias
added to the products (`mbcalc.pytorch.partition_modules`); attention in windows pads and crops
with `F.pad` and slicing, rolls, gathers its position bias table by index and adds it, and a
space-to-depth slices and concatenates (`mbcalc.pytorch.window_modules`). No tool counts the
position embedding's addition, the scaling or that softmax, nor a position bias's gathering or
addition:

- fvcore 0.1.5 (`FlopCountAnalysis`): `aten::batch_norm` 2 per element (inference, affine),
  `aten::adaptive_avg_pool2d` 1 per input, `aten::layer_norm` and `aten::group_norm` 5 per
  element, `aten::upsample_bilinear2d` 4 per output; no biases, activations, other pools,
  adds, softmax, layer scales.
- thop 0.1.1 (`profile`, module hooks): `BatchNorm2d` 4 per element, `PReLU` 1 (others 0),
  `AvgPool2d` 1 per output, `AdaptiveAvgPool2d` per input and output (global; to a larger
  grid by `pool_window`), `nn.Softmax` 3C - 1 per position, `LayerNorm` 4 per element; max
  pools, `GroupNorm` and functional calls (a split, a shuffle, attention's products, a
  resize) 0; no biases. Its params are those of the modules it has a rule for: not
  `GroupNorm`'s, a layer scale's, a class token's, a position embedding's, nor an attention's
  position bias table or logit scale.
- ptflops 0.7.5, pytorch backend (module hooks + patched `torch.nn.functional`): biases,
  `BatchNorm2d` 2 per element; `ReLU`, `PReLU`, `ELU`, `GELU` twice (the module's hook and its
  patched functional call), `ReLU6` and `LeakyReLU` once (their functions are not patched),
  `SiLU` once (only its function is), `Hardswish`, `Hardsigmoid`, `Sigmoid`, `Tanh` 0; pool
  modules twice on their inputs, functional pools once; softmax 1 per element; `LayerNorm` 1
  per element, `GroupNorm` 2, `F.interpolate` 1 per output; not attention's products (`@` is
  not patched).
- ptflops 0.7.5, aten backend: convolutions and matrix products (attention's too) with their
  biases only.

Parameters: the tools count every trainable tensor, PReLU's one weight included (thop: see above).

An auxiliary head does not run in eval, where the tools count: none counts its operations, and
thop, which counts a module's parameters when it runs, leaves its params out (`idle_params`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from mbcalc.core.arith import SCALAR, Arith, N, Num
from mbcalc.core.limits import count_weight
from mbcalc.kinds import OpKind

if TYPE_CHECKING:  # the command line imports this module for its options: keep it light
    from mbcalc.core.by_type import Category
    from mbcalc.core.costs import Cost, Dims
    from mbcalc.core.graph import Windowed
    from mbcalc.core.report import OpRow, Report

    class Countable(Windowed, Protocol):
        """What the element counts need to know of an op: a graph `Op` or a plan `Step`."""

        @property
        def kind(self) -> OpKind: ...
        @property
        def sources(self) -> tuple[int, ...]: ...
        @property
        def bias(self) -> bool: ...
        @property
        def bn(self) -> bool: ...
        @property
        def activation(self) -> str: ...
        @property
        def pool_kind(self) -> str | None: ...


class Extra(StrEnum):
    """The families of operations a profile may count besides the multiply-accumulates."""

    BIAS = "bias"
    BN = "bn"
    ACT = "act"
    POOL = "pool"
    POOL_OUT = "pool_out"
    MAXPOOL = "maxpool"
    MAXPOOL_OUT = "maxpool_out"
    ADD = "add"
    SCALE = "scale"
    SOFTMAX = "softmax"
    SOFTMAX_SUM = "softmax_sum"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    LAYER_SCALE = "layer_scale"
    POOL_WINDOW = "pool_window"
    POSITION = "position"
    RESIZE = "resize"


POOL_FAMILIES = (Extra.POOL, Extra.POOL_OUT, Extra.MAXPOOL, Extra.MAXPOOL_OUT, Extra.POOL_WINDOW)


def qualifiers(family: Extra) -> tuple[str, ...]:
    """The qualifiers a family takes (`act.relu6`, `pool.global`); the others take none."""
    if family is Extra.ACT:
        from mbcalc.spec import ACTIVATIONS

        return tuple(name for name in ACTIVATIONS if name != "none")
    if family in POOL_FAMILIES:
        from mbcalc.core.graph import PoolForm

        return tuple(form.value for form in PoolForm)
    return ()


class ParamsRule(StrEnum):
    """Which parameters count: the paper's, PyTorch's trainable ones, or Keras' summary's."""

    PAPER = "paper"  # weights and biases
    TORCH = "torch"  # + batch norm scale and shift, + PReLU's weight
    KERAS = "keras"  # weights, biases, batch norm scale, shift, running mean and variance
    THOP = "thop"  # torch's, but not a group norm's nor a layer scale's (modules thop skips)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    flops_per_mult_add: int = 1
    extras: dict[str, int] = field(default_factory=dict)  # cost per element, by key
    params: ParamsRule = ParamsRule.PAPER
    idle_params: bool = True  # whether an auxiliary head's params count (it does not run)
    unseen: tuple[OpKind, ...] = ()  # op kinds whose multiply-accumulates the tool misses

    @property
    def is_paper(self) -> bool:
        """Whether this is the paper's profile unchanged, whose totals are the report's own."""
        return self.name == "paper"

    def cost(self, key: str) -> int:
        """The cost per element of `key` (`act.relu6`): its own, else its family's, else 0."""
        family = key.partition(".")[0]
        return self.extras.get(key, self.extras.get(family, 0))


_PTFLOPS_ACTS = {"act.relu": 2, "act.prelu": 2, "act.elu": 2, "act.gelu": 2}
_PTFLOPS_ACTS |= dict.fromkeys(("act.relu6", "act.leaky_relu", "act.silu", "act.swish"), 1)

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
            "fvcore 0.1.5 FlopCountAnalysis: + batch norm at 2 per element, + adaptive "
            "(global) average pools' inputs, + layer and group norm at 5, + resizes at 4",
            extras={
                Extra.BN: 2,
                "pool.global": 1,
                "pool.adaptive": 1,
                Extra.LAYER_NORM: 5,
                Extra.GROUP_NORM: 5,
                Extra.RESIZE: 4,
            },
            params=ParamsRule.TORCH,
        ),
        Profile(
            "thop",
            "thop 0.1.1 profile: + batch norm at 4 per element, + PReLU, + AvgPool2d outputs, "
            "+ AdaptiveAvgPool2d inputs and outputs, + a declared softmax (3C - 1), + layer "
            "norm at 4; not attention's products",
            extras={
                Extra.BN: 4,
                "act.prelu": 1,
                "pool.global": 1,
                "pool_out.global": 1,
                "pool_out.window": 1,
                Extra.SOFTMAX: 2,
                Extra.SOFTMAX_SUM: 1,
                Extra.LAYER_NORM: 4,
                "pool_window.adaptive": 1,
            },
            params=ParamsRule.THOP,
            idle_params=False,
            unseen=(OpKind.ATTEND,),
        ),
        Profile(
            "ptflops",
            "ptflops 0.7.5 (pytorch backend): + biases, batch norm at 2 per element, "
            "ReLU/PReLU/ELU/GELU twice and ReLU6/LeakyReLU/SiLU once, pool modules' inputs "
            "twice and functional pools' once, + a declared softmax at 1 per element, + layer "
            "norm at 1 and group norm at 2, + resizes at 1; not attention's products",
            extras={
                Extra.BIAS: 1,
                Extra.BN: 2,
                **_PTFLOPS_ACTS,
                Extra.POOL: 2,
                Extra.MAXPOOL: 2,
                "pool.padded": 1,
                "maxpool.padded": 1,
                Extra.SOFTMAX: 1,
                Extra.LAYER_NORM: 1,
                Extra.GROUP_NORM: 2,
                Extra.RESIZE: 1,
            },
            params=ParamsRule.TORCH,
            unseen=(OpKind.ATTEND,),
        ),
        Profile(
            "ptflops-aten",
            "ptflops 0.7.5 (aten backend): multiply-accumulates and conv and fc biases",
            extras={Extra.BIAS: 1},
            params=ParamsRule.TORCH,
        ),
    )
}
"""The shipped profiles by name."""


def op_elements(op: Countable, d: Dims, arith: Arith) -> Iterator[tuple[str, Num]]:
    """(qualified key, elements) of every operation one op touches, at the shape `d`: ints for
    one setting, arrays over a grid (`arith` tells which)."""
    from mbcalc.core.adaptive import thop_adaptive_ops
    from mbcalc.core.graph import PoolForm, pool_form, window_extent
    from mbcalc.core.norms import NORM_ELEMENTS

    size = d.h_out * d.w_out * d.c_out
    if op.bias and op.kind is not OpKind.ATTEND:  # an attend op's is a table, added to scores
        yield Extra.POSITION if op.kind is OpKind.TOKENS else Extra.BIAS, size
    if op.bn:
        yield Extra.BN, size
    if op.activation != "none":
        yield f"{Extra.ACT}.{op.activation}", size
    if op.kind is OpKind.POOL:
        form = pool_form(op)
        family = Extra.POOL if op.pool_kind == "avg" else Extra.MAXPOOL
        height, width = d.h_in, d.w_in
        if form is PoolForm.PADDED:
            height, width = window_extent(op, (d.h_in, d.w_in), (d.h_out, d.w_out), arith)
        yield f"{family}.{form}", height * width * d.c_in
        yield f"{family}_out.{form}", size
        if family is Extra.POOL and form in (PoolForm.GLOBAL, PoolForm.ADAPTIVE):
            windows = thop_adaptive_ops((d.h_in, d.w_in), (d.h_out, d.w_out), size)
            yield f"{Extra.POOL_WINDOW}.{form}", windows
    if op.kind is OpKind.ADD:
        yield Extra.ADD, size * (len(op.sources) - 1)
    if op.kind is OpKind.SCALE:
        yield Extra.SCALE, size
    if op.kind is OpKind.SOFTMAX:
        yield Extra.SOFTMAX, size
        yield Extra.SOFTMAX_SUM, size - d.h_out * d.w_out
    if (norm := NORM_ELEMENTS.get(op.kind)) is not None:
        yield norm, size
    if op.kind is OpKind.RESIZE:  # run only where the size changes
        yield Extra.RESIZE, size * ((d.h_in != d.h_out) | (d.w_in != d.w_out))


def elements(report: Report) -> dict[str, int]:
    """How many elements each operation (by qualified key) touches in `report`'s network."""
    return rows_elements(report.rows)


def rows_elements(rows: Sequence[OpRow]) -> dict[str, int]:
    """How many elements each operation (by qualified key) touches in these ops."""
    from mbcalc.core.costs import Dims

    counts: dict[str, int] = {}
    for row in rows:
        op = row.op
        if op.aux:  # an auxiliary head does not run at inference: the tools see none of it
            continue
        for key, size in op_elements(op, Dims(*op.input, *op.output), SCALAR):
            counts[key] = counts.get(key, 0) + int(size)
    return counts


def add_extras(extras: dict[str, Num], key: str, size: Num, profile: Profile) -> None:
    """Add the operations of `size` elements of `key` under `profile` to `extras`, by the key
    the profile prices them under (`key` itself, else its family); nothing at a cost of 0."""
    cost = profile.cost(key)
    if not cost or (isinstance(size, int) and not size):
        return
    owner = key if key in profile.extras else key.partition(".")[0]
    extras[owner] = extras.get(owner, 0) + size * cost


def counted_params(params: N, bn_params: N, prelus: int, rule: ParamsRule, skipped: N = 0) -> N:
    """The parameters `rule` counts, from the paper's params, the BN params, PReLU weights and
    the params thop skips (`skipped`, `mbcalc.core.norms.THOP_SKIPS`)."""
    if rule is ParamsRule.PAPER:
        return params
    if rule is ParamsRule.TORCH:
        return params + bn_params + prelus
    if rule is ParamsRule.THOP:
        return params + bn_params + prelus - skipped
    return params + 2 * bn_params  # keras: + running mean and variance, as many as scale, shift


@dataclass(frozen=True)
class Counted:
    """A report's total under a profile."""

    profile: Profile
    mult_adds: int  # those the profile's tool sees
    extras: dict[str, int]  # operations added per key of the profile (elements x cost)
    params: int

    @property
    def operations(self) -> int:
        """FLOPs (or mult-adds) of the multiply-accumulates plus every extra counted."""
        return self.mult_adds * self.profile.flops_per_mult_add + sum(self.extras.values())


def count(report: Report, profile: Profile) -> Counted:
    """`report`'s total as `profile` counts it: each element at its most specific key's cost."""
    return count_rows(report.rows, report.total.cost, profile)


def count_rows(rows: Sequence[OpRow], total: Cost, profile: Profile) -> Counted:
    """The total of the ops `rows`, whose paper cost is `total`, as `profile` counts it (a
    whole report's, one unit's, one layer type's)."""
    from mbcalc.core.norms import THOP_SKIPS

    extras: dict[str, Num] = {}
    # Every cost is 0 unless an extra has one: then the walk over the ops is not needed.
    touched = rows_elements(rows) if any(profile.extras.values()) else {}
    for key, size in touched.items():
        add_extras(extras, key, size, profile)
    params, bn_params = total.params, total.bn_params
    if not profile.idle_params:  # thop: the params of the ops that run
        idle = [row.cost for row in rows if row.op.aux]
        params -= sum(cost.params for cost in idle)
        bn_params -= sum(cost.bn_params for cost in idle)
        rows = [row for row in rows if not row.op.aux]
    thop = profile.params is ParamsRule.THOP
    torch_like = thop or profile.params is ParamsRule.TORCH
    prelus = sum(row.op.act == "prelu" for row in rows) if torch_like else 0
    skipped = sum(row.cost.params for row in rows if thop and row.op.kind in THOP_SKIPS)
    params = counted_params(params, bn_params, prelus, profile.params, skipped)
    unseen = sum(row.cost.mult_adds for row in rows if row.op.kind in profile.unseen)
    mult_adds = total.mult_adds - unseen
    return Counted(profile, mult_adds, {k: int(v) for k, v in extras.items()}, params)


def count_units(report: Report, profile: Profile) -> tuple[Counted, ...]:
    """Each unit's total (in `report.units`' order) as `profile` counts it."""
    return tuple(count_rows(unit.rows, unit.cost, profile) for unit in report.units)


@dataclass(frozen=True)
class CountedByType:
    """A report's total and each of its layer types' as a profile counts them."""

    total: Counted
    types: dict[Category, Counted]


def count_by_type(report: Report, profile: Profile) -> CountedByType:
    """The total and each layer type's (`mbcalc.core.by_type`'s categories) under `profile`."""
    from mbcalc.core.by_type import categorized
    from mbcalc.core.costs import ZERO

    groups: dict[Category, list[OpRow]] = {}
    for row, category in categorized(report):
        groups.setdefault(category, []).append(row)
    types = {
        category: count_rows(rows, sum((row.cost for row in rows), ZERO), profile)
        for category, rows in groups.items()
    }
    return CountedByType(count(report, profile), types)


def custom_profile(
    base: Profile, flops: bool, extras: dict[str, int], params: ParamsRule | None
) -> Profile:
    """`base` changed by command-line options (--flops, --count, --params).

    A key given replaces the profile's cost of that key and of every key under it.
    """
    kept = {
        key: cost
        for key, cost in base.extras.items()
        if not any(key == given or key.startswith(f"{given}.") for given in extras)
    }
    changed = [
        text
        for text, given in (("--flops", flops), ("--count", extras), ("--params", params))
        if given
    ]
    return Profile(
        name=f"{base.name}+custom" if changed else base.name,
        description=base.description + (f", changed by {', '.join(changed)}" if changed else ""),
        flops_per_mult_add=2 if flops else base.flops_per_mult_add,
        extras={**kept, **extras},
        params=params or base.params,
        idle_params=base.idle_params,
        unseen=base.unseen,
    )


def parse_extras(text: str) -> dict[str, int]:
    """`bn=4,pool.global,act.relu6=2`: costs per element by key (1 when not given)."""
    extras: dict[str, int] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, _, cost = part.partition("=")
        key = _key(name.strip())
        if cost and not (cost.strip().isascii() and cost.strip().isdigit()):
            raise ValueError(f"the cost of {key} must be a whole number, got {cost!r}")
        extras[key] = count_weight(key, cost.strip()) if cost else 1
    return extras


def _key(name: str) -> str:
    """A checked key: a family, or a family and one of its qualifiers."""
    family_name, dot, qualifier = name.partition(".")
    try:
        family = Extra(family_name)
    except ValueError:
        known = ", ".join(e.value for e in Extra)
        raise ValueError(f"unknown operation {family_name!r} (known: {known})") from None
    if not dot:
        return family.value
    allowed = qualifiers(family)
    if qualifier not in allowed:
        if not allowed:
            raise ValueError(f"{family.value} takes no qualifier, got {name!r}")
        raise ValueError(
            f"unknown {family.value} qualifier {qualifier!r} (known: {', '.join(allowed)})"
        )
    return f"{family.value}.{qualifier}"
