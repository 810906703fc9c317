"""Python arguments to the library's objects: settings, counting profiles, the axes of a grid.

Each mistake raises an error that names the Python argument (`alpha`, not `--alpha`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, TypeVar

from mbcalc.core.settings import (
    Multiplier,
    Pixels,
    Res,
    to_multiplier,
    to_res,
)
from mbcalc.errors import MbcalcError

if TYPE_CHECKING:
    from mbcalc.core.profiles import ParamsRule, Profile

T = TypeVar("T")


class ArgumentError(MbcalcError, ValueError):
    """An argument of a library call that mbcalc cannot use; the message names it."""


def profile_of(
    profile: str, flops: bool, count: str | Mapping[str, int] | None, params: str | None
) -> Profile:
    """The counting profile `profile`, changed as `flops`, `count` and `params` say (as the
    command line's --profile, --flops, --count and --params)."""
    from mbcalc.core.profiles import PROFILES, custom_profile, parse_extras

    if profile not in PROFILES:
        raise ArgumentError(f"unknown profile {profile!r}", hint=f"known: {', '.join(PROFILES)}")
    if isinstance(count, Mapping):
        count = ",".join(f"{key}={cost}" for key, cost in count.items())
    try:
        extras = {} if count is None else parse_extras(count)
    except ValueError as error:
        raise ArgumentError(f"count: {error}") from None
    return custom_profile(PROFILES[profile], flops, extras, params_rule(params))


def params_rule(params: str | None) -> ParamsRule | None:
    """The `params` argument as a rule (paper, torch, keras or thop), None for the profile's own."""
    from mbcalc.core.profiles import ParamsRule

    if params is None:
        return None
    try:
        return ParamsRule(params)
    except ValueError:
        known = ", ".join(rule.value for rule in ParamsRule)
        raise ArgumentError(f"unknown params rule {params!r}", hint=f"known: {known}") from None


def alphas_of(alpha: Multiplier | Iterable[Multiplier], name: str = "alpha") -> list[Fraction]:
    """The widths (or depths, `name`) of a grid: one value, a list, or text as the command line
    takes it (`1,0.75,0.5`, `0.25:1:0.05`)."""
    from mbcalc.core.ranges import parse_fractions

    if isinstance(alpha, str):
        return _parsed(parse_fractions, alpha, name)
    if isinstance(alpha, Fraction | int | float):
        return [to_multiplier(alpha, name)]
    return [to_multiplier(value, name) for value in alpha]


def heights_of(res: Pixels | Iterable[Pixels] | None) -> list[Res] | None:
    """The resolutions of a grid (None: the spec's own), given as `alphas_of` takes widths:
    a height, a list of heights or (height, width) pairs, or text such as '96:224:32' or
    '128x96,160x120'. A tuple is a list: `res=(224, 160)` is two heights."""
    from mbcalc.core.ranges import parse_resolutions

    if res is None:
        return None
    if isinstance(res, str):
        return _parsed(parse_resolutions, res, "res")
    if isinstance(res, int | float):
        return [to_res(res, "res")]
    return [to_res(value, "res") for value in res]


def budget_of(count: int | str, name: str) -> int:
    """A budget of mult-adds or params: a count, or text such as `300M` or `1.2G`."""
    from mbcalc.core.ranges import parse_budget

    if isinstance(count, int) and not isinstance(count, bool):
        return count
    if not isinstance(count, str):
        raise ArgumentError(f"{name} must be a whole number or text such as '300M'")
    return _parsed(parse_budget, count, name)


def _parsed(parse: Callable[[str, str], T], text: str, name: str) -> T:
    """`parse(text, name)`, a mistake in the text raised as an `ArgumentError`."""
    try:
        return parse(text, name)
    except ValueError as error:
        raise ArgumentError(str(error)) from None
