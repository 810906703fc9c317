"""Which (alpha, resolution) settings fit a budget of mult-adds and params.

A setting fits when the network builds there and stays within both budgets. Of the fitting
settings, those kept are the ones no other fitting setting dominates: none has at least as many
mult-adds and at least as many params, and more of one. These are the largest networks the
budget allows, one per trade-off between computation and size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mbcalc.core.settings import Res
from mbcalc.errors import SettingsError
from mbcalc.grid.sweep import Grid, sweep
from mbcalc.kinds import Pair
from mbcalc.spec import Spec

DEFAULT_ALPHAS = tuple(Fraction(n, 20) for n in range(1, 21))
"""0.05, 0.10, ... 1.00: the paper's widths (1, 0.75, 0.5, 0.25) refined to steps of 0.05."""

DEFAULT_RES_STEP = 32
"""The paper's resolutions (128, 160, 192, 224) are multiples of 32."""


@dataclass(frozen=True, slots=True)
class Fit:
    """One setting on the frontier, with its costs and its share of each budget."""

    alpha: Fraction
    resolution: Pair
    mult_adds: int
    params: int
    bn_params: int
    mult_adds_share: Fraction
    params_share: Fraction | None


@dataclass(frozen=True)
class FitResult:
    """The frontier sorted by mult-adds, the largest last; `best` indexes the marked one.

    `every_fit` holds every fitting setting, the most mult-adds first (then params), when the
    search was asked to list them all, and is None otherwise.
    """

    spec: Spec
    max_mult_adds: int
    max_params: int | None
    settings_searched: int
    settings_fitting: int
    frontier: tuple[Fit, ...]
    every_fit: tuple[Fit, ...] | None = None

    @property
    def best(self) -> int | None:
        """The setting that uses most of the budget: the most mult-adds, then params."""
        return len(self.frontier) - 1 if self.frontier else None

    @property
    def listed(self) -> tuple[Fit, ...]:
        """The settings a report lists: every fitting one when asked for, else the frontier."""
        return self.frontier if self.every_fit is None else self.every_fit

    def is_best(self, fit: Fit) -> bool:
        """Whether `fit` is the setting that uses most of the budget."""
        return self.best is not None and fit == self.frontier[self.best]


def default_heights(spec: Spec, step: int = DEFAULT_RES_STEP) -> list[int]:
    """Multiples of `step` up to the spec's own input height (at least 224)."""
    return list(default_height_range(spec, step))


def default_height_range(spec: Spec, step: int = DEFAULT_RES_STEP) -> range:
    """`default_heights` unbuilt: its size can be checked before a list is made."""
    return range(step, max(spec.input_size[0], 224) + 1, step)


def fit(
    spec: Spec,
    max_mult_adds: int,
    max_params: int | None = None,
    alphas: Sequence[Fraction] = DEFAULT_ALPHAS,
    heights: Sequence[Res] | None = None,
    *,
    list_all: bool = False,
) -> FitResult:
    """The settings of the grid that fit the budget and are not dominated (and, with
    `list_all`, every setting that fits)."""
    if max_mult_adds < 1 or (max_params is not None and max_params < 1):
        raise SettingsError("a budget must be at least 1")
    grid = sweep(spec, alphas, default_height_range(spec) if heights is None else heights)
    fits = grid.valid & (grid.mult_adds <= max_mult_adds)
    if max_params is not None:
        fits &= grid.params <= max_params
    cells = [(int(a), int(r)) for a, r in zip(*np.nonzero(fits), strict=True)]
    frontier = _frontier(grid, cells)
    every_fit = None
    if list_all:
        fits_found = (_fit(grid, a, r, max_mult_adds, max_params) for a, r in cells)
        every_fit = tuple(sorted(fits_found, key=_largest_first, reverse=True))
    return FitResult(
        spec,
        max_mult_adds,
        max_params,
        grid.valid.size,
        len(cells),
        tuple(_fit(grid, a, r, max_mult_adds, max_params) for a, r in frontier),
        every_fit,
    )


def _largest_first(fit: Fit) -> tuple[int, int, Fraction, Pair]:
    """What `every_fit` is sorted by, largest first: mult-adds, then params, width and input."""
    return fit.mult_adds, fit.params, fit.alpha, fit.resolution


def _frontier(grid: Grid, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The cells no other cell dominates, by mult-adds then params, ascending."""

    def costs(cell: tuple[int, int]) -> tuple[int, int]:
        return int(grid.mult_adds[cell]), int(grid.params[cell])

    ordered = sorted(cells, key=lambda cell: (costs(cell)[0], costs(cell)[1]), reverse=True)
    kept: list[tuple[int, int]] = []
    best_params = -1  # the most params among cells with strictly more mult-adds
    group_best = -1  # the most params among cells with the same mult-adds so far
    previous: int | None = None
    for cell in ordered:
        mult_adds, params = costs(cell)
        if mult_adds != previous:
            best_params, group_best, previous = max(best_params, group_best), -1, mult_adds
        dominated = best_params >= params or group_best > params
        group_best = max(group_best, params)
        if not dominated:
            kept.append(cell)
    return kept[::-1]


def _fit(grid: Grid, a: int, r: int, max_mult_adds: int, max_params: int | None) -> Fit:
    mult_adds, params = int(grid.mult_adds[a, r]), int(grid.params[a, r])
    return Fit(
        alpha=grid.alphas[a],
        resolution=grid.resolutions[r],
        mult_adds=mult_adds,
        params=params,
        bn_params=int(grid.bn_params[a, r]),
        mult_adds_share=Fraction(mult_adds, max_mult_adds),
        params_share=None if max_params is None else Fraction(params, max_params),
    )
