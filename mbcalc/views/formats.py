"""How numbers are written for people: 568.74M, 94.86%, 3x3/2, 112x112x32."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from mbcalc.core.exact import exact_decimal as exact_decimal  # noqa: PLC0414 (re-exported)
from mbcalc.core.exact import exact_text as exact_text  # noqa: PLC0414 (re-exported)

if TYPE_CHECKING:
    from mbcalc.core.graph import Op
    from mbcalc.spec.defaults import SpecDefaults

_SUFFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


@functools.lru_cache(maxsize=4096)  # a large network repeats its counts row after row
def human(count: int) -> str:
    """A count in the paper's style with two decimals: 568740352 -> 568.74M."""
    magnitude = abs(count)
    for size, suffix in _SUFFIXES:
        if magnitude >= size:
            return f"{count / size:.2f}{suffix}"
    return str(count)


def exact(count: int) -> str:
    """A count with thousands separators: 568,740,352."""
    return f"{count:,}"


def percent(share: Fraction | float) -> str:
    """A share as a percentage with two decimals."""
    return f"{float(share) * 100:.2f}%"


def unit_share(share: Fraction | float) -> str:
    """The share of a unit, the sum of its ops' shares: parenthesised, so that a column of
    shares adds up to 100% over the ops alone."""
    return f"({percent(share)})"


def ratio(value: Fraction, digits: int = 4) -> str:
    return f"{float(value):.{digits}f}"


def dims(values: Iterable[int]) -> str:
    """Shape or kernel as 112x112x32."""
    return "x".join(map(str, values))


def window(kernel: tuple[int, int], stride: tuple[int, int]) -> str:
    """Kernel and stride as 3x3 s2 (a square stride written once)."""
    step = str(stride[0]) if stride[0] == stride[1] else dims(stride)
    return f"{dims(kernel)} s{step}"


def op_window(op: Op) -> str:
    """The kernel column of an op: its window (3x3 s2), an attention's partition (7x7 block,
    7x7 grid, 2x2 patch, 2x2 strided for keys taken every 2), or nothing."""
    if op.partition is not None:
        size = op.kernel or op.stride
        assert size is not None
        return f"{dims(size)} {op.partition}"
    return "" if op.kernel is None or op.stride is None else window(op.kernel, op.stride)


def byte_size(count: int) -> str:
    """Bytes in binary units: 4816896 -> 4.59 MiB."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if count >= 1024**power:
            return f"{count / 1024**power:.2f} {unit}"
    return f"{count} B"


def duration(seconds: float) -> str:
    """A time with three significant figures and a unit: 2.81 ms, 14.2 µs, 4.00 µs, 999 µs."""
    units = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
    for scale, unit in units:
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            if value <= 0:
                return f"0 {unit}"
            decimals = max(0, 2 - math.floor(math.log10(value)))
            text = f"{value:.{decimals}f}"
            if float(text) >= 1000 and unit != "s":  # 999.6 µs rounds to a millisecond
                return duration(float(text) * scale)
            return f"{text} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def threads(count: int) -> str:
    """'1 thread', '4 threads'."""
    return f"{count} thread{'s' if count != 1 else ''}"


def rate(value: float, unit: str) -> str:
    """A rate with an SI prefix: 236G mult-adds/s, 25.6 GB/s."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def multiplier(value: Fraction) -> str:
    """Alpha or rho as the decimal the user most likely typed: 0.75, 1, 0.714286."""
    return f"{float(value):g}"


def exact_number(value: Fraction) -> float | str:
    """A multiplier for JSON and CSV: the float when its shortest decimal is the exact value
    (0.25, 1.0), else the exact text (`0.30000000000000001`, `1/3`), so no two values print alike.
    """
    as_float = float(value)
    if math.isfinite(as_float) and Fraction(repr(as_float)) == value:
        return as_float
    return exact_decimal(value)


def reciprocals(channels: int, taps: int) -> str:
    """The paper's 1/N + 1/k^2, written out."""
    return f"1/{channels} + 1/{taps}"


def decimal(value: Fraction | float, digits: int = 6) -> float:
    """A fraction (or a float) as a float rounded for reports."""
    return round(float(value), digits)


def defaults_note(defaults: SpecDefaults) -> str:
    """A spec's own defaults after its input size (` · alpha 1.2 · depth 1.4 · res 300`), or
    nothing."""
    text = defaults_text(defaults)
    return f" · {text}" if text else ""


def defaults_text(defaults: SpecDefaults) -> str:
    """A spec's own defaults (`alpha 1.2 · depth 1.4 · res 300`), or nothing."""
    return " · ".join(f"{key} {_default_text(value)}" for key, value in defaults.items())


def _default_text(value: Fraction | int | tuple[int, int]) -> str:
    if isinstance(value, Fraction):
        return multiplier(value)
    return dims(value) if isinstance(value, tuple) else str(value)
