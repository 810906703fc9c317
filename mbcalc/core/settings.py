"""The knobs: width multiplier alpha, the input resolution, and EfficientNet's depth multiplier.

Alpha is kept as an exact fraction of the decimal the user typed, so that 100 x 0.29 is 29
and not 28.999999999999996 truncated to 28.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeAlias

from mbcalc.core.arith import SCALAR, Arith, N
from mbcalc.core.exact import exact_text
from mbcalc.errors import SettingValueError, size_text
from mbcalc.kinds import Pair
from mbcalc.spec.defaults import SpecDefaults

_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?")
_RATIO = re.compile(r"[+-]?\d{1,30}/\d{1,30}")
_RES = re.compile(r"([0-9]+)(?:[xX]([0-9]+))?")
MAX_DIGITS = 30
"""Longest number a resolution may be written with."""

Res: TypeAlias = int | Pair
"""A --res: the input height (the width follows in proportion), or (height, width)."""


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


Multiplier = Fraction | int | float | str
"""An alpha or rho as a caller may give it: exact, whole, a float or a decimal's text."""

Pixels = int | float | str | tuple[int, int]
"""A resolution as a caller may give it: a height (224, 224.0 or "224"), or height and width
((128, 96) or "128x96")."""


@dataclass(frozen=True, slots=True)
class SettingNames:
    """How errors name the three settings: the command line's options or Python's arguments."""

    alpha: str = "--alpha"
    res: str = "--res"
    rho: str = "--rho"
    depth: str = "--depth"


OPTION_NAMES = SettingNames()
"""The command line's names, which `Settings` uses unless told otherwise."""

ARGUMENT_NAMES = SettingNames("alpha", "res", "rho", "depth")
"""The Python API's names (`mbcalc.analyze(spec, alpha=...)`)."""


