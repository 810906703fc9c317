"""Number formats of activations and weights."""

from __future__ import annotations

from enum import StrEnum


class DType(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        return _BYTES[self]


_BYTES = {DType.FP32: 4, DType.FP16: 2, DType.INT8: 1}
