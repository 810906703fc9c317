"""Names shared across the pipeline: enums and small type aliases that every layer may use.

A leaf: it imports nothing from mbcalc, so that any module can name an op kind, a layer type, a
roofline bound or a compare alignment without importing the module that computes with it. The
compute side sets them; the views and the command line read them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Pair = tuple[int, int]
"""Height and width (of a kernel, a stride, a padding or a size)."""

Padding = Literal["same"] | Pair
"""A window's padding: `same` (the output is ceil(size / stride)) or (top/bottom, left/right)."""

Scale = bool | Literal["up"]
"""Whether alpha scales a layer's channels; "up": only when alpha is above 1 (a last conv that
keeps its width under thinner multipliers, as in MobileNetV2)."""

PartitionMode = Literal["block", "grid", "patch", "strided"]
"""Which positions an attention's queries see: contiguous windows, windows spread evenly over
the map, the same offset of every patch, or keys down-sampled by a stride."""


class LayerType(StrEnum):
    """The layer types of the spec language."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    POINTWISE = "pointwise"
    SEPARABLE = "separable"
    POOL = "pool"
    FC = "fc"
    BLOCK = "block"
    PARALLEL = "parallel"
    SE = "se"
    MBCONV = "mbconv"
    SOFTMAX = "softmax"
    FUSED_MBCONV = "fused_mbconv"
    AUX = "aux"
    NORM = "norm"
    LAYER_SCALE = "layer_scale"
    SHUFFLE = "shuffle"
    REGNET = "regnet"
    STAGE = "stage"
    TOKENS = "tokens"
    ATTENTION = "attention"
    READOUT = "readout"
    SPACE_TO_DEPTH = "space_to_depth"


class OpKind(StrEnum):
    """Primitive operations of the graph (a pointwise conv is a `conv` with a 1x1 kernel)."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    FC = "fc"
    POOL = "pool"
    ADD = "add"
    CONCAT = "concat"
    SCALE = "scale"
    SOFTMAX = "softmax"
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    LAYER_SCALE = "layer_scale"
    SPLIT = "split"  # one branch's slice of a split's input channels: a view, no copy
    SHUFFLE = "shuffle"  # a channel shuffle: a permutation of the channels
    TOKENS = "tokens"  # a map's positions as one row of tokens, a class token and positions added
    ATTEND = "attend"  # self-attention's two products, QK^T and the weighted sum of V
    READOUT = "readout"  # the class token taken out of a row of tokens: a view, no copy
    RESIZE = "resize"  # a bilinear interpolation of the map to another size
    SPACE_TO_DEPTH = "space_to_depth"  # b x b neighbours side by side in the channels: a copy
    PAD = "pad"  # zeros added at the bottom and right, up to whole windows
    CROP = "crop"  # the map's top-left part: a padded map back to its size
    POSITIONS = "positions"  # a window's relative coordinates (a constant table) for a bias MLP


class Bound(StrEnum):
    """Which roof limits an op: the device's compute peak or its memory bandwidth."""

    COMPUTE = "compute"
    MEMORY = "memory"


class Alignment(StrEnum):
    """How a compared row's units were put together."""

    NAME = "name"  # the same unit name in every column
    STRUCTURE = "structure"  # the same type, kernel and stride
    POSITION = "position"  # paired in order within a stretch whose structures differ
    ONLY = "only"  # missing from at least one column


class Format(StrEnum):
    """The output formats of a report."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"  # one self-contained page: table, compare, sweep and roofline


class PlotBy(StrEnum):
    """What a sweep plot draws one line per: each resolution or each width multiplier."""

    RES = "res"
    ALPHA = "alpha"


class Runtime(StrEnum):
    """What runs a network to time it."""

    TORCH = "torch"  # PyTorch, eager
    ONNXRUNTIME = "onnxruntime"  # ONNX Runtime, on the network exported to ONNX


class Target(StrEnum):
    """Where a network runs to be timed."""

    CPU = "cpu"
    CUDA = "cuda"
