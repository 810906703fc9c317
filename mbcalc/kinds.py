"""Names shared across the pipeline: enums and small type aliases that every layer may use.

A leaf: it imports nothing from mbcalc, so that any module can name an op kind or a layer type
without importing the module that computes with it.
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
