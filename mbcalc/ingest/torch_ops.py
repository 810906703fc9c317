"""The aten ops of a `torch.export` graph, each mapped onto a `NodeKind` with its attributes.

A handler reads one call (`Call`: its arguments by name, the shapes around it) and gives a
`Mapped` op, or None when the call's form is one mbcalc cannot count exactly: the reader then
keeps it as `NodeKind.UNKNOWN`. Shapes here are without the batch dimension, as in the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mbcalc.ingest.network import NodeKind, Pads, Shape

Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Call:
    """One aten call: `op` ("aten.conv2d.default"), its arguments by the schema's names (tensors
    as the names of the graph's values), the output's shape, and the shapes of the values."""

    op: str
    args: dict[str, object]
    shape: Shape
    shapes: dict[str, Shape]  # every tensor value of the graph, by name: activations, weights
    weights: frozenset[str]  # the names of parameters, buffers and constants (not activations)

    def tensor(self, name: str) -> str | None:
        """The activation the argument `name` holds, or None (a weight, a number, nothing)."""
        value = self.args.get(name)
        return value if isinstance(value, str) and value not in self.weights else None

    def weight(self, name: str) -> Shape | None:
        """The full shape of the weight the argument `name` holds, or None."""
        value = self.args.get(name)
        return self.shapes[value] if isinstance(value, str) and value in self.weights else None


@dataclass(frozen=True, slots=True)
class Mapped:
    """A call as a network node: its kind, the activations it reads, its attributes."""

    kind: NodeKind
    inputs: tuple[str, ...]
    attrs: dict[str, object] = field(default_factory=dict)


Handler = Callable[[Call], Mapped | None]


def pair(value: object, default: int) -> Pair | None:
    """A 2-D size argument ([k] or [kh, kw] or k) as (h, w); `default` where it is empty."""
    if isinstance(value, int):
        return value, value
    if isinstance(value, Sequence) and all(isinstance(item, int) for item in value):
        items = [int(item) for item in value] or [default]
        if len(items) == 1:
            return items[0], items[0]
        if len(items) == 2:
            return items[0], items[1]
    return None


def torch_pads(pads: object) -> Pads | None:
    """F.pad's [left, right, top, bottom] (the last dimension first) as Pads (top first)."""
    if isinstance(pads, Sequence) and all(isinstance(item, int) for item in pads):
        items = [int(item) for item in pads]
        if len(items) == 2:
            items += [0, 0]
        if len(items) == 4:
            left, right, top, bottom = items
            return top, left, bottom, right
    return None


def _feature_map(call: Call) -> str | None:
    """The (C, H, W) activation the call reads (its `input` or `self` argument)."""
    tensor = call.tensor("input") or call.tensor("self")
    return tensor if tensor is not None and len(call.shapes[tensor]) == 3 else None


def _conv_pads(call: Call, kernel: Pair, dilation: Pair) -> Pads | None:
    padding = call.args.get("padding")
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":  # PyTorch's: the odd pixel of the total at the bottom and right
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return (
            totals[0] // 2,
            totals[1] // 2,
            totals[0] - totals[0] // 2,
            totals[1] - totals[1] // 2,
        )
    both = pair(padding, 0)
    return None if both is None else (both[0], both[1], both[0], both[1])


def conv(call: Call) -> Mapped | None:
    """conv2d (or a convolution that is not transposed) over a feature map."""
    source, weight = _feature_map(call), call.weight("weight")
    if source is None or weight is None or len(weight) != 4 or call.args.get("transposed"):
        return None
    kernel = (weight[2], weight[3])
    stride, dilation = pair(call.args.get("stride"), 1), pair(call.args.get("dilation"), 1)
    groups = call.args.get("groups")
    if stride is None or dilation is None or not isinstance(groups, int):
        return None
    if call.args.get("output_padding") not in (None, [0, 0], [0]):
        return None
    pads = _conv_pads(call, kernel, dilation)
    if pads is None:
        return None
    attrs: dict[str, object] = {"kernel": kernel, "stride": stride, "pads": pads}
    attrs["dilation"] = dilation
    attrs |= {"groups": groups, "bias": call.args.get("bias") is not None}
    return Mapped(NodeKind.CONV, (source,), attrs)


