"""The op table: an ONNX graph's nodes (shapes inferred, constants folded) as `Node`s.

Each ONNX op maps onto one `NodeKind` with the attributes that change a count, or, where an
attribute is outside what mbcalc counts exactly, onto `NodeKind.UNKNOWN` (its `op` the ONNX op
type). Decomposed forms exporters write are recognised as the op they compute, one `Node` for
the whole pattern: x * Sigmoid(x) (swish), x * HardSigmoid(x) (hswish), the erf form of GELU,
Transpose-LayerNormalization-Transpose (a layer norm over the channels, affine when its scale is
a weight rather than a constant; before opset 17 as ReduceMean, Sub, Pow, ...),
Reshape-Transpose-Reshape (a channel shuffle), Transpose-Flatten (an H x W x C flatten), MatMul
+ Add of a bias (a linear), mbcalc's padded pools (Pad, pool, Where or Div).
Identity, Dropout and float-to-float Cast nodes are dropped, their outputs renamed to their
inputs. Shapes lose the batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mbcalc.ingest.network import Node, NodeKind, Pads, Shape
from mbcalc.ingest.onnx_fold import Array

if TYPE_CHECKING:
    from onnx import NodeProto

_FLOATS = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_COPIES = frozenset({"Identity", "Dropout"})
_SIMPLE_ACTS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "PRelu": "prelu", "Elu": "elu",
                "HardSwish": "hswish", "Sigmoid": "sigmoid", "Tanh": "tanh"}  # fmt: skip
_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


@dataclass
class Graph:
    """What the op table reads: the unfolded nodes in order and what is known of each tensor."""

    nodes: list[NodeProto]
    shapes: dict[str, tuple[int, ...]]  # ONNX shapes, with the batch
    values: dict[str, Array]  # folded constants
    weights: dict[str, tuple[int, ...]]  # the dims of the model's initializers (its weights)
    opset: int
    dtypes: dict[str, int] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, list[int]] = field(default_factory=dict)
    producers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, node in enumerate(self.nodes):
            for name in node.input:
                self.consumers.setdefault(name, []).append(index)
            self.producers.update(dict.fromkeys(node.output, index))

    def resolve(self, name: str) -> str:
        """The tensor a name stands for once dropped copies are renamed away."""
        while name in self.alias:
            name = self.alias[name]
        return name

    def is_constant(self, name: str) -> bool:
        name = self.resolve(name)
        return name in self.values or name in self.weights

    def only_consumer(self, tensor: str) -> int | None:
        """The index of the one node reading `tensor`, if exactly one does."""
        readers = self.consumers.get(tensor, [])
        return readers[0] if len(readers) == 1 else None

    def value(self, node: NodeProto, position: int) -> Array | None:
        """The folded value of the node's input at `position`, if there is one."""
        if position >= len(node.input) or not node.input[position]:
            return None
        return self.values.get(self.resolve(node.input[position]))

    def batchless(self, name: str) -> Shape | None:
        shape = self.shapes.get(self.resolve(name))
        return None if shape is None or not shape else tuple(shape[1:])


def attributes(node: NodeProto) -> dict[str, object]:
    """The node's attributes as Python values (strings decoded)."""
    from onnx import helper

    result: dict[str, object] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        result[attr.name] = value.decode() if isinstance(value, bytes) else value
    return result


def module_path(node: NodeProto) -> str:
    """The module that made the node: from the dynamo exporter's name scopes or the
    TorchScript exporter's node name ("/ops.4/conv/Conv" -> "ops.4.conv")."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            scopes = [part.strip(" '\"") for part in prop.value.strip("[]").split(",")]
            return scopes[-2] if len(scopes) >= 2 else ""
    if node.name.startswith("/"):
        return ".".join(part for part in node.name[1:].split("/")[:-1] if part)
    return ""


@dataclass(frozen=True, slots=True)
class Mapped:
    """One op (or pattern) mapped: kind, attrs, the feature inputs, the last node's index."""

    kind: NodeKind
    attrs: dict[str, object]
    inputs: tuple[str, ...]
    last: int
    shape: Shape | None = None  # the output's (C, H, W) where the last node's is H x W x C


