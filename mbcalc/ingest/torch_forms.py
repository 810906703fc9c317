"""Forms of several aten calls that are one op of the network.

- chains of views and copies (view, reshape, flatten, permute, transpose, contiguous, ...):
  the same tensor (`IDENTITY`), a flattening (`FLATTEN`, also mbcalc's own channels-last
  flatten: permute(0, 2, 3, 1) then flatten), or a channel shuffle (view to groups, transpose
  (1, 2), view back: `SHUFFLE`); any other chain is `UNKNOWN`;
- x * sigmoid(x): swish, and x * hardsigmoid(x): hard swish;
- permute(0, 2, 3, 1), layer_norm over the channels, permute(0, 3, 1, 2): `LAYER_NORM`;
- a constant pad then a pool without padding of its own: one `POOL` with the pads, when the
  two are exactly PyTorch's or TensorFlow's padded pool: zeros counted by an average, or
  excluded by dividing by each window's share of input pixels (a buffer checked here), or
  -inf for a maximum (with windows wholly in the padding set to 0, as mbcalc's `PaddedPool`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from mbcalc.ingest.network import NodeKind, Shape
from mbcalc.ingest.torch_ops import Mapped, pair, torch_pads


@dataclass(frozen=True, slots=True)
class Step:
    """One view or copy in a chain: its op, its permutation if it is one, its output's shape
    (without the batch)."""

    op: str
    permutation: tuple[int, ...] | None
    shape: Shape


def permutation(op: str, args: dict[str, object], rank: int) -> tuple[int, ...] | None:
    """The dimensions a permute or transpose reorders a batched tensor of `rank` into."""
    if op == "aten.permute.default":
        dims = args.get("dims")
        return tuple(int(dim) % rank for dim in dims) if isinstance(dims, list) else None
    if op == "aten.transpose.int":
        first, second = args.get("dim0"), args.get("dim1")
        if not isinstance(first, int) or not isinstance(second, int):
            return None
        order = list(range(rank))
        order[first % rank], order[second % rank] = order[second % rank], order[first % rank]
        return tuple(order)
    return None


def _squeezed(shape: Shape) -> Shape:
    return tuple(size for size in shape if size != 1)


def _moves_data(step: Step, shape: Shape) -> bool:
    """Whether a permutation reorders the elements of a tensor of `shape` (without the batch),
    rather than only moving dimensions of size 1."""
    if step.permutation is None:
        return False
    kept = [axis for axis in step.permutation if axis == 0 or shape[axis - 1] != 1]
    return kept != sorted(kept)


def chain_kind(source: Shape, steps: tuple[Step, ...]) -> Mapped | None:
    """What a chain of views from a tensor of shape `source` amounts to (inputs left empty),
    or None: not a form mbcalc knows."""
    shape = steps[-1].shape
    before = (source, *(step.shape for step in steps[:-1]))
    moves = [index for index, step in enumerate(steps) if _moves_data(step, before[index])]
    if not moves:
        if len(source) == 3 and shape == (math.prod(source),):
            return Mapped(NodeKind.FLATTEN, ())
        if _squeezed(shape) == _squeezed(source):
            return Mapped(NodeKind.IDENTITY, ())
        return None
    if len(moves) != 1:
        return None
    move = moves[0]
    channels_last = steps[move].permutation == (0, 2, 3, 1) and move == 0
    if channels_last and len(source) == 3 and shape == (math.prod(source),):
        return Mapped(NodeKind.FLATTEN, ())
    if move == 0 or steps[move].permutation != (0, 2, 1, 3, 4) or shape != source:
        return None
    grouped = steps[move - 1].shape
    if len(grouped) == 4 and grouped[0] * grouped[1] == source[0] and grouped[2:] == source[1:]:
        return Mapped(NodeKind.SHUFFLE, (), {"groups": grouped[0]})
    return None


@dataclass(frozen=True, slots=True)
class Fused:
    """Several calls read as one node: named by `principal` (its path and op too), writing
    the output of `tail`, the calls in `inside` not read on their own."""

    principal: str
    tail: str
    inside: frozenset[str]
    mapped: Mapped


class Graph(Protocol):
    """What the forms read of an exported graph (the reader gives it)."""

    def op(self, name: str) -> str:
        """A call's aten op ("aten.relu.default"), "" for other nodes."""

    def args(self, name: str) -> dict[str, object]:
        """A call's arguments by the schema's names, graph values by their names."""

    def users(self, name: str) -> list[str]:
        """The calls reading the value `name`."""

    def shape(self, name: str) -> Shape:
        """A value's shape (without the batch for activations)."""

    def is_weight(self, name: str) -> bool:
        """Whether `name` is a parameter, a buffer or a constant."""

    def share_matches(self, share: str, pool: str) -> bool:
        """Whether the buffer `share` is the share of input pixels in each window of `pool`."""


def _only_user(graph: Graph, name: str, op: str) -> str | None:
    users = graph.users(name)
    return users[0] if len(users) == 1 and graph.op(users[0]) == op else None


