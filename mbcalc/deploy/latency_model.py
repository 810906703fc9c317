"""A measured cost model: one op's time from what mbcalc counts of it, with fitted coefficients.

The roofline (`mbcalc.deploy.roofline`) bounds an op's time by a data sheet's peak and
bandwidth. Real runtimes are slower, and not uniformly: each op pays a fixed cost to launch,
small and depthwise kernels run far below peak, and a batch norm or an activation after an op
is one more pass over its output, cheap for a ReLU and ten times dearer for a GELU.
`mbcalc calibrate` times small networks on a device and fits, for each class of op
(`CostClass`):

    time = overhead + work * per_work + bytes * per_byte

where work is the op's mult-adds (a pool's: its window reads, output elements x kernel area;
an adaptive pool's: the rows and columns its windows read, `adaptive_reads`, x channels)
and bytes what it reads and writes; and for each pass after the op (`Part`: its batch norm,
its activation by `activation_part`):

    + overhead + output_elements * per_element

A network's time is its ops' times one after another, plus a fixed cost per run
(`network_overhead`). Every coefficient is a non-negative number of seconds, so the model reads
as "a depthwise op costs 40 us to launch and runs at 2.1 G mult-adds per second".

`terms` names what an op brings to each coefficient; it takes ints or numpy arrays (one value
per setting, as the grid engine runs it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, cast

from mbcalc.core.adaptive import adaptive_reads
from mbcalc.core.arith import Num, Real
from mbcalc.core.costs import Dims
from mbcalc.kinds import OpKind, Pair, PartitionMode


class CostClass(StrEnum):
    """Ops that share a kernel, and so a line of the fitted model."""

    POINTWISE = "pointwise"  # a 1x1 conv, one group
    CONV = "conv"  # a k x k conv, one group
    GROUPED = "grouped"  # a conv in groups (not depthwise)
    DEPTHWISE = "depthwise"
    FC = "fc"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"  # average pools in windows
    GLOBAL_POOL = "global_pool"  # pools over the whole map (squeeze-and-excite's, a classifier's)
    ADD = "add"
    CONCAT = "concat"
    SCALE = "scale"  # squeeze-and-excite's channel scaling
    NORM = "norm"  # standalone batch norms, layer scales, softmax: one pass per element
    LAYER_NORM = "layer_norm"  # layer and group norms: statistics over positions' channels
    ATTEND = "attend"  # attention over all tokens, or over patches (MobileViT's)
    ATTEND_LOCAL = "attend_local"  # attention in windows or a grid (Swin's, MaxViT's)
    COPY = "copy"  # tokens, shuffles, space-to-depth, padding, cropping, resizing, positions
    VIEW = "view"  # a split's slices and a class token read out: no data moves


class Part(StrEnum):
    """A pass over an op's output after its own kernel."""

    BATCH_NORM = "batch_norm"
    CLAMP = "clamp"  # activations of comparisons and products: relu, relu6, hard swish, ...
    EXP = "exp"  # activations of one exponential: sigmoid, swish (silu), gelu
    SLOW = "slow"  # activations of more: tanh, elu


_PART_OF_ACTIVATION = {
    "relu": Part.CLAMP,
    "relu6": Part.CLAMP,
    "leaky_relu": Part.CLAMP,
    "prelu": Part.CLAMP,
    "hswish": Part.CLAMP,
    "hsigmoid": Part.CLAMP,
    "sigmoid": Part.EXP,
    "swish": Part.EXP,
    "silu": Part.EXP,
    "gelu": Part.EXP,
    "tanh": Part.SLOW,
    "elu": Part.SLOW,
}


def activation_part(name: str) -> Part:
    """The part an activation is timed as (one of exponentials where it is not known)."""
    return _PART_OF_ACTIVATION.get(name, Part.EXP)


_CLASS_OF_KIND = {
    OpKind.DEPTHWISE: CostClass.DEPTHWISE,
    OpKind.FC: CostClass.FC,
    OpKind.ADD: CostClass.ADD,
    OpKind.CONCAT: CostClass.CONCAT,
    OpKind.SCALE: CostClass.SCALE,
    OpKind.SOFTMAX: CostClass.NORM,
    OpKind.BATCH_NORM: CostClass.NORM,
    OpKind.LAYER_NORM: CostClass.LAYER_NORM,
    OpKind.GROUP_NORM: CostClass.LAYER_NORM,
    OpKind.LAYER_SCALE: CostClass.NORM,
    OpKind.ATTEND: CostClass.ATTEND,
    OpKind.SPLIT: CostClass.VIEW,
    OpKind.READOUT: CostClass.VIEW,
    OpKind.SHUFFLE: CostClass.COPY,
    OpKind.TOKENS: CostClass.COPY,
    OpKind.RESIZE: CostClass.COPY,
    OpKind.SPACE_TO_DEPTH: CostClass.COPY,
    OpKind.PAD: CostClass.COPY,
    OpKind.CROP: CostClass.COPY,
    OpKind.POSITIONS: CostClass.COPY,
}


