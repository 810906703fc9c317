"""Why settings of a grid cannot be built, in the words of the one-setting engine."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mbcalc.core.graph import build_graph
from mbcalc.core.plan import Plan, make_plan
from mbcalc.core.settings import Settings
from mbcalc.errors import MbcalcError
from mbcalc.grid.axes import Array
from mbcalc.grid.sweep import Grid
from mbcalc.kinds import Pair


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one setting of a grid cannot be built: the one-setting engine's own message."""

    alpha: Fraction
    resolution: Pair
    message: str
    depth: Fraction = Fraction(1)


def explain_invalid(grid: Grid, limit: int = 5) -> tuple[Refusal, ...]:
    """The distinct reasons for the grid's invalid settings, at most `limit` of them.

    Each is found by building an invalid setting with the one-setting engine, so the words
    are exactly those `mbcalc table` would print. The first invalid setting of each alpha and
    of each resolution are tried, alternately, so that a reason that belongs to a width and
    one that belongs to a resolution both show; at most 4 x `limit` settings are tried.
    """
    invalid = ~grid.valid
    # For each alpha, an invalid resolution where other alphas build (the failure is this
    # alpha's), else its first invalid one; for each resolution the same the other way round.
    usable_res = np.asarray(grid.valid.any(axis=0))
    usable_alpha = np.asarray(grid.valid.any(axis=1))
    by_alpha = [
        (int(a), _first_invalid(invalid[a], usable_res)) for a in np.nonzero(invalid.any(axis=1))[0]
    ]
    by_res = [
        (_first_invalid(invalid[:, r], usable_alpha), int(r))
        for r in np.nonzero(invalid.any(axis=0))[0]
    ]
    candidates: list[tuple[int, int]] = []
    for pair in zip(by_alpha, by_res, strict=False):
        candidates.extend(pair)
    candidates.extend(by_alpha[len(by_res) :] + by_res[len(by_alpha) :])
    rows, columns = np.nonzero(invalid)  # then the rest, in order, while tries remain
    candidates.extend(
        (int(a), int(r)) for a, r in zip(rows[: 4 * limit], columns[: 4 * limit], strict=True)
    )
    plans: dict[Fraction, Plan] = {}  # once per depth, for every setting tried
    seen: dict[str, Refusal] = {}
    for a, r in list(dict.fromkeys(candidates))[: 4 * limit]:
        if len(seen) >= limit:
            break
        alpha, resolution, depth = grid.alphas[int(a)], grid.resolutions[int(r)], grid.depth(int(a))
        plan = plans.get(depth) or plans.setdefault(depth, make_plan(grid.spec, depth))
        try:
            build_graph(grid.spec, Settings(alpha=alpha, res=resolution[0], depth=depth), plan)
        except MbcalcError as error:
            message = str(error)
            seen.setdefault(message, Refusal(alpha, resolution, message, depth))
    return tuple(seen.values())


def _first_invalid(invalid: Array, usable: Array) -> int:
    """The first invalid index along a line of the grid that is usable elsewhere, else the
    first invalid one."""
    preferred = invalid & usable
    return int(np.argmax(preferred)) if preferred.any() else int(np.argmax(invalid))
