"""Nested ops read as the spec language's units: a depthwise conv and the 1x1 conv after it as
`separable`; expand, depthwise, squeeze-and-excite and linear projection (and the residual add)
as `mbconv`; a gate over a global pool as `se`; a residual as a `block`; branches as `parallel`.

Each pattern checks every argument that changes a count before it matches; what matches none
stays a plain layer (a conv, a pool, an fc ...), never a different count.
"""

from __future__ import annotations

from mbcalc.ingest.fuse import Op, refusal
from mbcalc.ingest.layers import (
    Layer,
    Value,
    is_depthwise,
    is_pointwise,
    kernel_of,
    shortest_ratio,
    stride_of,
)
from mbcalc.ingest.nesting import Item, Par, Seq
from mbcalc.ingest.network import NodeKind
from mbcalc.ingest.plain import Context, common, own_path, plain, scales, window_args

_GATES = ("sigmoid", "hsigmoid")


def units(seq: Seq, ctx: Context) -> list[Layer]:
    """The layers of a sequence, units recognised greedily from the left."""
    layers: list[Layer] = []
    index = 0
    while index < len(seq):
        found = _mbconv(seq, index, ctx, residual=False) or _separable(seq, index, ctx)
        if found is not None:
            layer, index = found
            layers.append(layer)
            continue
        layer_or_none = _item(seq[index], ctx)
        if layer_or_none is not None:
            layers.append(layer_or_none)
        index += 1
    return layers


def _item(item: Item, ctx: Context) -> Layer | None:
    if isinstance(item, Par):
        return _par(item, ctx)
    return plain(item, ctx)


# --- units -------------------------------------------------------------------------------------


def _separable(seq: Seq, i: int, ctx: Context) -> tuple[Layer, int] | None:
    if i + 1 >= len(seq):
        return None
    dw, pw = seq[i], seq[i + 1]
    if not (isinstance(dw, Op) and isinstance(pw, Op) and _plain_depthwise(dw)):
        return None
    if not (is_pointwise(pw) and pw.act == dw.act and pw.bn == dw.bn):
        return None
    args: dict[str, Value] = {"out": pw.shape[0]}
    args.update(window_args(dw))
    common(args, "separable", dw.act, dw.bn, ctx)
    scales(args, pw, ctx)
    return Layer("separable", args, own_path(ctx, dw, pw)), i + 2


def _mbconv(seq: Seq, i: int, ctx: Context, *, residual: bool) -> tuple[Layer, int] | None:
    """An inverted residual at seq[i:]: [1x1 expand, act A] k x k depthwise (act A), [se],
    1x1 linear projection; all with or all without batch norm."""
    j, expand = i, None
    first = seq[i] if i < len(seq) else None
    if isinstance(first, Op) and is_pointwise(first) and first.act != "none":
        expand, j = first, i + 1
    dw = seq[j] if j < len(seq) else None
    if not (isinstance(dw, Op) and _plain_depthwise(dw) and dw.act != "none"):
        return None
    if expand is not None and (expand.act != dw.act or expand.bn != dw.bn):
        return None
    unit_input = expand.shape_in if expand is not None else dw.shape_in
    if expand is not None and expand.shape[0] == unit_input[0]:
        return None  # the spec language leaves out an expansion to the same width
    se: tuple[int, str, str] | None = None
    j += 1
    candidate = seq[j] if j < len(seq) else None
    squeezed = _se_parts(candidate) if isinstance(candidate, Par) else None
    if squeezed is not None and squeezed[0] <= dw.shape[0]:  # an mbconv's `se` is a ratio
        se, j = squeezed, j + 1
    project = seq[j] if j < len(seq) else None
    if not (isinstance(project, Op) and is_pointwise(project) and project.act == "none"):
        return None
    if project.bn != dw.bn:
        return None
    args: dict[str, Value] = {"out": project.shape[0]}
    if expand is not None:
        args["expanded"] = expand.shape[0]
    args.update(window_args(dw))
    if se is not None:
        squeeze, se_act, gate = se
        args["se"] = shortest_ratio(squeeze, dw.shape[0])
        if se_act != dw.act:
            args["se_act"] = se_act
        if gate != "sigmoid":
            args["se_gate"] = gate
    auto = stride_of(dw) == (1, 1) and project.shape == unit_input
    if residual != auto:
        args["residual"] = "always" if residual else "never"
    common(args, "mbconv", dw.act, dw.bn, ctx)
    scales(args, project, ctx)
    return Layer("mbconv", args, own_path(ctx, *ops_of(seq[i : j + 1]))), j + 1