def gated_activation(graph: Graph, name: str) -> Fused | None:
    """sigmoid(x) (hardsigmoid(x)) whose one reader is x * it: swish (hswish)."""
    acts = {"aten.sigmoid.default": "swish", "aten.hardsigmoid.default": "hswish"}
    act = acts.get(graph.op(name))
    product = _only_user(graph, name, "aten.mul.Tensor")
    if act is None or product is None:
        return None
    source = graph.args(name).get("self")
    factors = graph.args(product)
    if not isinstance(source, str) or {factors.get("self"), factors.get("other")} != {
        source,
        name,
    }:
        return None
    return Fused(product, product, frozenset({name}), Mapped(NodeKind.ACT, (source,), {"act": act}))


def channels_layer_norm(graph: Graph, name: str) -> Fused | None:
    """permute(0, 2, 3, 1), layer_norm over the channels with scale and shift, and back."""
    args = graph.args(name)
    source = args.get("self")
    if graph.op(name) != "aten.permute.default" or not isinstance(source, str):
        return None
    norm = _only_user(graph, name, "aten.layer_norm.default")
    if permutation(graph.op(name), args, 4) != (0, 2, 3, 1) or norm is None:
        return None
    back = _only_user(graph, norm, "aten.permute.default")
    if back is None or permutation(graph.op(back), graph.args(back), 4) != (0, 3, 1, 2):
        return None
    norm_args = graph.args(norm)
    weights = (norm_args.get("weight"), norm_args.get("bias"))
    if norm_args.get("normalized_shape") != [graph.shape(source)[0]]:
        return None
    if not all(isinstance(weight, str) and graph.is_weight(weight) for weight in weights):
        return None
    return Fused(norm, back, frozenset({name, norm}), Mapped(NodeKind.LAYER_NORM, (source,)))


def padded_pool(graph: Graph, name: str) -> Fused | None:
    """A constant pad read only by a pool of no padding, dilation or ceil mode of its own."""
    args, pool = graph.args(name), None
    pads, value, source = torch_pads(args.get("pad")), args.get("value"), args.get("self")
    for kind in ("avg", "max"):
        pool = pool or _only_user(graph, name, f"aten.{kind}_pool2d.default")
    if pool is None or pads is None or min(pads) < 0 or not isinstance(source, str):
        return None
    if args.get("mode", "constant") != "constant":
        return None
    window = graph.args(pool)
    kernel, stride = pair(window.get("kernel_size"), 0), pair(window.get("stride"), 0)
    if kernel is None or stride is None or pair(window.get("padding"), 0) != (0, 0):
        return None
    if window.get("ceil_mode") or pair(window.get("dilation"), 1) not in (None, (1, 1)):
        return None
    stride = kernel if stride == (0, 0) else stride
    attrs: dict[str, object] = {"kernel": kernel, "stride": stride, "pads": pads, "ceil": False}
    inside = frozenset({name})
    if graph.op(pool) == "aten.max_pool2d.default":
        if value != float("-inf"):
            return None
        zeroed = _zeroed_where_empty(graph, pool)
        tail = zeroed or pool
        inside = inside | set(graph.users(pool)) - {zeroed} | {pool} if zeroed else inside
        mapped = Mapped(NodeKind.POOL, (source,), {"pool": "max", **attrs, "count_pad": False})
        return Fused(pool, tail, inside, mapped)
    if value not in (None, 0, 0.0) or window.get("divisor_override") is not None:
        return None
    if not window.get("count_include_pad", True):
        return None
    divided = _divided_by_share(graph, pool)
    tail = divided or pool
    inside = inside | {pool} if divided else inside
    mapped = Mapped(NodeKind.POOL, (source,), {"pool": "avg", **attrs, "count_pad": not divided})
    return Fused(pool, tail, inside, mapped)


def _divided_by_share(graph: Graph, pool: str) -> str | None:
    """The one reader of an average pool dividing it by each window's share of input pixels."""
    divide = _only_user(graph, pool, "aten.div.Tensor")
    if divide is None:
        return None
    args = graph.args(divide)
    share = args.get("other")
    if args.get("self") != pool or not isinstance(share, str) or not graph.is_weight(share):
        return None
    return divide if graph.share_matches(share, pool) else None


def _zeroed_where_empty(graph: Graph, pool: str) -> str | None:
    """where(share > 0, pool, zeros_like(pool)): 0 for windows wholly in the padding."""
    users = graph.users(pool)
    zeros = [user for user in users if graph.op(user) == "aten.zeros_like.default"]
    chosen = [user for user in users if graph.op(user) == "aten.where.self"]
    if len(users) != 2 or len(zeros) != 1 or len(chosen) != 1:
        return None
    args = graph.args(chosen[0])
    test = args.get("condition")
    if args.get("self") != pool or args.get("other") != zeros[0] or not isinstance(test, str):
        return None
    tested = graph.args(test)
    share = tested.get("self")
    if graph.op(test) != "aten.gt.Scalar" or tested.get("other") != 0:
        return None
    if not isinstance(share, str) or not graph.is_weight(share):
        return None
    return chosen[0] if graph.share_matches(share, pool) else None


FORMS = (gated_activation, channels_layer_norm, padded_pool)
"""The fused forms, each tried on every call before the calls are read one by one."""