def pad(call: Call) -> Mapped | None:
    """Constant padding of the height and width (F.pad, ZeroPad2d)."""
    source, pads = _feature_map(call), torch_pads(call.args.get("pad"))
    if source is None or pads is None or call.args.get("mode", "constant") != "constant":
        return None
    value = call.args.get("value")
    value = 0.0 if value is None else value
    if not isinstance(value, int | float):
        return None
    return Mapped(NodeKind.PAD, (source,), {"pads": pads, "value": float(value)})


def _affine(call: Call) -> bool:
    return call.weight("weight") is not None and call.weight("bias") is not None


def batch_norm(call: Call) -> Mapped | None:
    """A batch norm with its scale and shift, over the channels of a feature map."""
    source = _feature_map(call)
    if source is None or not _affine(call) or call.args.get("training"):
        return None
    return Mapped(NodeKind.BATCH_NORM, (source,))


def group_norm(call: Call) -> Mapped | None:
    """A group norm with its scale and shift."""
    source, groups = _feature_map(call), call.args.get("num_groups")
    if source is None or not _affine(call) or not isinstance(groups, int):
        return None
    return Mapped(NodeKind.GROUP_NORM, (source,), {"groups": groups})


def _activation(name: str) -> Handler:
    def handler(call: Call) -> Mapped | None:
        source = call.tensor("self") or call.tensor("input")
        return None if source is None else Mapped(NodeKind.ACT, (source,), {"act": name})

    return handler


def hardtanh(call: Call) -> Mapped | None:
    """ReLU6 is hardtanh(0, 6); other bounds are no activation of the spec language."""
    if (call.args.get("min_val"), call.args.get("max_val")) != (0.0, 6.0):
        return None
    return _activation("relu6")(call)


def linear(call: Call) -> Mapped | None:
    """A fully connected layer on a flat input."""
    source, weight = call.tensor("input"), call.weight("weight")
    if source is None or weight is None or len(call.shapes[source]) != 1 or len(call.shape) != 1:
        return None
    return Mapped(NodeKind.LINEAR, (source,), {"bias": call.args.get("bias") is not None})


def matrix_product(call: Call) -> Mapped | None:
    """A flat input times an (in, out) weight (mm, matmul), plus an (out,) bias (addmm): a
    fully connected layer written out."""
    with_bias = call.op == "aten.addmm.default"
    source = call.tensor("mat1" if with_bias else "self")
    weight = call.weight("other" if call.op == "aten.matmul.default" else "mat2")
    if source is None or len(call.shapes[source]) != 1 or len(call.shape) != 1:
        return None
    if weight != (call.shapes[source][0], call.shape[0]):
        return None
    if with_bias and (call.args.get("beta"), call.args.get("alpha")) != (1, 1):
        return None
    if with_bias and call.weight("self") not in ((call.shape[0],), (1, call.shape[0])):
        return None
    return Mapped(NodeKind.LINEAR, (source,), {"bias": with_bias})


def _window(call: Call) -> dict[str, object] | None:
    kernel = pair(call.args.get("kernel_size"), 0)
    stride = pair(call.args.get("stride"), 0)
    padding = pair(call.args.get("padding"), 0)
    if kernel is None or stride is None or padding is None:
        return None
    ceil = call.args.get("ceil_mode")
    pads = (padding[0], padding[1], padding[0], padding[1])
    return {"kernel": kernel, "stride": stride if stride != (0, 0) else kernel, "pads": pads,
            "ceil": bool(ceil)}  # fmt: skip


def max_pool(call: Call) -> Mapped | None:
    """A max pool without dilation."""
    source, window = _feature_map(call), _window(call)
    if source is None or window is None or pair(call.args.get("dilation"), 1) != (1, 1):
        return None
    return Mapped(NodeKind.POOL, (source,), {"pool": "max", **window, "count_pad": False})


