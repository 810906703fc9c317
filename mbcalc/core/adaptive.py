"""Adaptive pooling: PyTorch's windows for a fixed output grid, the global pool being 1x1.

AdaptiveAvgPool2d / AdaptiveMaxPool2d pool an input of H rows into n output rows, row i over
the input rows floor(i * H / n) to ceil((i + 1) * H / n) (exclusive), and likewise along the
width. Where n divides H the windows tile the input (kernel and stride H / n); elsewhere they
differ in size by one or two and may overlap, and an input smaller than the grid repeats rows.
Pooling costs no mult-adds; the windows say what the report shows as the pool's kernel.
"""

from __future__ import annotations

import math
from typing import cast

from mbcalc.core.arith import Num


def adaptive_window(index: int, size: int, cells: int) -> tuple[int, int]:
    """The input rows (start, end exclusive) output cell `index` of `cells` pools over `size`."""
    return index * size // cells, -(-(index + 1) * size // cells)


def adaptive_kernel(size: int, cells: int) -> int:
    """The largest window of `cells` adaptive windows over `size`: size / cells where it
    divides; else one more, or two more where the remainder does not divide `cells`."""
    quotient, remainder = divmod(size, cells)
    if not remainder:
        return quotient
    return quotient + (1 if cells % remainder == 0 else 2)


def adaptive_reads(size: Num, cells: int) -> Num:
    """How many input rows `cells` adaptive windows over `size` rows read together:
    size + cells - gcd(size, cells). Window i ends at ceil((i + 1) * size / cells), one row past
    the next window's start floor((i + 1) * size / cells) unless cells divides (i + 1) * size,
    which it does for gcd(size, cells) of the cells; tiling windows (cells divides size) read
    each row once. Takes an int, or an integer array (one size per setting)."""
    if isinstance(size, int):
        return size + cells - math.gcd(size, cells)
    import numpy as np  # only over a grid

    return cast("Num", size + cells - np.gcd(np.asarray(size, dtype=np.int64), cells))


def thop_adaptive_ops(d_in: tuple[Num, Num], d_out: tuple[Num, Num], outputs: Num) -> Num:
    """thop 0.1.1's count of an AdaptiveAvgPool2d: its mean window (input / output sides, a
    float64 product) plus one division, times the outputs, truncated: inputs + outputs, one
    less where the float64 product falls short."""
    (h_in, w_in), (h_out, w_out) = d_in, d_out
    total = ((h_in / h_out) * (w_in / w_out) + 1) * outputs
    if isinstance(total, float):
        return math.trunc(total)
    import numpy as np  # only over a grid

    if total.dtype == object:
        return cast("Num", np.frompyfunc(math.trunc, 1, 1)(total))  # exact Python ints
    return total.astype(np.int64)