def read_nodes(graph: Graph) -> list[Node]:
    """The graph's nodes as `Node`s, in order; copies dropped, patterns fused."""
    taken: set[int] = set()
    result: list[Node] = []
    names: set[str] = set()
    for index, node in enumerate(graph.nodes):
        if index in taken:
            continue
        if _is_copy(graph, node):
            graph.alias[node.output[0]] = node.input[0]
            continue
        name = node.name if node.name and node.name not in names else f"{node.op_type}_{index}"
        names.add(name)
        slices = split_nodes(graph, index) if node.op_type == "Split" else None
        if slices is not None:
            result.extend(_slices(graph, node, name, slices))
            continue
        mapped = _pattern(graph, index) or _single(graph, index)
        span = _pattern_nodes(graph, index, mapped.last)
        taken.update(span)
        output = graph.nodes[mapped.last].output[0]
        op = "+".join(graph.nodes[position].op_type for position in sorted(span))
        result.append(
            Node(
                name=name,
                kind=mapped.kind,
                inputs=tuple(graph.resolve(tensor) for tensor in mapped.inputs),
                output=output,
                shape=mapped.shape or graph.batchless(output) or (),
                path=_common_path([module_path(graph.nodes[at]) for at in sorted(span)]),
                op=op,
                attrs=mapped.attrs,
            )
        )
    return result


def _common_path(paths: list[str]) -> str:
    """The module holding all of a pattern's nodes: their paths' common dotted prefix."""
    parts = [path.split(".") for path in paths]
    common = []
    for names in zip(*parts, strict=False):
        if len(set(names)) != 1:
            break
        common.append(names[0])
    return ".".join(common)


def _slices(
    graph: Graph, node: NodeProto, name: str, slices: list[tuple[str, int, int]]
) -> list[Node]:
    """A Split's outputs, one SLICE node each."""
    source = graph.resolve(node.input[0])
    return [
        Node(
            name=f"{name}:{number}",
            kind=NodeKind.SLICE,
            inputs=(source,),
            output=output,
            shape=graph.batchless(output) or (),
            path=module_path(node),
            op=node.op_type,
            attrs={"start": start, "stop": stop},
        )
        for number, (output, start, stop) in enumerate(slices)
    ]


def _pattern_nodes(graph: Graph, first: int, last: int) -> set[int]:
    """The nodes a pattern from `first` to `last` spans: both and those between that feed
    `last`."""
    span, stack = {first, last}, [last]
    while stack:
        for tensor in graph.nodes[stack.pop()].input:
            index = graph.producers.get(tensor)
            if index is not None and first < index < last and index not in span:
                span.add(index)
                stack.append(index)
    return span


def _is_copy(graph: Graph, node: NodeProto) -> bool:
    """Identity, Dropout (in inference) and a Cast from float to float: the same tensor."""
    if node.op_type in _COPIES:
        return True
    if node.op_type == "Cast" and not graph.is_constant(node.input[0]):
        target = attributes(node).get("to")
        return target in _FLOATS and graph.dtypes.get(graph.resolve(node.input[0])) in _FLOATS
    return False


def _features(graph: Graph, node: NodeProto) -> tuple[str, ...]:
    """The node's inputs that are neither weights nor folded constants."""
    return tuple(name for name in node.input if name and not graph.is_constant(name))


def _unknown(graph: Graph, index: int) -> Mapped:
    return Mapped(NodeKind.UNKNOWN, {}, _features(graph, graph.nodes[index]), index)


def _single(graph: Graph, index: int) -> Mapped:
    """One ONNX node through the op table."""
    node = graph.nodes[index]
    rule = _TABLE.get(node.op_type)
    if node.domain not in ("", "ai.onnx") or rule is None:
        return _unknown(graph, index)
    found = rule(graph, node)
    if found is None:
        return _unknown(graph, index)
    kind, attrs = found
    return Mapped(kind, attrs, _features(graph, node), index)


Found = tuple[NodeKind, dict[str, object]] | None


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
    bias = _given(node, 2)
    return NodeKind.CONV, {
        "kernel": kernel, "stride": stride, "pads": pads, "dilation": dilation,
        "groups": groups, "bias": bias,
    }  # fmt: skip


def _pool(graph: Graph, node: NodeProto) -> Found:
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