def avg_pool(call: Call) -> Mapped | None:
    """An average pool dividing by its window's size (no divisor override)."""
    source, window = _feature_map(call), _window(call)
    if source is None or window is None or call.args.get("divisor_override") is not None:
        return None
    count_pad = bool(call.args.get("count_include_pad", True))
    return Mapped(NodeKind.POOL, (source,), {"pool": "avg", **window, "count_pad": count_pad})


def _adaptive(pool: str) -> Handler:
    def handler(call: Call) -> Mapped | None:
        source = _feature_map(call)
        if source is None or len(call.shape) != 3:
            return None
        output = (call.shape[1], call.shape[2])
        if output == (1, 1):
            return Mapped(NodeKind.GLOBAL_POOL, (source,), {"pool": pool, "keep": True})
        return Mapped(NodeKind.ADAPTIVE_POOL, (source,), {"pool": pool, "output": output})

    return handler


def _global(pool: str) -> Handler:
    def handler(call: Call) -> Mapped | None:
        source, dims = _feature_map(call), call.args.get("dim")
        if source is None or not isinstance(dims, Sequence) or call.args.get("dtype"):
            return None
        if sorted(int(dim) % 4 for dim in dims) != [2, 3]:
            return None
        keep = bool(call.args.get("keepdim"))
        return Mapped(NodeKind.GLOBAL_POOL, (source,), {"pool": pool, "keep": keep})

    return handler


def _channel_axis(call: Call, dim: object, rank: int) -> bool:
    """Whether `dim` of a batched tensor of `rank` (batch included) is its channel axis."""
    return isinstance(dim, int) and rank >= 2 and dim % rank == 1


def add(call: Call) -> Mapped | None:
    """A sum of two activations of one shape (alpha 1)."""
    first, second = call.tensor("self"), call.tensor("other")
    if first is None or second is None or call.args.get("alpha", 1) != 1:
        return None
    if not call.shapes[first] == call.shapes[second] == call.shape:
        return None
    return Mapped(NodeKind.ADD, (first, second))


def mul(call: Call) -> Mapped | None:
    """A product of two activations (a gate (C, 1, 1) or (C,) second), or a layer scale."""
    first, second = call.tensor("self"), call.tensor("other")
    if first is None or second is None:
        return _layer_scale(call, first or second, call.weight("other" if first else "self"))
    if call.shapes[second] == call.shape and call.shapes[first] != call.shape:
        first, second = second, first
    gate, channels = call.shapes[second], call.shape[0]
    if call.shapes[first] != call.shape or gate not in (call.shape, (channels, 1, 1), (channels,)):
        return None
    return Mapped(NodeKind.MUL, (first, second))


def _layer_scale(call: Call, source: str | None, scale: Shape | None) -> Mapped | None:
    """x times a learned (C, 1, 1) parameter."""
    if source is None or scale is None or len(call.shapes[source]) != 3:
        return None
    if scale not in ((call.shape[0], 1, 1), (1, call.shape[0], 1, 1)):
        return None
    return Mapped(NodeKind.LAYER_SCALE, (source,))


def cat(call: Call) -> Mapped | None:
    """A concatenation of activations along the channels."""
    tensors = call.args.get("tensors")
    if not isinstance(tensors, Sequence) or not tensors:
        return None
    names = [name for name in tensors if isinstance(name, str) and name not in call.weights]
    if len(names) != len(tensors):
        return None
    if not _channel_axis(call, call.args.get("dim"), len(call.shape) + 1):
        return None
    return Mapped(NodeKind.CONCAT, tuple(names))


def channel_slice(call: Call) -> Mapped | None:
    """x[:, start:stop] with step 1."""
    source = call.tensor("self")
    if source is None or call.args.get("step", 1) != 1:
        return None
    rank = len(call.shapes[source]) + 1
    if not _channel_axis(call, call.args.get("dim"), rank):
        return None
    channels = call.shapes[source][0]
    start, end = call.args.get("start"), call.args.get("end")
    start = 0 if start is None else start
    end = channels if end is None else end
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    start, stop = (min(max(bound + channels if bound < 0 else bound, 0), channels)
                   for bound in (start, end))  # fmt: skip
    return Mapped(NodeKind.SLICE, (source,), {"start": start, "stop": stop})