def _plain_depthwise(op: Op) -> bool:
    """A depthwise conv of multiplier 1 without bias (over one channel too: a unit's depthwise
    conv on a single channel is a 1-group conv all the same)."""
    channels = op.shape_in[0]
    one_group = op.kind is NodeKind.CONV and op.node.attrs["groups"] == channels == 1
    return (is_depthwise(op) or one_group) and op.shape[0] == channels and not op.node.attrs["bias"]


def _se_parts(par: Par) -> tuple[int, str, str] | None:
    """(squeeze width, act, gate) where `par` is a squeeze-and-excite: its input times the gate
    of two fcs (or 1x1 convs) with bias over its global average pool."""
    if par.merge.kind is not NodeKind.MUL or par.merge.act != "none" or len(par.branches) != 2:
        return None
    empty = [branch for branch in par.branches if not branch]
    gate = [branch for branch in par.branches if branch]
    if len(empty) != 1 or len(gate) != 1 or len(gate[0]) != 3:
        return None
    pool, reduce, expand = gate[0]
    if not (isinstance(pool, Op) and isinstance(reduce, Op) and isinstance(expand, Op)):
        return None
    channels = pool.shape_in[0]
    if (
        pool.kind is not NodeKind.GLOBAL_POOL
        or pool.node.attrs["pool"] != "avg"
        or pool.act != "none"
    ):
        return None
    if not (_se_fc(reduce) and _se_fc(expand) and expand.act in _GATES):
        return None
    if expand.shape[0] != channels or reduce.shape[0] != expand.shape_in[0]:
        return None
    return reduce.shape[0], reduce.act, expand.act


def _se_fc(op: Op) -> bool:
    """An fc with bias and no batch norm, or the 1x1 conv that is one on a 1 x 1 map."""
    if op.bn or not op.node.attrs.get("bias"):
        return False
    if op.kind is NodeKind.LINEAR:
        return True
    return (
        op.kind is NodeKind.CONV
        and kernel_of(op) == (1, 1)
        and op.node.attrs["groups"] == 1
        and op.shape_in[1:] == (1, 1)
    )


def _par(par: Par, ctx: Context) -> Layer:
    merge = par.merge
    path = own_path(ctx, *ops_of((par,)))
    if merge.kind is NodeKind.MUL:
        parts = _se_parts(par)
        if parts is None:
            raise refusal(
                merge,
                ctx.source,
                "multiplies two tensors in a way no layer of the spec language does (only a "
                "squeeze-and-excite's gate: an input times sigmoid(fc(fc(global average pool)))",
            )
        squeeze, act, gate = parts
        args: dict[str, Value] = (
            {"ratio": shortest_ratio(squeeze, merge.shape[0])}
            if squeeze <= merge.shape[0]
            else {"squeeze": squeeze}  # wider than its input: a fixed width, as no ratio gives
        )
        if act != "relu":
            args["act"] = act
        if gate != "sigmoid":
            args["gate"] = gate
        return Layer("se", args, path)
    if (
        merge.kind is NodeKind.ADD
        and len(par.branches) == 2
        and sum(not b for b in par.branches) == 1
    ):
        branch = next(b for b in par.branches if b)
        if merge.act == "none":
            found = _mbconv(branch, 0, ctx, residual=True)
            if found is not None and found[1] == len(branch):
                found[0].path = path  # the unit's module holds its residual add too
                return found[0]
        args = {"residual": True}
        if merge.act != "none":
            args["act"] = merge.act
        return Layer("block", args, path, layers=units(branch, ctx))
    args = {}
    branches = list(par.branches)
    if merge.kind is NodeKind.ADD:
        args["merge"] = "add"
    elif _split(par):
        args["split"] = True
        branches = [branch[1:] for branch in branches]
    if merge.act != "none":
        args["act"] = merge.act
    return Layer("parallel", args, path, branches=[units(b, ctx) for b in branches])


def _split(par: Par) -> bool:
    """Whether each of n branches starts with the k-th of n equal slices of the channels."""
    count = len(par.branches)
    for index, branch in enumerate(par.branches):
        first = branch[0] if branch else None
        if not (isinstance(first, Op) and first.kind is NodeKind.SLICE):
            return False
        channels = first.shape_in[0]
        if channels % count:
            return False
        part = channels // count
        if (first.node.attrs["start"], first.node.attrs["stop"]) != (
            index * part,
            (index + 1) * part,
        ):
            return False
    return True


def ops_of(items: Seq) -> list[Op]:
    """Every op of `items`, in order, a parallel item's merge after its branches."""
    ops: list[Op] = []
    for item in items:
        if isinstance(item, Par):
            for branch in item.branches:
                ops.extend(ops_of(branch))
            ops.append(item.merge)
        else:
            ops.append(item)
    return ops
