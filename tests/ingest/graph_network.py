"""mbcalc's own layer graph written in the form the readers give (`mbcalc.ingest.network`): the
recognizer's round trip without torch or onnx, as an exporter would lay the ops out (a conv, its
batch norm and its activation as three nodes; an fc as a flatten and a linear)."""

from __future__ import annotations

from mbcalc.core.graph import Graph, Op, window_pads
from mbcalc.core.ir import NETWORK_INPUT
from mbcalc.ingest.network import Network, Node, NodeKind, Shape
from mbcalc.kinds import OpKind


def network_of(graph: Graph, source: str = "graph") -> Network:
    """The graph's ops (but its auxiliary heads, which run in training only) as reader nodes."""
    nodes: list[Node] = []
    out_name: dict[int, str] = {NETWORK_INPUT: "input"}
    for op in graph.ops:
        if op.aux:
            continue
        nodes.extend(_nodes(op, [out_name[s] for s in op.sources], out_name))
    last = max(op.index for op in graph.ops if not op.aux)
    height, width = graph.resolution
    return Network(
        source=source,
        producer="mbcalc's layer graph",
        input="input",
        input_shape=(graph.spec.input_channels, height, width),
        output=out_name[last],
        nodes=tuple(nodes),
    )


def _chw(shape: tuple[int, int, int]) -> Shape:
    return (shape[2], shape[0], shape[1])


def _nodes(op: Op, inputs: list[str], out_name: dict[int, str]) -> list[Node]:
    name = op.name
    shape = _chw(op.output)
    nodes: list[Node] = []
    main = f"{name}:out"
    kind = op.kind
    if kind in (OpKind.CONV, OpKind.DEPTHWISE):
        assert op.kernel is not None
        assert op.stride is not None
        left, right, top, bottom = window_pads(op)
        attrs: dict[str, object] = {
            "kernel": op.kernel, "stride": op.stride, "pads": (top, left, bottom, right),
            "dilation": (1, 1), "groups": op.groups or 1, "bias": op.bias,
        }  # fmt: skip
        nodes.append(Node(name, NodeKind.CONV, tuple(inputs), main, shape, name, "conv", attrs))
        if op.bn:
            nodes.append(
                Node(f"{name}/bn", NodeKind.BATCH_NORM, (main,), f"{name}:bn", shape, name)
            )
            main = f"{name}:bn"
    elif kind is OpKind.FC:
        flat = (op.input[0] * op.input[1] * op.input[2],)
        nodes.append(
            Node(f"{name}/flat", NodeKind.FLATTEN, tuple(inputs), f"{name}:flat", flat, name)
        )
        attrs = {"bias": op.bias}
        nodes.append(
            Node(name, NodeKind.LINEAR, (f"{name}:flat",), main, (shape[0],), name, "fc", attrs)
        )
    elif kind is OpKind.POOL:
        pool = op.pool or "avg"
        if op.global_pool:
            nodes.append(
                Node(
                    name,
                    NodeKind.GLOBAL_POOL,
                    tuple(inputs),
                    main,
                    shape,
                    name,
                    "pool",
                    {"pool": pool, "keep": True},
                )
            )
        elif op.grid is not None:
            nodes.append(
                Node(
                    name,
                    NodeKind.ADAPTIVE_POOL,
                    tuple(inputs),
                    main,
                    shape,
                    name,
                    "pool",
                    {"pool": pool, "output": op.grid},
                )
            )
        else:
            assert op.kernel is not None
            assert op.stride is not None
            left, right, top, bottom = window_pads(op)
            attrs = {
                "pool": pool,
                "kernel": op.kernel,
                "stride": op.stride,
                "pads": (top, left, bottom, right),
                "ceil": False,
                "count_pad": True,
            }
            nodes.append(Node(name, NodeKind.POOL, tuple(inputs), main, shape, name, "pool", attrs))
    else:
        simple = {
            OpKind.ADD: NodeKind.ADD, OpKind.CONCAT: NodeKind.CONCAT, OpKind.SCALE: NodeKind.MUL,
            OpKind.SOFTMAX: NodeKind.SOFTMAX, OpKind.BATCH_NORM: NodeKind.BATCH_NORM,
            OpKind.LAYER_NORM: NodeKind.LAYER_NORM, OpKind.GROUP_NORM: NodeKind.GROUP_NORM,
            OpKind.LAYER_SCALE: NodeKind.LAYER_SCALE, OpKind.SHUFFLE: NodeKind.SHUFFLE,
            OpKind.SPLIT: NodeKind.SLICE,
        }[kind]  # fmt: skip
        attrs = {}
        if kind is OpKind.GROUP_NORM or kind is OpKind.SHUFFLE:
            attrs["groups"] = op.groups
        if kind is OpKind.SPLIT:
            part = op.output[2]
            attrs = {"start": (op.part or 0) * part, "stop": ((op.part or 0) + 1) * part}
        nodes.append(Node(name, simple, tuple(inputs), main, shape, name, kind.value, attrs))
    if op.act != "none":
        act = "swish" if op.act == "silu" else op.act
        nodes.append(
            Node(
                f"{name}/act",
                NodeKind.ACT,
                (main,),
                f"{name}:act",
                nodes[-1].shape,
                name,
                "act",
                {"act": act},
            )
        )
        main = f"{name}:act"
    out_name[op.index] = main
    return nodes