def softmax(call: Call) -> Mapped | None:
    """A softmax over the channels."""
    source = call.tensor("self")
    if source is None or not _channel_axis(call, call.args.get("dim"), len(call.shape) + 1):
        return None
    return Mapped(NodeKind.SOFTMAX, (source,))


def identity(call: Call) -> Mapped | None:
    """dropout (eval mode), a copy: free, the same tensor."""
    source = call.tensor("input") or call.tensor("self")
    return None if source is None else Mapped(NodeKind.IDENTITY, (source,))


ACTIVATIONS = {
    "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "prelu": "prelu",
    "elu": "elu", "gelu": "gelu", "hardswish": "hswish", "hardsigmoid": "hsigmoid",
    "sigmoid": "sigmoid", "silu": "swish", "tanh": "tanh",
}  # fmt: skip
"""Each aten activation (also in place: `relu_`) by the spec language's name (ReLU6 is
hardtanh(0, 6), read apart)."""

OPS: dict[str, Handler] = {
    "aten.conv2d.default": conv,
    "aten.conv2d.padding": conv,
    "aten.convolution.default": conv,
    "aten.pad.default": pad,
    "aten.constant_pad_nd.default": pad,
    "aten.batch_norm.default": batch_norm,
    "aten._native_batch_norm_legit_no_training.default": batch_norm,
    "aten.group_norm.default": group_norm,
    **{
        f"aten.{op}{inplace}.default": _activation(act)
        for op, act in ACTIVATIONS.items()
        for inplace in ("", "_")
    },
    "aten.hardtanh.default": hardtanh,
    "aten.hardtanh_.default": hardtanh,
    "aten.linear.default": linear,
    "aten.addmm.default": matrix_product,
    "aten.mm.default": matrix_product,
    "aten.matmul.default": matrix_product,
    "aten.max_pool2d.default": max_pool,
    "aten.max_pool2d_with_indices.default": max_pool,
    "aten.avg_pool2d.default": avg_pool,
    "aten.adaptive_avg_pool2d.default": _adaptive("avg"),
    "aten.adaptive_max_pool2d.default": _adaptive("max"),
    "aten.mean.dim": _global("avg"),
    "aten.amax.default": _global("max"),
    "aten.add.Tensor": add,
    "aten.add_.Tensor": add,
    "aten.mul.Tensor": mul,
    "aten.mul_.Tensor": mul,
    "aten.cat.default": cat,
    "aten.slice.Tensor": channel_slice,
    "aten.softmax.int": softmax,
    "aten._softmax.default": softmax,
    "aten.dropout.default": identity,
    "aten.feature_dropout.default": identity,
}
"""The handler of each aten op the reader maps; any other op is `NodeKind.UNKNOWN`."""

SPLITS = frozenset({"aten.chunk.default", "aten.split.Tensor", "aten.split_with_sizes.default"})
"""Ops giving a list of slices of their input, each taken by a getitem."""

TUPLES = frozenset({
    "aten._native_batch_norm_legit_no_training.default",
    "aten.max_pool2d_with_indices.default",
    "aten.adaptive_max_pool2d.default",
})  # fmt: skip
"""Ops giving a tuple whose first item is the value `OPS` maps; the rest are unused."""

VIEWS = frozenset({
    "aten.view.default", "aten.reshape.default", "aten._unsafe_view.default",
    "aten.flatten.using_ints", "aten.unflatten.int", "aten.unsqueeze.default",
    "aten.squeeze.dim", "aten.squeeze.dims", "aten.squeeze.default", "aten.permute.default",
    "aten.transpose.int", "aten.contiguous.default", "aten.clone.default",
    "aten.alias.default", "aten.detach.default",
})  # fmt: skip
"""Ops that only move or copy a tensor's elements: read as chains by `mbcalc.ingest.torch_forms`."""