def _pad(graph: Graph, node: NodeProto) -> Found:
    attrs = attributes(node)
    given = graph.value(node, 1)
    pads = attrs.get("pads") if given is None else given.tolist()
    value_array = graph.value(node, 2)
    value = float(attrs.get("value", 0.0) if value_array is None else value_array.reshape(-1)[0])  # type: ignore[arg-type]
    if attrs.get("mode", "constant") != "constant" or graph.value(node, 3) is not None:
        return None
    if _given(node, 2) and value_array is None:
        return None
    if not isinstance(pads, list) or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        return None
    top, left, bottom, right = (int(pads[i]) for i in (2, 3, 6, 7))
    if min(top, left, bottom, right) < 0:
        return None
    return NodeKind.PAD, {"pads": (top, left, bottom, right), "value": value}


def _given(node: NodeProto, position: int) -> bool:
    """The node has its optional input at `position`."""
    return position < len(node.input) and node.input[position] != ""


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


def _hard_sigmoid_is_standard(node: NodeProto) -> bool:
    attrs = attributes(node)
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))  # type: ignore[arg-type]
    return math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)


def _act(graph: Graph, node: NodeProto) -> Found:
    if node.op_type == "HardSigmoid":
        return (NodeKind.ACT, {"act": "hsigmoid"}) if _hard_sigmoid_is_standard(node) else None
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
    bias = _given(node, 2)
    if features != size[0] or graph.batchless(node.output[0]) != (out,):
        return None
    return NodeKind.LINEAR, {"bias": bias}


def _matmul(graph: Graph, node: NodeProto) -> Found:
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
    """A reshape that flattens (C, H, W) or unflattens (F,) to (F, 1, 1); others are unknown."""
    before, after = graph.batchless(node.input[0]), graph.batchless(node.output[0])
    if before is None or after is None or math.prod(before) != math.prod(after):
        return None
    if before == after or (len(before) == 1 and after == (before[0], 1, 1)):
        return NodeKind.IDENTITY, {}
    if len(before) == 3 and len(after) == 1:
        return NodeKind.FLATTEN, {}
    return None


def _channel_axis(graph: Graph, node: NodeProto, axis: int) -> bool:
    rank = len(graph.shapes.get(graph.resolve(node.input[0]), ()))
    return rank in (2, 4) and axis % rank == 1


def _concat(graph: Graph, node: NodeProto) -> Found:
    axis = int(attributes(node).get("axis", 1))  # type: ignore[call-overload]
    if not _channel_axis(graph, node, axis) or len(_features(graph, node)) != len(node.input):
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
    if len(_features(graph, node)) != len(node.input) or len(shapes) != 1:
        return None
    return NodeKind.ADD, {}


def _mul(graph: Graph, node: NodeProto) -> Found:
    """Two feature maps: a product (the second may be (C, 1, 1)); a (C, 1, 1) weight: a layer
    scale."""
    features = _features(graph, node)
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
    "Conv": _conv, "AveragePool": _pool, "MaxPool": _pool,
    "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce, "ReduceMax": _reduce, "Pad": _pad,
    "BatchNormalization": _batch_norm, "GroupNormalization": _group_norm,
    "Clip": _clip, "HardSigmoid": _act, "Gelu": _act, **dict.fromkeys(_SIMPLE_ACTS, _act),
    "Gemm": _gemm, "MatMul": _matmul, "Flatten": _flatten, "Reshape": _reshape,
    "Concat": _concat, "Softmax": _softmax, "Add": _add, "Sum": _add, "Mul": _mul,
    "Slice": _slice,
}  # fmt: skip


def split_nodes(graph: Graph, index: int) -> list[tuple[str, int, int]] | None:
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


def _pattern(graph: Graph, index: int) -> Mapped | None:
    """A decomposed op starting at node `index`, as one mapped op."""
    for match in _PATTERNS:
        found = match(graph, index)
        if found is not None:
            return found
    return None


def _next(graph: Graph, index: int, op: str) -> int | None:
    """The one node reading node `index`'s output, if it is an `op`."""
    reader = graph.only_consumer(graph.nodes[index].output[0])
    if reader is None or graph.nodes[reader].op_type != op:
        return None
    return reader


def _gated(graph: Graph, index: int) -> Mapped | None:
    """x * Sigmoid(x) is swish, x * HardSigmoid(1/6, 1/2)(x) hswish."""
    node = graph.nodes[index]
    gates = {"Sigmoid": "swish", "HardSigmoid": "hswish"}
    if node.op_type not in gates:
        return None
    if node.op_type == "HardSigmoid" and not _hard_sigmoid_is_standard(node):
        return None
    mul = _next(graph, index, "Mul")
    if mul is None:
        return None
    x = graph.resolve(node.input[0])
    others = [graph.resolve(name) for name in graph.nodes[mul].input if name != node.output[0]]
    if others != [x]:
        return None
    return Mapped(NodeKind.ACT, {"act": gates[node.op_type]}, (node.input[0],), mul)


