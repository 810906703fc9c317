"""The op table: one ONNX node (shapes inferred, constants folded) as one `NodeKind` with the
attributes that change a count, or, where an attribute is outside what mbcalc counts exactly,
`NodeKind.UNKNOWN` (its `op` the ONNX op type)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mbcalc.ingest.network import NodeKind, Pads, Shape
from mbcalc.ingest.onnx_graph import Found, Graph, Mapped, attributes, feature_inputs, given

if TYPE_CHECKING:
    from onnx import NodeProto

_SIMPLE_ACTS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "PRelu": "prelu", "Elu": "elu",
                "HardSwish": "hswish", "Sigmoid": "sigmoid", "Tanh": "tanh"}  # fmt: skip


def _unknown(graph: Graph, index: int) -> Mapped:
    return Mapped(NodeKind.UNKNOWN, {}, feature_inputs(graph, graph.nodes[index]), index)


def single(graph: Graph, index: int) -> Mapped:
    """One ONNX node through the op table."""
    node = graph.nodes[index]
    rule = _TABLE.get(node.op_type)
    if node.domain not in ("", "ai.onnx") or rule is None:
        return _unknown(graph, index)
    found = rule(graph, node)
    if found is None:
        return _unknown(graph, index)
    kind, attrs = found
    return Mapped(kind, attrs, feature_inputs(graph, node), index)


def _pair(values: object, default: int) -> tuple[int, int]:
    items = list(values) if isinstance(values, Sequence) else [default, default]
    return (int(items[0]), int(items[1])) if len(items) == 2 else (default, default)


def _window_pads(
    attrs: dict[str, object],
    size: Shape,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> Pads | None:
    """A conv's or pool's (top, left, bottom, right) padding, auto_pad resolved."""
    auto = attrs.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return (0, 0, 0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for length, k, s, d in zip(size, kernel, stride, dilation, strict=True):
            total = max((math.ceil(length / s) - 1) * s + (k - 1) * d + 1 - length, 0)
            small = total // 2
            begin = small if auto == "SAME_UPPER" else total - small
            begins.append(begin)
            ends.append(total - begin)
        return (begins[0], begins[1], ends[0], ends[1])
    pads = list(attrs.get("pads", [0, 0, 0, 0]))  # type: ignore[call-overload]
    if auto != "NOTSET" or len(pads) != 4 or min(pads) < 0:
        return None
    return (int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3]))


def _conv(graph: Graph, node: NodeProto) -> Found:
    attrs, weight = attributes(node), graph.weights.get(graph.resolve(node.input[1]))
    size = graph.batchless(node.input[0])
    if weight is None or len(weight) != 4 or size is None or len(size) != 3:
        return None
    kernel = _pair(attrs.get("kernel_shape", weight[2:]), 1)
    stride, dilation = _pair(attrs.get("strides"), 1), _pair(attrs.get("dilations"), 1)
    pads = _window_pads(attrs, size[1:], kernel, stride, dilation)
    if pads is None or kernel != tuple(weight[2:]):
        return None
    groups = int(attrs.get("group", 1))  # type: ignore[call-overload]
    bias = given(node, 2)
    return NodeKind.CONV, {
        "kernel": kernel, "stride": stride, "pads": pads, "dilation": dilation,
        "groups": groups, "bias": bias,
    }  # fmt: skip


def read_pool(graph: Graph, node: NodeProto) -> Found:
    attrs, size = attributes(node), graph.batchless(node.input[0])
    if size is None or len(size) != 3 or (len(node.output) > 1 and node.output[1]):
        return None
    kernel = _pair(attrs.get("kernel_shape"), 0)
    stride, dilation = _pair(attrs.get("strides"), 1), _pair(attrs.get("dilations"), 1)
    pads = _window_pads(attrs, size[1:], kernel, stride, dilation)
    if pads is None or dilation != (1, 1) or 0 in kernel:
        return None
    kind = "max" if node.op_type == "MaxPool" else "avg"
    return NodeKind.POOL, {
        "pool": kind, "kernel": kernel, "stride": stride, "pads": pads,
        "ceil": bool(attrs.get("ceil_mode", 0)),
        "count_pad": kind == "avg" and bool(attrs.get("count_include_pad", 0)),
    }  # fmt: skip


def _global_pool(graph: Graph, node: NodeProto) -> Found:
    return NodeKind.GLOBAL_POOL, {"pool": "max" if "Max" in node.op_type else "avg", "keep": True}


def _reduce(graph: Graph, node: NodeProto) -> Found:
    """ReduceMean / ReduceMax over H and W: a global pool, keeping the dims or not."""
    attrs, rank = attributes(node), len(graph.shapes.get(graph.resolve(node.input[0]), ()))
    given = graph.value(node, 1)
    axes = attrs.get("axes") if given is None else given.tolist()
    if rank != 4 or not isinstance(axes, list) or {int(a) % 4 for a in axes} != {2, 3}:
        return None
    pool = "max" if node.op_type == "ReduceMax" else "avg"
    return NodeKind.GLOBAL_POOL, {"pool": pool, "keep": bool(attrs.get("keepdims", 1))}


def read_pad(graph: Graph, node: NodeProto) -> Found:
    attrs = attributes(node)
    stated = graph.value(node, 1)
    pads = attrs.get("pads") if stated is None else stated.tolist()
    value_array = graph.value(node, 2)
    value = float(attrs.get("value", 0.0) if value_array is None else value_array.reshape(-1)[0])  # type: ignore[arg-type]
    if attrs.get("mode", "constant") != "constant" or graph.value(node, 3) is not None:
        return None
    if given(node, 2) and value_array is None:
        return None
    if not isinstance(pads, list) or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        return None
    top, left, bottom, right = (int(pads[i]) for i in (2, 3, 6, 7))
    if min(top, left, bottom, right) < 0:
        return None
    return NodeKind.PAD, {"pads": (top, left, bottom, right), "value": value}


def _clip(graph: Graph, node: NodeProto) -> Found:
    """Clip(0, 6) is relu6, Clip(0) and Clip(0, inf) relu."""
    attrs = attributes(node)
    low_value, high_value = graph.value(node, 1), graph.value(node, 2)
    low = attrs.get("min") if low_value is None else float(low_value.reshape(-1)[0])
    high = attrs.get("max") if high_value is None else float(high_value.reshape(-1)[0])
    for position in (1, 2):
        if (
            position < len(node.input)
            and node.input[position]
            and graph.value(node, position) is None
        ):
            return None
    if low != 0.0:
        return None
    if high == 6.0:
        return NodeKind.ACT, {"act": "relu6"}
    if high is None or high == math.inf:
        return NodeKind.ACT, {"act": "relu"}
    return None


def standard_hard_sigmoid(node: NodeProto) -> bool:
    attrs = attributes(node)
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))  # type: ignore[arg-type]
    return math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)


def _act(graph: Graph, node: NodeProto) -> Found:
    if node.op_type == "HardSigmoid":
        return (NodeKind.ACT, {"act": "hsigmoid"}) if standard_hard_sigmoid(node) else None
    if node.op_type == "Gelu":
        exact = attributes(node).get("approximate", "none") == "none"
        return (NodeKind.ACT, {"act": "gelu"}) if exact else None
    return NodeKind.ACT, {"act": _SIMPLE_ACTS[node.op_type]}


def _gemm(graph: Graph, node: NodeProto) -> Found:
    """A Gemm on a flat input with a weight matrix is a linear (alpha and beta scale nothing
    that is counted)."""
    attrs = attributes(node)
    size, weight = graph.batchless(node.input[0]), graph.weights.get(graph.resolve(node.input[1]))
    if size is None or len(size) != 1 or weight is None or len(weight) != 2:
        return None
    if attrs.get("transA", 0):
        return None
    out, features = weight if attrs.get("transB", 0) else weight[::-1]
    bias = given(node, 2)
    if features != size[0] or graph.batchless(node.output[0]) != (out,):
        return None
    return NodeKind.LINEAR, {"bias": bias}


def matmul_linear(graph: Graph, node: NodeProto) -> Found:
    size, weight = graph.batchless(node.input[0]), graph.weights.get(graph.resolve(node.input[1]))
    if size is None or len(size) != 1 or weight is None or len(weight) != 2 or weight[0] != size[0]:
        return None
    return NodeKind.LINEAR, {"bias": False}


def _batch_norm(graph: Graph, node: NodeProto) -> Found:
    return NodeKind.BATCH_NORM, {}


def _group_norm(graph: Graph, node: NodeProto) -> Found:
    return NodeKind.GROUP_NORM, {"groups": int(attributes(node)["num_groups"]), "affine": True}  # type: ignore[call-overload]


def _flatten(graph: Graph, node: NodeProto) -> Found:
    size = graph.batchless(node.input[0])
    if attributes(node).get("axis", 1) != 1 or size is None:
        return None
    return (NodeKind.FLATTEN, {}) if len(size) > 1 else (NodeKind.IDENTITY, {})


def _reshape(graph: Graph, node: NodeProto) -> Found:
    """A reshape (or Squeeze, Unsqueeze) that flattens (C, H, W), or that only adds or drops
    unit dimensions after the channels ((C,) to (C, 1, 1) and back); others are unknown."""
    before, after = graph.batchless(node.input[0]), graph.batchless(node.output[0])
    if before is None or after is None or math.prod(before) != math.prod(after):
        return None
    if before == after or (
        before[:1] == after[:1] and all(side == 1 for side in (*before[1:], *after[1:]))
    ):
        return NodeKind.IDENTITY, {}
    if len(before) == 3 and len(after) == 1:
        return NodeKind.FLATTEN, {}
    return None


def _channel_axis(graph: Graph, node: NodeProto, axis: int) -> bool:
    rank = len(graph.shapes.get(graph.resolve(node.input[0]), ()))
    return rank in (2, 4) and axis % rank == 1


def _concat(graph: Graph, node: NodeProto) -> Found:
    axis = int(attributes(node).get("axis", 1))  # type: ignore[call-overload]
    if not _channel_axis(graph, node, axis) or len(feature_inputs(graph, node)) != len(node.input):
        return None
    return NodeKind.CONCAT, {}


def _softmax(graph: Graph, node: NodeProto) -> Found:
    default = 1 if graph.opset < 13 else -1
    axis = int(attributes(node).get("axis", default))  # type: ignore[call-overload]
    size = graph.batchless(node.input[0]) or ()
    flat_over_pixels = graph.opset < 13 and math.prod(size[1:]) > 1
    if not _channel_axis(graph, node, axis) or flat_over_pixels:
        return None
    return NodeKind.SOFTMAX, {}


def _add(graph: Graph, node: NodeProto) -> Found:
    shapes = {graph.batchless(name) for name in node.input}
    if len(feature_inputs(graph, node)) != len(node.input) or len(shapes) != 1:
        return None
    return NodeKind.ADD, {}


def _mul(graph: Graph, node: NodeProto) -> Found:
    """Two feature maps: a product (the second may be (C, 1, 1)); a (C, 1, 1) weight: a layer
    scale."""
    features = feature_inputs(graph, node)
    if len(features) == 2:
        return NodeKind.MUL, {}
    size = graph.batchless(node.input[0])
    weight = graph.weights.get(graph.resolve(node.input[1]))
    if len(features) != 1 or features[0] != node.input[0] or not size or weight is None:
        return None
    if tuple(weight[-3:]) == (size[0], 1, 1) and math.prod(weight) == size[0]:
        return NodeKind.LAYER_SCALE, {}
    return None


def _slice(graph: Graph, node: NodeProto) -> Found:
    """A Slice of channels [start, stop) with step 1."""
    starts, ends = graph.value(node, 1), graph.value(node, 2)
    axes, steps = graph.value(node, 3), graph.value(node, 4)
    size = graph.batchless(node.input[0])
    if starts is None or ends is None or size is None or starts.size != 1:
        return None
    axis = 0 if axes is None else int(axes.reshape(-1)[0])
    if not _channel_axis(graph, node, axis) or (
        steps is not None and int(steps.reshape(-1)[0]) != 1
    ):
        return None
    if len(node.input) > 3 and node.input[3] and axes is None:
        return None
    channels = size[0]
    start, stop = (_clamp(int(v.reshape(-1)[0]), channels) for v in (starts, ends))
    return NodeKind.SLICE, {"start": start, "stop": stop}


def _clamp(index: int, length: int) -> int:
    return min(max(index + length if index < 0 else index, 0), length)


_TABLE: dict[str, Callable[[Graph, NodeProto], Found]] = {
    "Conv": _conv, "AveragePool": read_pool, "MaxPool": read_pool,
    "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce, "ReduceMax": _reduce, "Pad": read_pad,
    "BatchNormalization": _batch_norm, "GroupNormalization": _group_norm,
    "Clip": _clip, "HardSigmoid": _act, "Gelu": _act, **dict.fromkeys(_SIMPLE_ACTS, _act),
    "Gemm": _gemm, "MatMul": matmul_linear, "Flatten": _flatten, "Reshape": _reshape,
    "Squeeze": _reshape, "Unsqueeze": _reshape,
    "Concat": _concat, "Softmax": _softmax, "Add": _add, "Sum": _add, "Mul": _mul,
    "Slice": _slice,
}  # fmt: skip


def split_slices(graph: Graph, index: int) -> list[tuple[str, int, int]] | None:
    """A Split along the channels: (output, start, stop) of each output, or None."""
    node = graph.nodes[index]
    attrs, size = attributes(node), graph.batchless(node.input[0])
    axis = int(attrs.get("axis", 0))  # type: ignore[call-overload]
    if size is None or not _channel_axis(graph, node, axis):
        return None
    outputs = [graph.batchless(name) for name in node.output]
    if any(shape is None for shape in outputs):
        return None
    result, start = [], 0
    for name, shape in zip(node.output, outputs, strict=True):
        assert shape is not None
        result.append((name, start, start + shape[0]))
        start += shape[0]
    return result if start == size[0] else None
