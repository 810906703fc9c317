"""A network read from a model file or a PyTorch module, before it becomes a spec.

Both readers (`mbcalc.ingest.onnx_file`, `mbcalc.ingest.torch_module`) produce this form and
the recognizer (`mbcalc.ingest.recognize`) reads only it: nodes in topological order over named
tensors, every shape static and without the batch dimension, every op one of `NodeKind`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

Shape = tuple[int, ...]
"""A tensor's shape without the batch: (C, H, W) for a feature map, (F,) once flattened."""

Pads = tuple[int, int, int, int]
"""Padding as (top, left, bottom, right)."""


class NodeKind(StrEnum):
    """The ops a reader maps its source's ops onto; `attrs` of each are listed beside it."""

    CONV = "conv"  # kernel, stride, pads: Pads, dilation, groups: int, bias: bool
    PAD = "pad"  # pads: Pads, value: float (0.0 for zero padding)
    BATCH_NORM = "batch_norm"  # over the channels (axis 1)
    LAYER_NORM = "layer_norm"  # over the channels of each pixel (ConvNeXt's), affine
    LAYER_SCALE = "layer_scale"  # x times a learned (C, 1, 1) factor (ConvNeXt's)
    GROUP_NORM = "group_norm"  # groups: int, affine
    ACT = "act"  # act: an activation of the spec language (relu, relu6, hswish, swish, ...)
    LINEAR = "linear"  # bias: bool; in = the input's element count, out = shape[0]
    FLATTEN = "flatten"  # (C, H, W) -> (C*H*W,), free
    POOL = "pool"  # pool: avg|max, kernel, stride, pads: Pads, ceil: bool, count_pad: bool
    GLOBAL_POOL = "global_pool"  # pool: avg|max, keep: bool (output (C, 1, 1) or (C,))
    ADAPTIVE_POOL = "adaptive_pool"  # pool: avg|max, output: (h, w)
    ADD = "add"  # elementwise sum of its inputs, same shape
    MUL = "mul"  # elementwise product of two inputs; the second may be (C, 1, 1) or (C,)
    CONCAT = "concat"  # along the channels
    SLICE = "slice"  # channels [start, stop) of its input: start, stop
    SHUFFLE = "shuffle"  # a channel shuffle: groups
    SOFTMAX = "softmax"  # over the channels
    IDENTITY = "identity"  # dropout, a copy, a cast, a no-op reshape: free, same tensor
    UNKNOWN = "unknown"  # anything else: op (the source's op type)


ACTS = (
    "relu", "relu6", "leaky_relu", "prelu", "elu", "gelu", "hswish", "hsigmoid", "sigmoid",
    "swish", "tanh",
)  # fmt: skip
"""The activations an `ACT` node names (`act`), as the spec language names them: a reader
maps its source's forms onto these (ONNX's Clip(0, 6) is relu6, x * Sigmoid(x) is swish,
HardSigmoid(1/6, 1/2) is hsigmoid, the erf form of GELU is gelu)."""


@dataclass(frozen=True, slots=True)
class Node:
    """One op: reads `inputs` (tensor names; weights are not tensors here) and writes `output`."""

    name: str  # unique within the network: the source's node name
    kind: NodeKind
    inputs: tuple[str, ...]
    output: str
    shape: Shape  # of the output
    path: str = ""  # the module path that made it ("layer1.0.conv1"), "" when unknown
    op: str = ""  # the source's op type ("Conv", "aten.conv2d.default")
    attrs: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Network:
    """A whole network: one input, one output, the nodes between in topological order."""

    source: str  # how messages and the spec's header name it: a file path or module:factory
    producer: str  # what wrote it ("pytorch 2.13.0, onnx opset 17", "torch.export")
    input: str  # the input tensor's name
    input_shape: Shape  # (C, H, W)
    output: str  # the output tensor's name
    nodes: tuple[Node, ...]
    notes: tuple[str, ...] = ()  # what the reader saw that the spec's header should say


def shared_prefix(paths: list[list[str]]) -> list[str]:
    """The parts that every module path (split at its dots) begins with."""
    shared: list[str] = []
    for names in zip(*paths, strict=False):
        if len(set(names)) != 1:
            break
        shared.append(names[0])
    return shared
