"""ONNX models made by hand with onnx.helper, written to a file and read back with read_onnx."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mbcalc.ingest.network import Network, Node, Shape
from mbcalc.ingest.onnx_file import read_onnx

FLOAT = TensorProto.FLOAT


def weight(name: str, *dims: int) -> onnx.TensorProto:
    """A float initializer of the given dims (zeros: values never matter to the reader)."""
    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def ints(name: str, values: Sequence[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def scalar(name: str, value: float) -> onnx.TensorProto:
    """A float32 scalar initializer."""
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def make_model(
    nodes: Sequence[onnx.NodeProto],
    *,
    input_dims: Sequence[int | str] = (1, 8, 10, 10),
    output: str = "y",
    initializers: Sequence[onnx.TensorProto] = (),
    opset: int = 17,
    inputs: Sequence[str] = ("x",),
    outputs: Sequence[str] | None = None,
) -> onnx.ModelProto:
    """A model of `nodes` from input(s) `inputs` to `output` (or `outputs`)."""
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info(name, FLOAT, list(input_dims)) for name in inputs],
        [helper.make_tensor_value_info(name, FLOAT, None) for name in outputs or (output,)],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save(model: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> Path:
    path = folder / name
    path.write_bytes(model.SerializeToString())
    return path


def read(model: onnx.ModelProto, folder: Path, input_shape: Shape | None = None) -> Network:
    path = save(model, folder)
    return read_onnx(path, source=path.name, input_shape=input_shape)


def only(network: Network) -> Node:
    """The network's one node."""
    assert len(network.nodes) == 1, [node.op for node in network.nodes]
    return network.nodes[0]
