"""The settings a spec asks to be read at unless told otherwise (its `defaults:` mapping)."""

from __future__ import annotations

from fractions import Fraction

from mbcalc.kinds import Pair
from mbcalc.spec.record import Record


class SpecDefaults(Record):
    """A spec's own alpha, depth and resolution (a height, or height and width); None where the
    spec gives none (alpha 1, depth 1, its input size)."""

    alpha: Fraction | None = None
    depth: Fraction | None = None
    res: int | Pair | None = None

    def items(self) -> list[tuple[str, Fraction | int | Pair]]:
        """The defaults the spec gives, as (key, value), in the order alpha, depth, res."""
        values = (("alpha", self.alpha), ("depth", self.depth), ("res", self.res))
        return [(key, value) for key, value in values if value is not None]

    def multipliers(self) -> SpecDefaults:
        """The defaults without `res`: the alpha and depth the spec gives."""
        return SpecDefaults(alpha=self.alpha, depth=self.depth)


NO_DEFAULTS = SpecDefaults()
"""A spec without `defaults:`."""
