"""Decomposed ops exporters write, each read as the one op it computes: x * Sigmoid(x) (swish),
x * HardSigmoid(x) (hswish), the erf form of GELU, Transpose-LayerNormalization-Transpose (a
layer norm over the channels, affine when its scale is a weight rather than a constant; before
opset 17 as ReduceMean, Sub, Pow, ...), Reshape-Transpose-Reshape (a channel shuffle),
Transpose-Flatten (an H x W x C flatten), MatMul + Add of a bias (a linear), mbcalc's padded
pools (Pad, pool, Where or Div)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mbcalc.ingest.network import NodeKind
from mbcalc.ingest.onnx_graph import Graph, Mapped, attributes
from mbcalc.ingest.onnx_ops import matmul_linear, read_pad, read_pool, standard_hard_sigmoid

if TYPE_CHECKING:
    from onnx import NodeProto

_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def pattern(graph: Graph, index: int) -> Mapped | None:
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
    if node.op_type == "HardSigmoid" and not standard_hard_sigmoid(node):
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
    if node.op_type != "MatMul" or matmul_linear(graph, node) is None:
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
    padding = read_pad(graph, node) if node.op_type == "Pad" else None
    if padding is None:
        return None
    value = padding[1]["value"]
    pool = _next(graph, index, "MaxPool" if value == -math.inf else "AveragePool")
    window = None if pool is None else read_pool(graph, graph.nodes[pool])
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
