"""The two knobs of the paper: width multiplier alpha and the input resolution.

Alpha is kept as an exact fraction of the decimal the user typed, so that 100 x 0.29 is 29
and not 28.999999999999996 truncated to 28.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from mbcalc.core.arith import SCALAR, Arith, N
from mbcalc.core.exact import exact_text
from mbcalc.errors import SettingsError, size_text
from mbcalc.kinds import Pair

_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?")
_RATIO = re.compile(r"[+-]?\d{1,30}/\d{1,30}")


def to_fraction(text: str) -> Fraction:
    """The exact value of a decimal ('0.75', '1e-1') or a ratio ('3/4') typed by a user.

    Raises ValueError for anything else, and for numbers too long to be meant (a huge
    exponent would make the exact fraction itself exhaust memory).
    """
    text = text.strip()
    if not (_NUMBER.fullmatch(text) or _RATIO.fullmatch(text)):
        raise ValueError(f"{text[:40]!r} is not a number")
    try:
        return Fraction(text)
    except ZeroDivisionError:
        raise ValueError(f"{text!r} divides by zero") from None


def scaled_side(side: int, num: N, den: N) -> N:
    """side * num / den rounded to the nearest integer, halves up: a side under a new size."""
    return (2 * side * num + den) // (2 * den)


@dataclass(frozen=True)
class Settings:
    """Alpha and the resolution multiplier, as asked for on the command line.

    `res` sets the input height (the width follows in proportion); `rho` multiplies both sides.
    At most one of them is given; with neither, the spec's own input size is used.
    """

    alpha: Fraction = Fraction(1)
    res: int | None = None
    rho: Fraction | None = None

    def __post_init__(self) -> None:
        if self.alpha <= 0:
            raise SettingsError(f"--alpha must be greater than 0, got {exact_text(self.alpha)}")
        if self.res is not None and self.rho is not None:
            raise SettingsError("give --res or --rho, not both")
        if self.res is not None and self.res <= 0:
            raise SettingsError(f"--res must be a positive number of pixels, got {self.res}")
        if self.rho is not None and self.rho <= 0:
            raise SettingsError(f"--rho must be greater than 0, got {exact_text(self.rho)}")

    def resolution(self, size: Pair) -> Pair:
        """The input (height, width) these settings give a spec whose input is `size`."""
        height, width = size
        if self.res is not None:
            scaled = (self.res, scaled_side(width, self.res, height))
        elif self.rho is not None:
            num, den = self.rho.numerator, self.rho.denominator
            scaled = (scaled_side(height, num, den), scaled_side(width, num, den))
        else:
            return size
        if min(scaled) < 1:
            raise SettingsError(f"the resolution {size_text(scaled)} has no pixels")
        return scaled


def make_divisible_scaled(channels: N, num: N, den: N, divisor: int, ar: Arith = SCALAR) -> N:
    """make_divisible(channels * num / den, divisor), the MobileNetV2/V3 rule, in integers.

    The nearest multiple of `divisor` (halves up), at least `divisor`, and one `divisor` more
    where that would fall below 90% of the exact value.
    """
    value = channels * num  # the scaled width is value / den
    nearest = (2 * value + divisor * den) // (2 * den) // divisor * divisor
    rounded = ar.maximum(nearest, divisor)
    return ar.where(10 * rounded * den < 9 * value, rounded + divisor, rounded)


def scale_channels_exact(
    channels: int, num: N, den: N, rounding: str, divisor: int, ar: Arith = SCALAR
) -> N:
    """Channels under alpha = num / den: `floor` truncates, `divisible` uses make_divisible.

    The rule holds at every alpha, 1 included (as torchvision applies _make_divisible at
    width 1.0), so that channels never fall as alpha grows: with `divisible`, a width that is
    not a multiple of the divisor is rounded even at alpha 1.
    """
    if rounding == "divisible":
        return make_divisible_scaled(channels, num, den, divisor, ar)
    return channels * num // den


def make_divisible(value: Fraction, divisor: int) -> int:
    """The MobileNetV2/V3 rule on an exact value: nearest multiple of `divisor`, >= 90%."""
    return make_divisible_scaled(1, value.numerator, value.denominator, divisor)


def scale_channels(channels: int, alpha: Fraction, rounding: str, divisor: int) -> int:
    """Channels under the width multiplier alpha (one setting)."""
    return scale_channels_exact(channels, alpha.numerator, alpha.denominator, rounding, divisor)
