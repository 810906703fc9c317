"""Which (alpha, resolution, depth) settings fit a budget of mult-adds, FLOPs, latency and params.

A setting fits when the network builds there and stays within every budget given: mult-adds,
FLOPs (the operations a counting profile counts), the latency on a device (calibrated or roofline)
(`mbcalc.grid.deployment`, as `mbcalc table --device` estimates it) and params. Of the fitting
settings, those kept are the ones no other fitting setting dominates: none has at least as much
computation (the FLOPs under a FLOPs budget, else the mult-adds) and at least as many params,
and more of one. These are the largest networks the budget allows, one per trade-off between
computation and size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from mbcalc.core.profiles import Profile
from mbcalc.core.settings import Res
from mbcalc.deploy.memory import DType
from mbcalc.deploy.roofline import Device
from mbcalc.errors import SettingsError
from mbcalc.grid.axes import Array
from mbcalc.grid.sweep import Grid, sweep
from mbcalc.kinds import Pair
from mbcalc.spec import Spec

DEFAULT_ALPHAS = tuple(Fraction(n, 20) for n in range(1, 21))
"""0.05, 0.10, ... 1.00: the paper's widths (1, 0.75, 0.5, 0.25) refined to steps of 0.05."""

DEFAULT_RES_STEP = 32
"""The paper's resolutions (128, 160, 192, 224) are multiples of 32."""


@dataclass(frozen=True, slots=True)
class Budget:
    """The most a setting may cost: each None where not given; at least one of mult-adds, FLOPs
    and latency (seconds)."""

    mult_adds: int | None = None
    params: int | None = None
    flops: int | None = None
    latency: Fraction | None = None


@dataclass(frozen=True, slots=True)
class Fit:
    """One setting on the frontier, with its costs and its share of each budget.

    `operations` (under the counting profile) and `latency` (seconds) are None unless a FLOPs
    or a latency budget asked for them; a share is None where its budget is not given.
    """

    alpha: Fraction
    resolution: Pair
    mult_adds: int
    params: int
    bn_params: int
    mult_adds_share: Fraction | None
    params_share: Fraction | None
    operations: int | None = None
    operations_share: Fraction | None = None
    latency: float | None = None
    latency_share: Fraction | None = None
    depth: Fraction = Fraction(1)


@dataclass(frozen=True)
class FitResult:
    """The frontier sorted by mult-adds, the largest last; `best` indexes the marked one.

    `every_fit` holds every fitting setting, the most mult-adds first (then params), when the
    search was asked to list them all, and is None otherwise.
    """

    spec: Spec
    max_mult_adds: int | None
    max_params: int | None
    settings_searched: int
    settings_fitting: int
    frontier: tuple[Fit, ...]
    every_fit: tuple[Fit, ...] | None = None
    max_flops: int | None = None
    max_latency: Fraction | None = None
    profile: Profile | None = None  # what the FLOPs count, under a FLOPs budget
    device: Device | None = None  # what the latency is estimated on, under a latency budget
    depths: tuple[Fraction, ...] = (Fraction(1),)  # the depth multipliers searched

    @property
    def best(self) -> int | None:
        """The setting that uses most of the budget: the most mult-adds, then params."""
        return len(self.frontier) - 1 if self.frontier else None

    @property
    def listed(self) -> tuple[Fit, ...]:
        """The settings a report lists: every fitting one when asked for, else the frontier."""
        return self.frontier if self.every_fit is None else self.every_fit

    @property
    def has_depth(self) -> bool:
        """Whether a depth other than 1 was searched (views then show each fit's depth)."""
        return any(depth != 1 for depth in self.depths)

    def is_best(self, fit: Fit) -> bool:
        """Whether `fit` is the setting that uses most of the budget."""
        return self.best is not None and fit == self.frontier[self.best]


def default_heights(spec: Spec, step: int = DEFAULT_RES_STEP) -> list[int]:
    """Multiples of `step` up to the spec's own input height, or its default's (at least 224)."""
    return list(default_height_range(spec, step))


def default_height_range(spec: Spec, step: int = DEFAULT_RES_STEP) -> range:
    """`default_heights` unbuilt: its size can be checked before a list is made."""
    res = spec.defaults.res
    height = spec.input_size[0] if res is None else res[0] if isinstance(res, tuple) else res
    return range(step, max(height, 224) + 1, step)


@dataclass(frozen=True, slots=True)
class Measures:
    """What a fit is measured by besides the mult-adds and params: the profile that counts
    FLOPs, and the device and deployment options that estimate the latency."""

    profile: Profile | None = None
    device: Device | None = None
    dtype: DType | None = None
    batch: int = 1
    fold_bn: bool = False