def _scalar(graph: Graph, node: NodeProto, expected: float) -> bool:
    """One of the node's inputs is the folded scalar `expected`."""
    for position in range(len(node.input)):
        value = graph.value(node, position)
        if value is not None and value.size == 1:
            return math.isclose(float(value.reshape(-1)[0]), expected, rel_tol=1e-6)
    return False


def _erf_gelu(graph: Graph, index: int) -> Mapped | None:
    """Div(x, sqrt 2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5): the exact GELU."""
    node = graph.nodes[index]
    if node.op_type != "Div" or not _scalar(graph, node, math.sqrt(2)):
        return None
    erf = _next(graph, index, "Erf")
    add = None if erf is None else _next(graph, erf, "Add")
    mul = None if add is None else _next(graph, add, "Mul")
    half = None if mul is None else _next(graph, mul, "Mul")
    if add is None or mul is None or half is None:
        return None
    x = graph.resolve(node.input[0])
    mul_inputs = {graph.resolve(name) for name in graph.nodes[mul].input}
    if not _scalar(graph, graph.nodes[add], 1.0) or x not in mul_inputs:
        return None
    if not _scalar(graph, graph.nodes[half], 0.5):
        return None
    return Mapped(NodeKind.ACT, {"act": "gelu"}, (node.input[0],), half)


def _perm(graph: Graph, index: int | None, perm: list[int]) -> bool:
    return index is not None and attributes(graph.nodes[index]).get("perm") == perm


def _nhwc(graph: Graph, index: int) -> Mapped | None:
    """Transpose to N x H x W x C, then LayerNormalization over C (or its decomposed form)
    and back: a layer norm over the channels (without the way back when a Flatten follows, the
    exporter having cancelled it against the flatten's own transpose); or then Flatten: an
    fc's flatten in H x W x C order."""
    node = graph.nodes[index]
    if node.op_type != "Transpose" or not _perm(graph, index, _TO_NHWC):
        return None
    norm = _next(graph, index, "LayerNormalization")
    if norm is not None and attributes(graph.nodes[norm]).get("axis", -1) not in (-1, 3):
        norm = None
    affine = norm is not None and graph.resolve(graph.nodes[norm].input[1]) in graph.weights
    decomposed = _decomposed_norm(graph, index) if norm is None else None
    if decomposed is not None:
        norm, affine = decomposed
    if norm is not None:
        back = _next(graph, norm, "Transpose")
        if back is not None and _perm(graph, back, _TO_NCHW):
            return Mapped(NodeKind.LAYER_NORM, {"affine": affine}, (node.input[0],), back)
        if _flattens(graph, _next(graph, norm, "Flatten") or _next(graph, norm, "Reshape")):
            size = graph.batchless(node.input[0])
            return Mapped(NodeKind.LAYER_NORM, {"affine": affine}, (node.input[0],), norm, size)
    if _flattens(graph, _next(graph, index, "Flatten") or _next(graph, index, "Reshape")):
        flat = _next(graph, index, "Flatten") or _next(graph, index, "Reshape")
        assert flat is not None
        return Mapped(NodeKind.FLATTEN, {}, (node.input[0],), flat)
    return None


def _reader(graph: Graph, index: int, op: str, expected: int = 1) -> int | None:
    """The one `op` node among the `expected` nodes reading node `index`'s output."""
    readers = graph.consumers.get(graph.nodes[index].output[0], [])
    found = [at for at in readers if graph.nodes[at].op_type == op]
    return found[0] if len(readers) == expected and len(found) == 1 else None


def _over_last_axis(graph: Graph, index: int | None) -> bool:
    """Node `index` is a ReduceMean over the last of four axes, keeping it."""
    if index is None:
        return False
    reduce = graph.nodes[index]
    given = graph.value(reduce, 1)
    axes = attributes(reduce).get("axes") if given is None else given.tolist()
    keep = attributes(reduce).get("keepdims", 1)
    return isinstance(axes, list) and [int(axis) % 4 for axis in axes] == [3] and keep == 1