def to_multiplier(value: Multiplier, name: str) -> Fraction:
    """`value` as an exact fraction; a float is taken as the decimal it prints as (0.35 is
    35/100, as `--alpha 0.35` is), text as `to_fraction` reads it. `name` names it in errors."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SettingValueError(f"{name} must be a number, got {type(value).__name__}")
    if isinstance(value, int):
        return Fraction(value)
    try:
        return to_fraction(repr(value) if isinstance(value, float) else value)
    except ValueError as error:
        raise SettingValueError(f"{name}: {error}") from None


def to_pixels(value: object, name: str) -> int:
    """An input height: an int, or a float or text that is a whole number."""
    if isinstance(value, tuple | list):
        raise SettingValueError(
            f"{name} is a height or a (height, width) pair, got the {type(value).__name__} "
            f"{value!r}",
            hint="give res=160 (the width follows in proportion) or res=(128, 96)",
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, Fraction | float | str):
        raise SettingValueError(
            f"{name} must be a whole number of pixels, got {type(value).__name__}"
        )
    number = to_multiplier(value, name)
    if number.denominator != 1:
        raise SettingValueError(
            f"{name} must be a whole number of pixels, got {exact_text(number)}"
        )
    return number.numerator


def to_res(value: object, name: str) -> Res:
    """A resolution given to `Settings`: a (height, width) pair of whole numbers as it is,
    text as `parse_res` reads it ('128x96'), anything else as `to_pixels` reads a height."""
    if isinstance(value, tuple) and len(value) == 2:
        height, width = (to_pixels(side, name) for side in value)
        return (height, width)
    if isinstance(value, str) and "x" in value.lower():
        try:
            return parse_res(value, name)
        except ValueError as error:
            raise SettingValueError(str(error)) from None
    return to_pixels(value, name)


def scaled_side(side: int, num: N, den: N) -> N:
    """side * num / den rounded to the nearest integer, halves up: a side under a new size."""
    return (2 * side * num + den) // (2 * den)


def parse_res(text: str, what: str) -> Res:
    """A resolution typed by a user: '160' (a height) or '128x96' (height x width).

    Raises ValueError, its message starting with `what`, for any other form and for a side too
    long to be meant. A side of 0 is read: the settings refuse it as a value (`Settings`).
    """
    text = text.strip()
    match = _RES.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{what}: {text[:40]!r} is not a whole number of pixels, nor height x width "
            "such as 128x96"
        )
    sides = [side for side in match.groups() if side is not None]
    longest = max(len(side) for side in sides)
    if longest > MAX_DIGITS:
        raise ValueError(f"{what}: a {longest}-digit side is too large for a resolution")
    height, *width = (int(side) for side in sides)
    return (height, width[0]) if width else height


def input_size(res: Res, size: Pair) -> Pair:
    """The input (height, width) a --res gives a spec whose input is `size`: a pair as it is,
    a height with the width in proportion."""
    if isinstance(res, tuple):
        return res
    height, width = size
    return (res, scaled_side(width, res, height))


def res_for(resolution: Pair, size: Pair) -> Res:
    """The shortest --res that gives a spec whose input is `size` the input `resolution`:
    its height where the width follows in proportion, else the pair."""
    height = resolution[0]
    return height if input_size(height, size) == resolution else resolution


def res_sides(res: Res) -> tuple[int, ...]:
    """The sides a --res names: a height alone, or height and width."""
    return res if isinstance(res, tuple) else (res,)


def res_text(res: Res) -> str:
    """A --res as it is typed: 160, or 128x96."""
    return "x".join(str(side) for side in res_sides(res))


@dataclass(frozen=True)
class Settings:
    """Alpha, the resolution and depth, as asked for on the command line or in Python.

    `depth` multiplies the repeat of every `stage` (rounded up, `mbcalc.spec.stage`). `res`
    sets the input height (the width follows in proportion), or as a (height, width) pair both
    sides; `rho` multiplies both sides. At most one of them is given; with neither, the
    spec's own input size is used. A float is taken as the decimal it prints as
    (`Settings(alpha=0.35)` is alpha 35/100); errors name the settings as `names` says
    (`--alpha` by default, `alpha` with `ARGUMENT_NAMES`).
    """

    alpha: Fraction = Fraction(1)
    res: Res | None = None
    rho: Fraction | None = None
    names: SettingNames = field(default=OPTION_NAMES, compare=False, repr=False)
    depth: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        """Floats, ints and decimal text are taken exactly (`to_multiplier`); errors use `names`."""
        names = self.names
        alpha = to_multiplier(self.alpha, names.alpha)
        depth = to_multiplier(self.depth, names.depth)
        object.__setattr__(self, "depth", depth)
        if depth <= 0:
            raise SettingValueError(
                f"{names.depth} must be greater than 0, got {exact_text(depth)}"
            )
        res = None if self.res is None else to_res(self.res, names.res)
        rho = None if self.rho is None else to_multiplier(self.rho, names.rho)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "res", res)
        object.__setattr__(self, "rho", rho)
        if alpha <= 0:
            raise SettingValueError(
                f"{names.alpha} must be greater than 0, got {exact_text(alpha)}"
            )
        if res is not None and rho is not None:
            raise SettingValueError(f"give {names.res} or {names.rho}, not both")
        if res is not None and min(res_sides(res)) <= 0:
            shown = res_text(res)
            raise SettingValueError(f"{names.res} must be a positive number of pixels, got {shown}")
        if rho is not None and rho <= 0:
            raise SettingValueError(f"{names.rho} must be greater than 0, got {exact_text(rho)}")

    @classmethod
    def of(
        cls,
        alpha: Multiplier = 1,
        res: Pixels | None = None,
        rho: Multiplier | None = None,
        depth: Multiplier = 1,
    ) -> Settings:
        """The settings Python arguments ask for; errors name them `alpha`, `res`, `rho`,
        `depth`."""
        names = ARGUMENT_NAMES
        return cls(
            alpha=to_multiplier(alpha, names.alpha),
            res=None if res is None else to_res(res, names.res),
            rho=None if rho is None else to_multiplier(rho, names.rho),
            names=names,
            depth=to_multiplier(depth, names.depth),
        )

    def resolution(self, size: Pair) -> Pair:
        """The input (height, width) these settings give a spec whose input is `size`."""
        height, width = size
        if self.res is not None:
            scaled = input_size(self.res, size)
        elif self.rho is not None:
            num, den = self.rho.numerator, self.rho.denominator
            scaled = (scaled_side(height, num, den), scaled_side(width, num, den))
        else:
            return size
        if min(scaled) < 1:
            raise SettingValueError(f"the resolution {size_text(scaled)} has no pixels")
        return scaled


@dataclass(frozen=True)
class Request:
    """Settings as asked for: None where nothing was asked, and the spec's own `defaults:` (else
    alpha 1, depth 1, its input size) apply. `res` and `rho` count as one setting."""

    alpha: Fraction | None = None
    depth: Fraction | None = None
    res: Res | None = None
    rho: Fraction | None = None
    names: SettingNames = field(default=OPTION_NAMES, compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Request:
        """`settings` asked for in full."""
        return cls(settings.alpha, settings.depth, settings.res, settings.rho, settings.names)

    def over(self, fallback: Request) -> Request:
        """This request, completed by `fallback` where it asks nothing."""
        sized = self.res is not None or self.rho is not None
        return Request(
            fallback.alpha if self.alpha is None else self.alpha,
            fallback.depth if self.depth is None else self.depth,
            self.res if sized else fallback.res,
            self.rho if sized else fallback.rho,
            self.names,
        )

    def settings(self, defaults: SpecDefaults) -> Settings:
        """The settings for a spec with `defaults`: what was asked wins over them."""
        sized = self.res is not None or self.rho is not None
        alpha = self.alpha if self.alpha is not None else defaults.alpha
        depth = self.depth if self.depth is not None else defaults.depth
        return Settings(
            alpha=Fraction(1) if alpha is None else alpha,
            res=self.res if sized else defaults.res,
            rho=self.rho,
            names=self.names,
            depth=Fraction(1) if depth is None else depth,
        )


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


def whole_heads(channels: N, heads: int) -> N:
    """An attention's width: `channels` rounded up to a multiple of `heads`, so that alpha
    keeps every head whole (the width itself at alpha 1 in every published network)."""
    return -(-channels // heads) * heads


def make_divisible(value: Fraction, divisor: int) -> int:
    """The MobileNetV2/V3 rule on an exact value: nearest multiple of `divisor`, >= 90%."""
    return make_divisible_scaled(1, value.numerator, value.denominator, divisor)


def scale_channels(channels: int, alpha: Fraction, rounding: str, divisor: int) -> int:
    """Channels under the width multiplier alpha (one setting)."""
    return scale_channels_exact(channels, alpha.numerator, alpha.denominator, rounding, divisor)


def request_of(
    alpha: Multiplier | None,
    res: Pixels | None,
    rho: Multiplier | None,
    depth: Multiplier | None,
) -> Request:
    """The settings Python arguments ask for; None leaves one to the spec's `defaults:`."""
    names = ARGUMENT_NAMES
    return Request(
        alpha=None if alpha is None else to_multiplier(alpha, names.alpha),
        depth=None if depth is None else to_multiplier(depth, names.depth),
        res=None if res is None else to_res(res, names.res),
        rho=None if rho is None else to_multiplier(rho, names.rho),
        names=names,
    )