def fit(
    spec: Spec,
    max_mult_adds: int | Budget | None,
    max_params: int | None = None,
    alphas: Sequence[Fraction] = DEFAULT_ALPHAS,
    heights: Sequence[Res] | None = None,
    *,
    list_all: bool = False,
    measures: Measures = Measures(),
    depths: Sequence[Fraction] = (Fraction(1),),
) -> FitResult:
    """The settings of the grid that fit the budget and are not dominated (and, with
    `list_all`, every setting that fits).

    The budget is a `Budget`, or a mult-adds count and `max_params`. A FLOPs budget needs the
    counting profile of `measures`, a latency budget its device. `depths` are the depth
    multipliers searched besides the widths and heights.
    """
    budget = (
        max_mult_adds if isinstance(max_mult_adds, Budget) else Budget(max_mult_adds, max_params)
    )
    grid = sweep(
        spec, alphas, default_height_range(spec) if heights is None else heights,
        depths=depths, **_sweep_options(budget, measures),
    )  # fmt: skip
    fits = grid.valid.copy()
    for limit, values in _limits(grid, budget):
        fits &= values <= limit
    cells = [(int(a), int(r)) for a, r in zip(*np.nonzero(fits), strict=True)]
    computation = _computation(grid, budget)
    frontier = _frontier(grid, computation, cells)
    every_fit = None
    if list_all:
        fits_found = (_fit(grid, a, r, budget) for a, r in cells)
        every_fit = tuple(sorted(fits_found, key=_largest_first, reverse=True))
    return FitResult(
        spec,
        budget.mult_adds,
        budget.params,
        grid.valid.size,
        len(cells),
        tuple(_fit(grid, a, r, budget) for a, r in frontier),
        every_fit,
        budget.flops,
        budget.latency,
        None if budget.flops is None else measures.profile,
        None if budget.latency is None else measures.device,
        tuple(depths),
    )


def _sweep_options(budget: Budget, measures: Measures) -> dict[str, Any]:
    """The sweep's options a budget needs: a profile for FLOPs, a device for the latency."""
    given = [budget.mult_adds, budget.flops, budget.latency]
    if all(limit is None for limit in given):
        raise SettingsError("give a budget of mult-adds, FLOPs or latency")
    if any(
        limit is not None and limit < 1 for limit in (budget.mult_adds, budget.params, budget.flops)
    ):
        raise SettingsError("a budget must be at least 1")
    if budget.latency is not None and budget.latency <= 0:
        raise SettingsError("a latency budget must be above zero")
    options: dict[str, Any] = {}
    if budget.flops is not None:
        if measures.profile is None:
            raise SettingsError("a FLOPs budget needs a counting profile")
        options["profile"] = measures.profile
    if budget.latency is not None:
        if measures.device is None:
            raise SettingsError("a latency budget needs a device")
        options.update(
            device=measures.device, dtype=measures.dtype, batch=measures.batch,
            fold_bn=measures.fold_bn,
        )  # fmt: skip
    return options


def _limits(grid: Grid, budget: Budget) -> list[tuple[Any, Array]]:
    """(limit, values) of every budget given, the values over the grid."""
    limits: list[tuple[Any, Array]] = []
    if budget.mult_adds is not None:
        limits.append((budget.mult_adds, grid.mult_adds))
    if budget.params is not None:
        limits.append((budget.params, grid.params))
    if budget.flops is not None:
        assert grid.counted is not None
        limits.append((budget.flops, grid.counted.operations))
    if budget.latency is not None:
        assert grid.latency is not None
        limits.append((float(budget.latency), grid.latency))
    return limits


def _computation(grid: Grid, budget: Budget) -> Array:
    """What the frontier measures computation by: the FLOPs under a FLOPs budget, else the
    mult-adds."""
    if budget.flops is not None and grid.counted is not None:
        return grid.counted.operations
    return grid.mult_adds


def _largest_first(fit: Fit) -> tuple[int, int, int, Fraction, Pair, Fraction]:
    """What `every_fit` is sorted by, largest first: FLOPs (under a FLOPs budget), mult-adds,
    then params, width, input and depth."""
    return fit.operations or 0, fit.mult_adds, fit.params, fit.alpha, fit.resolution, fit.depth


def _frontier(
    grid: Grid, computation: Array, cells: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The cells no other cell dominates, by `computation` then params, ascending."""

    def costs(cell: tuple[int, int]) -> tuple[int, int]:
        return int(computation[cell]), int(grid.params[cell])

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


def _fit(grid: Grid, a: int, r: int, budget: Budget) -> Fit:
    mult_adds, params = int(grid.mult_adds[a, r]), int(grid.params[a, r])
    operations = latency = None
    if budget.flops is not None and grid.counted is not None:
        operations = int(grid.counted.operations[a, r])
    if budget.latency is not None and grid.latency is not None:
        latency = float(grid.latency[a, r])
    return Fit(
        alpha=grid.alphas[a],
        resolution=grid.resolutions[r],
        mult_adds=mult_adds,
        params=params,
        bn_params=int(grid.bn_params[a, r]),
        mult_adds_share=_share(mult_adds, budget.mult_adds),
        params_share=_share(params, budget.params),
        operations=operations,
        operations_share=_share(operations, budget.flops),
        latency=latency,
        latency_share=None if latency is None or budget.latency is None
        else Fraction(latency) / budget.latency,
        depth=grid.depth(a),
    )  # fmt: skip


def _share(value: int | None, budget: int | None) -> Fraction | None:
    return None if value is None or budget is None else Fraction(value, budget)