def _decomposed_norm(graph: Graph, index: int) -> tuple[int, bool] | None:
    """After the Transpose at `index`: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div (a
    layer norm as opsets before 17 write it), then Mul and Add of its weights if it is
    affine; the last node's index and whether it is affine."""
    mean, centred = _reader(graph, index, "ReduceMean", 2), _reader(graph, index, "Sub", 2)
    if not _over_last_axis(graph, mean) or centred is None:
        return None
    square, divide = _reader(graph, centred, "Pow", 2), _reader(graph, centred, "Div", 2)
    variance = None if square is None else _next(graph, square, "ReduceMean")
    if divide is None or not _over_last_axis(graph, variance):
        return None
    assert variance is not None
    epsilon = _next(graph, variance, "Add")
    root = None if epsilon is None else _next(graph, epsilon, "Sqrt")
    if root is None or _next(graph, root, "Div") != divide:
        return None
    scale = _next(graph, divide, "Mul")
    shift = None if scale is None else _next(graph, scale, "Add")
    if scale is None or shift is None:
        return divide, False
    weights = [graph.resolve(graph.nodes[at].input[1]) for at in (scale, shift)]
    return (shift, True) if all(name in graph.weights for name in weights) else None


def _flattens(graph: Graph, index: int | None) -> bool:
    """Node `index` makes its input one vector per image."""
    if index is None:
        return False
    before = graph.batchless(graph.nodes[index].input[0])
    after = graph.batchless(graph.nodes[index].output[0])
    return before is not None and after == (math.prod(before),)


def _shuffle(graph: Graph, index: int) -> Mapped | None:
    """Reshape to (g, C/g, H, W), swap the two, reshape back: a channel shuffle of g groups."""
    node = graph.nodes[index]
    before = graph.batchless(node.input[0])
    split = graph.batchless(node.output[0])
    if node.op_type != "Reshape" or before is None or split is None or len(before) != 3:
        return None
    swap = _next(graph, index, "Transpose")
    back = None if swap is None else _next(graph, swap, "Reshape")
    if swap is None or back is None or not _perm(graph, swap, [0, 2, 1, 3, 4]):
        return None
    if (
        len(split) != 4
        or split[2:] != before[1:]
        or graph.batchless(graph.nodes[back].output[0]) != before
    ):
        return None
    return Mapped(NodeKind.SHUFFLE, {"groups": split[0]}, (node.input[0],), back)


def _linear_bias(graph: Graph, index: int) -> Mapped | None:
    """MatMul by a weight, then Add of a bias vector: a linear with a bias."""
    node = graph.nodes[index]
    if node.op_type != "MatMul" or _matmul(graph, node) is None:
        return None
    add = _next(graph, index, "Add")
    if add is None:
        return None
    others = [name for name in graph.nodes[add].input if name != node.output[0]]
    out = graph.batchless(node.output[0])
    bias = graph.weights.get(graph.resolve(others[0])) if len(others) == 1 else None
    if bias is None or out is None or math.prod(bias) != out[0]:
        return None
    return Mapped(NodeKind.LINEAR, {"bias": True}, (node.input[0],), add)


def _padded_pool(graph: Graph, index: int) -> Mapped | None:
    """mbcalc's PaddedPool: Pad(-inf), MaxPool, Where(a window holds input) is a max pool
    ignoring the padding; Pad(0), AveragePool, Div(the share of input pixels) an average pool
    not counting it. Where some window lies wholly in the padding (the Where's condition not
    all true) it is left to the op table."""
    node = graph.nodes[index]
    padding = _pad(graph, node) if node.op_type == "Pad" else None
    if padding is None:
        return None
    value = padding[1]["value"]
    pool = _next(graph, index, "MaxPool" if value == -math.inf else "AveragePool")
    window = None if pool is None else _pool(graph, graph.nodes[pool])
    if pool is None or window is None or window[1]["pads"] != (0, 0, 0, 0):
        return None
    if value == -math.inf:
        last = _next(graph, pool, "Where")
        condition = None if last is None else graph.value(graph.nodes[last], 0)
        if last is None or condition is None or not bool(condition.all()):
            return None
    else:
        last = _next(graph, pool, "Div")
        divisor = None if last is None else graph.value(graph.nodes[last], 1)
        if last is None or divisor is None or value != 0.0:
            return None
    attrs = {**window[1], "pads": padding[1]["pads"], "count_pad": False}
    return Mapped(NodeKind.POOL, attrs, (node.input[0],), last)


_PATTERNS = (_gated, _erf_gelu, _nhwc, _shuffle, _linear_bias, _padded_pool)
