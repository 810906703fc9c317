"""One fused op as one plain layer of the spec language (a conv, a depthwise conv, an fc, a pool,
a norm ...), the arguments every layer shares (window, batch norm, activation, width scaling),
and the context an import decides once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from mbcalc.ingest.fuse import Op, refusal
from mbcalc.ingest.layers import (
    DEFAULT_ACTS,
    LOPSIDED,
    Layer,
    Value,
    is_depthwise,
    kernel_of,
    padding,
    stride_of,
    window,
)
from mbcalc.ingest.network import NodeKind, shared_prefix


@dataclass(slots=True)
class Context:
    """What the whole import decides once: the spec's batch-norm default, which op is the
    classifier (its width does not scale), what to do with unknown ops, and the free ops kept."""

    source: str
    batchnorm: bool
    classifier: int  # id() of the op that writes the network's output channels
    unknown_free: bool
    owners: Counter[str] = field(default_factory=Counter)  # nodes per module path (`owners`)
    free: list[str] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)  # every width alpha scales


def plain(op: Op, ctx: Context) -> Layer | None:
    """The one layer `op` is, or None for a free op imported with `--unknown free`."""
    kind = op.kind
    if kind is NodeKind.CONV:
        return _conv(op, ctx)
    if kind is NodeKind.LINEAR:
        return _fc(op, ctx)
    if kind in (NodeKind.POOL, NodeKind.GLOBAL_POOL, NodeKind.ADAPTIVE_POOL):
        return _pool(op, ctx)
    if kind not in _SIMPLE:
        return _unknown(op, ctx)
    layer_type, args = _SIMPLE[kind](op)
    common(args, layer_type, op.act, False, ctx)
    branches: list[list[Layer]] = [[]] if layer_type == "parallel" else []
    return Layer(layer_type, args, own_path(ctx, op), branches=branches)


def _fc(op: Op, ctx: Context) -> Layer:
    args: dict[str, Value] = {"out": op.shape[0]}
    if not op.node.attrs["bias"]:
        args["bias"] = False
    common(args, "fc", op.act, False, ctx)
    if id(op) != ctx.classifier:
        args["scale"] = True
        ctx.widths.append(op.shape[0])
    return Layer("fc", args, own_path(ctx, op))


def _groups(op: Op) -> dict[str, Value]:
    return {"groups": int_of(op.node.attrs["groups"])}


_SIMPLE: dict[NodeKind, Callable[[Op], tuple[str, dict[str, Value]]]] = {
    NodeKind.BATCH_NORM: lambda op: ("norm", {}),
    NodeKind.LAYER_NORM: lambda op: ("norm", {"kind": "layer"}),
    NodeKind.GROUP_NORM: lambda op: ("norm", {"kind": "group", **_groups(op)}),
    NodeKind.LAYER_SCALE: lambda op: ("layer_scale", {}),
    NodeKind.SHUFFLE: lambda op: ("shuffle", _groups(op)),
    NodeKind.SOFTMAX: lambda op: ("softmax", {}),
    # a concat or sum of one tensor: a copy, written as a parallel layer of one empty branch
    NodeKind.CONCAT: lambda op: ("parallel", {}),
    NodeKind.ADD: lambda op: ("parallel", {"merge": "add"}),
}
"""The layer type and arguments of each op kind that is one layer with nothing to decide."""


def _conv(op: Op, ctx: Context) -> Layer | None:
    if any(d != 1 for d in _tuple(op.node.attrs.get("dilation", (1, 1)))):
        return _unknown(op, ctx, "a dilated conv: the spec language has no dilation")
    args: dict[str, Value] = {}
    if is_depthwise(op):
        multiplier = op.shape[0] // op.shape_in[0]
        args.update(window_args(op))
        if multiplier != 1:
            args["multiplier"] = multiplier
        if op.node.attrs["bias"]:
            args["bias"] = True
        common(args, "depthwise", op.act, op.bn, ctx)
        if args.get("padding") == LOPSIDED:
            return _unknown(op, ctx, "its padding gives an output no padding of the spec gives")
        return Layer("depthwise", args, own_path(ctx, op))
    args["out"] = op.shape[0]
    args.update(window_args(op))
    groups = int_of(op.node.attrs["groups"])
    if groups != 1:
        args["groups"] = groups
    if op.node.attrs["bias"]:
        args["bias"] = True
    common(args, "conv", op.act, op.bn, ctx)
    scales(args, op, ctx)
    if args.get("padding") == LOPSIDED:
        return _unknown(op, ctx, "its padding gives an output no padding of the spec gives")
    return Layer("conv", args, own_path(ctx, op))


def _pool(op: Op, ctx: Context) -> Layer | None:
    args: dict[str, Value] = {}
    if op.node.attrs["pool"] == "max":
        args["kind"] = "max"
    if op.kind is NodeKind.GLOBAL_POOL or (
        op.kind is NodeKind.ADAPTIVE_POOL and op.node.attrs["output"] == (1, 1)
    ):
        args["global"] = True
    elif op.kind is NodeKind.ADAPTIVE_POOL:
        args["output"] = window(_tuple(op.node.attrs["output"]))
    else:
        kernel, stride = kernel_of(op), stride_of(op)
        args["kernel"] = window(kernel)
        if stride != kernel:
            args["stride"] = window(stride)
        pad = padding(op, default_same=False)
        if pad is not None:
            args["padding"] = pad
        if op.node.attrs.get("ceil"):
            args["ceil"] = True
    common(args, "pool", op.act, False, ctx)
    return Layer("pool", args, own_path(ctx, op))


def _unknown(op: Op, ctx: Context, why: str = "mbcalc has no layer for it") -> Layer | None:
    """None, the op imported as free where `--unknown free` allows it; else the refusal."""
    if op.shape != op.shape_in or len(op.inputs) != 1:
        raise refusal(
            op, ctx.source, f"{why}; it changes the tensor's shape, so no free op can stand for it"
        )
    if not ctx.unknown_free:
        raise refusal(op, ctx.source, why, "`--unknown free` imports it as a free op")
    ctx.free.append(f"node '{op.node.name}' (op {op.node.op or op.kind.value})")
    return None


def window_args(op: Op) -> dict[str, Value]:
    args: dict[str, Value] = {"kernel": window(kernel_of(op))}
    stride = stride_of(op)
    if stride != (1, 1):
        args["stride"] = window(stride)
    pad = padding(op, default_same=True)
    if pad is not None:
        args["padding"] = pad
    return args


def common(args: dict[str, Value], layer_type: str, act: str, bn: bool, ctx: Context) -> None:
    """`bn` where it differs from the spec's default, `act` where from the type's."""
    if layer_type in ("conv", "depthwise", "separable", "mbconv") and bn != ctx.batchnorm:
        args["bn"] = bn
    if act != DEFAULT_ACTS[layer_type]:
        args["act"] = act


def scales(args: dict[str, Value], op: Op, ctx: Context) -> None:
    """The classifier keeps its width under alpha; every other width scales."""
    if id(op) == ctx.classifier:
        args["scale"] = False
    else:
        ctx.widths.append(op.shape[0])
        if "expanded" in args:
            ctx.widths.append(int(args["expanded"]))  # type: ignore[arg-type]


def own_path(ctx: Context, *ops: Op) -> str:
    """The module path a layer made of `ops` is named after: the module that holds their nodes
    and nothing else, the outermost such (`features.0` for its conv, batch norm and activation;
    `classifier` for a linear beside a dropout), else the first node's module one level below
    the one they share (`layer1.0.conv1`, not `layer1.0`)."""
    paths = [path.split(".") for op in ops for path in op.paths if path]
    if not paths:
        return ""
    shared = shared_prefix(paths)
    if shared and ctx.owners[".".join(shared)] == len(paths):
        while len(shared) > 1 and ctx.owners[".".join(shared[:-1])] == len(paths):
            shared = shared[:-1]  # a module holding only these nodes names them best
        return ".".join(shared)
    return ".".join(paths[0][: len(shared) + 1])


def owners(ops: tuple[Op, ...]) -> Counter[str]:
    """How many nodes each module path (and each of its prefixes) holds."""
    counts: Counter[str] = Counter()
    for op in ops:
        for path in op.paths:
            parts = path.split(".") if path else []
            counts.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return counts


def int_of(value: object) -> int:
    assert isinstance(value, int)
    return value


def _tuple(value: object) -> tuple[int, ...]:
    assert isinstance(value, tuple)
    return tuple(int(v) for v in value)