_LOCAL: tuple[PartitionMode, ...] = ("block", "grid")
"""Partitions whose queries see a window's or a grid cell's tokens: many small products, with
their tokens gathered from the map and scattered back."""


class Timed(Protocol):
    """What the model needs to know of an op besides its counts (an `Op` or a plan `Step`)."""

    @property
    def kind(self) -> OpKind: ...
    @property
    def kernel(self) -> Pair | None: ...
    @property
    def groups(self) -> int | None: ...
    @property
    def bn(self) -> bool: ...
    @property
    def activation(self) -> str: ...
    @property
    def pool_kind(self) -> str | None: ...
    @property
    def global_pool(self) -> bool: ...
    @property
    def grid(self) -> Pair | None: ...
    @property
    def partition(self) -> PartitionMode | None: ...


def cost_class(op: Timed) -> CostClass:
    """The class of `op` in the fitted model."""
    if op.kind is OpKind.CONV:
        if op.groups not in (None, 1):
            return CostClass.GROUPED
        return CostClass.POINTWISE if op.kernel in (None, (1, 1)) else CostClass.CONV
    if op.kind is OpKind.POOL:
        if op.grid is None and (op.kernel is None or op.global_pool):
            return CostClass.GLOBAL_POOL
        return CostClass.MAX_POOL if op.pool_kind == "max" else CostClass.AVG_POOL
    if op.kind is OpKind.ATTEND and op.partition in _LOCAL:
        return CostClass.ATTEND_LOCAL
    return _CLASS_OF_KIND[op.kind]


def parts(op: Timed, fold_bn: bool = False) -> tuple[Part, ...]:
    """The passes over `op`'s output after its own kernel: its batch norm (none when folded
    into the op), its activation."""
    found = [Part.BATCH_NORM] if op.bn and not fold_bn else []
    if op.activation != "none":
        found.append(activation_part(op.activation))
    return tuple(found)


NETWORK_TERM = "network_overhead"
CLASS_FIELDS = ("overhead", "per_work", "per_byte")
PART_FIELDS = ("overhead", "per_element")
TERMS = (
    NETWORK_TERM,
    *(f"{cls}.{field}" for cls in CostClass for field in CLASS_FIELDS),
    *(f"{part}.{field}" for part in Part for field in PART_FIELDS),
)
"""The model's coefficients by name, in a fixed order: what `mbcalc calibrate` fits."""


def terms(
    op: Timed, dims: Dims, mult_adds: Num, moved: Num, batch: int, fold_bn: bool = False
) -> list[tuple[str, Num]]:
    """What one op brings to each of the model's `TERMS` but the network's fixed cost, each then
    multiplied by its coefficient: `dims` its shapes, `mult_adds` per image, `moved` the bytes it
    reads and writes for the whole batch (`mbcalc.deploy.roofline.moved_bytes`); `fold_bn`:
    batch norms after a conv are folded into it."""
    cls = cost_class(op)
    output: Num = dims.h_out * dims.w_out * dims.c_out * batch
    work: Num
    if cls in (CostClass.MAX_POOL, CostClass.AVG_POOL, CostClass.GLOBAL_POOL):
        window, grid = op.kernel, op.grid
        if grid is not None:  # the windows depend on the input's size: known only here
            rows, columns = adaptive_reads(dims.h_in, grid[0]), adaptive_reads(dims.w_in, grid[1])
            work = rows * columns * dims.c_in * batch
        elif window is None or cls is CostClass.GLOBAL_POOL:
            work = dims.h_in * dims.w_in * dims.c_in * batch  # a global pool reads its input once
        else:
            work = output * window[0] * window[1]
    else:
        work = mult_adds * batch
    found: list[tuple[str, Num]] = [
        (f"{cls}.overhead", 1),
        (f"{cls}.per_work", work),
        (f"{cls}.per_byte", moved),
    ]
    for part in parts(op, fold_bn):
        found += [(f"{part}.overhead", 1), (f"{part}.per_element", output)]
    return found


@dataclass(frozen=True, slots=True)
class CostModel:
    """The fitted model of one runtime on one device: seconds per unit of each of `TERMS`."""

    coefficients: Mapping[str, float]

    def op_seconds(
        self, op: Timed, dims: Dims, mult_adds: Num, moved: Num, batch: int, fold_bn: bool = False
    ) -> Real:
        """One op's time (arguments as `terms` takes them)."""
        seconds: Any = 0.0  # a float, or an array of them over a grid
        for term, amount in terms(op, dims, mult_adds, moved, batch, fold_bn):
            seconds = seconds + amount * self.coefficients[term]
        return cast(Real, seconds)

    @property
    def network_overhead(self) -> float:
        return self.coefficients[NETWORK_TERM]
