"""Values typed on the command line: lists and ranges of settings, counts with units."""

from __future__ import annotations

import re
from fractions import Fraction

from mbcalc.core.settings import Res, parse_res, to_fraction

MAX_VALUES = 10_000_000
"""Most values one list or range may expand to."""

_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COUNT = re.compile(r"(?P<number>(\d+(\.\d+)?|\.\d+)([eE][+-]?\d{1,2})?)\s*(?P<unit>[kKmMgGtT]?)")
"""A decimal number, with a power of ten of at most two digits (1e8, 1.5e6), then a unit."""
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?\s*[kKmMgGtT]?")


def _fraction(text: str, what: str) -> Fraction:
    try:
        return to_fraction(text)
    except ValueError as error:
        raise ValueError(f"{what}: {error}") from None


def parse_fractions(text: str, what: str) -> list[Fraction]:
    """'1,0.75,0.5' or 'START:STOP:STEP' (STOP included when the steps reach it) as fractions."""
    text = text.strip()
    if ":" in text:
        start, step, count = _range(text, what)
        return [start + i * step for i in range(count)]
    values = [_fraction(part, what) for part in text.split(",") if part.strip()]
    if not values:
        raise ValueError(f"{what}: no values in {text!r}")
    if len(values) > MAX_VALUES:
        raise ValueError(f"{what}: more than {MAX_VALUES:,} values")
    return values


def count_values(text: str, what: str) -> int:
    """How many values `parse_fractions` would give, without building them."""
    text = text.strip()
    if ":" in text:
        return _range(text, what)[2]
    return sum(1 for part in text.split(",") if part.strip())


def _range(text: str, what: str) -> tuple[Fraction, Fraction, int]:
    """'START:STOP:STEP' as its start, its step and its number of values."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{what}: a range is START:STOP:STEP, got {text!r}")
    start, stop, step = (_fraction(part, what) for part in parts)
    if step <= 0:
        raise ValueError(f"{what}: the step of {text!r} must be greater than 0")
    if stop < start:
        raise ValueError(f"{what}: {text!r} stops before it starts")
    count = int((stop - start) / step) + 1
    if count > MAX_VALUES:
        raise ValueError(f"{what}: {text!r} has {count:,} values, more than {MAX_VALUES:,}")
    return start, step, count


def parse_integers(text: str, what: str) -> list[int]:
    """Like `parse_fractions`, for whole numbers (resolutions)."""
    values = parse_fractions(text, what)
    for value in values:
        if value.denominator != 1:
            raise ValueError(f"{what}: {float(value):g} is not a whole number")
    return [int(value) for value in values]


def parse_resolutions(text: str, what: str) -> list[Res]:
    """Heights as `parse_integers` reads them, or a list naming height x width pairs
    ('128x96,160x120')."""
    if not _names_pairs(text, what):
        return [*parse_integers(text, what)]
    values = [parse_res(part, what) for part in text.split(",") if part.strip()]
    if len(values) > MAX_VALUES:
        raise ValueError(f"{what}: more than {MAX_VALUES:,} values")
    return values


def count_resolutions(text: str, what: str) -> int:
    """How many values `parse_resolutions` would give, without building them."""
    _names_pairs(text, what)
    return count_values(text, what)


def _names_pairs(text: str, what: str) -> bool:
    """Whether a list of resolutions names height x width pairs; a range of them is refused."""
    if "x" not in text.lower():
        return False
    if ":" in text:
        raise ValueError(
            f"{what}: a range START:STOP:STEP takes heights only; "
            "list height x width pairs one by one: 128x96,160x120"
        )
    return True


def parse_budget(text: str, what: str) -> int:
    """A count of at least 1 (a budget of nothing cannot be shared out)."""
    count = parse_count(text, what)
    if count < 1:
        raise ValueError(f"{what}: a budget must be at least 1, got {text!r}")
    return count


def parse_count(text: str, what: str) -> int:
    """A count with an optional unit or power of ten: 300M, 2.5M, 1.2G, 150k, 1e8, 1.5e6,
    4210088, 4,210,088.

    A comma is taken only as a thousands separator (every group of three digits), so that a
    decimal comma such as 1,5M is refused rather than read as 15M.
    """
    text = text.strip()
    if "," in text and not _THOUSANDS.fullmatch(text):
        raise ValueError(
            f"{what}: {text!r} is not a count; commas only separate thousands (write 1.5M)"
        )
    match = _COUNT.fullmatch(text.replace(",", "").replace("_", ""))
    if match is None:
        raise ValueError(f"{what}: {text!r} is not a count such as 300M, 1.2G or 1e8")
    value = Fraction(match["number"]) * _SUFFIXES[match["unit"].upper()]
    if value.denominator != 1:
        raise ValueError(f"{what}: {text!r} is {float(value):g}; a count must be a whole number")
    return int(value)


_DURATION = re.compile(r"(?P<number>(\d+(\.\d+)?|\.\d+)([eE][+-]?\d{1,2})?)\s*(?P<unit>s|ms|us|µs)")
_SECONDS = {"s": Fraction(1), "ms": Fraction(1, 10**3), "us": Fraction(1, 10**6)}


def parse_duration(text: str, what: str) -> Fraction:
    """A time above zero with its unit, in seconds: 2ms, 0.5 ms, 500us (or µs), 1e-3s."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{what}: {text!r} is not a time such as 2ms, 0.5 ms or 500us")
    seconds = Fraction(match["number"]) * _SECONDS[match["unit"].replace("µ", "u")]
    if seconds <= 0:
        raise ValueError(f"{what}: a time budget must be above zero, got {text!r}")
    return seconds
