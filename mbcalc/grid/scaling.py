"""Compound scaling (Tan & Le, EfficientNet, 2019): depth, width and resolution grown together.

At a compound coefficient phi the depth multiplier is d = a^phi, the width multiplier w = b^phi
and the input side r = base x c^phi, with the paper's per-step factors a = 1.2 (depth),
b = 1.1 (width), c = 1.15 (resolution) chosen so that a x b^2 x c^2 is about 2: each step of
phi about doubles the mult-adds. Each factor is rounded to 4 decimals (halves up), then each
input side to a whole pixel (halves up, `scaled_side`); the multipliers apply to the spec's own
setting (its `defaults:`, else alpha 1, depth 1 and its input size), so that phi = 0 is that
setting exactly. Every row is `mbcalc table` at its setting, with its peak memory and, on a
device, its latency (a calibrated device's estimate, else the roofline bound).
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from mbcalc.core.exact import exact_text
from mbcalc.core.graph import build_graph
from mbcalc.core.ranges import count_values, parse_fractions
from mbcalc.core.report import analyze
from mbcalc.core.settings import Request, Settings, scaled_side
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.memory import DType
from mbcalc.deploy.roofline import Device, number_format
from mbcalc.errors import MbcalcError, SettingsError
from mbcalc.grid.fit import Budget
from mbcalc.kinds import Pair
from mbcalc.spec import Spec

FACTOR_DIGITS = 4
"""Decimals each factor step^phi is rounded to: a multiplier `mbcalc table` can be given."""

MAX_PHI = 20
"""Largest |phi|: at 20 the paper's steps give depth 38, width 6.7 and 3.7k-pixel inputs."""

MAX_PHIS = 200
"""Most values of phi one command computes (each is a full report)."""


@dataclass(frozen=True, slots=True)
class Steps:
    """The growth of each knob per step of phi; all above 1."""

    depth: Fraction = Fraction(12, 10)
    width: Fraction = Fraction(11, 10)
    resolution: Fraction = Fraction(115, 100)

    def __post_init__(self) -> None:
        for name, step in (
            ("depth", self.depth),
            ("width", self.width),
            ("resolution", self.resolution),
        ):
            if step <= 1:
                raise SettingsError(
                    f"the {name} step must be greater than 1, got {exact_text(step)}"
                )

    @property
    def constraint(self) -> Fraction:
        """depth x width^2 x resolution^2: the growth of mult-adds per step (the paper's ~2)."""
        return self.depth * self.width**2 * self.resolution**2


@dataclass(frozen=True, slots=True)
class ScaledRow:
    """One value of phi: its rounded factors, its setting and that setting's figures.

    `growth` is mult-adds over those at phi = 0; `peak_bytes` the peak activation memory;
    `latency` the estimate in seconds on the device, None without one.
    """

    phi: Fraction
    depth_factor: Fraction
    width_factor: Fraction
    resolution_factor: Fraction
    depth: Fraction
    alpha: Fraction
    resolution: Pair
    mult_adds: int
    params: int
    bn_params: int
    growth: Fraction
    peak_bytes: int
    weight_bytes: int
    latency: float | None

    @property
    def target(self) -> float:
        """The paper's target growth 2^phi."""
        return float(2**self.phi) if self.phi.denominator == 1 else 2.0 ** float(self.phi)


@dataclass(frozen=True)
class Scaling:
    """The rows of one spec over phi, and, given a budget, the largest phi within it."""

    spec: Spec
    steps: Steps
    base: Settings
    base_resolution: Pair
    base_mult_adds: int
    rows: tuple[ScaledRow, ...]
    dtype: DType
    batch: int
    fold_bn: bool
    device: Device | None
    budget: Budget | None = None

    @property
    def best(self) -> ScaledRow | None:
        """The row of the largest phi within the budget; None without a budget or when no
        row is within it."""
        if self.budget is None:
            return None
        within = [row for row in self.rows if within_budget(row, self.budget)]
        return max(within, key=lambda row: row.phi, default=None)


def parse_phis(text: str, what: str = "--phi") -> list[Fraction]:
    """Values of phi: a list (0,1,2), START:STOP (steps of 1) or START:STOP:STEP; sorted,
    each once. Raises ValueError for any other text, or values out of range."""
    ranged = f"{text}:1" if text.count(":") == 1 else text
    try:
        if count_values(ranged, what) > MAX_PHIS:  # refused before a long range is built
            raise ValueError(f"{what}: more than {MAX_PHIS} values")
        return checked_phis(parse_fractions(ranged, what), what)
    except ValueError as error:
        raise ValueError(str(error).replace(repr(ranged), repr(text))) from None


def checked_phis(values: Sequence[Fraction], what: str = "phi") -> list[Fraction]:
    """`values` sorted, each once; ValueError for none, too many, or one beyond +-MAX_PHI."""
    phis = sorted(set(values))
    if not phis:
        raise ValueError(f"{what}: no values")
    if len(phis) > MAX_PHIS:
        raise ValueError(f"{what}: {len(phis):,} values, more than {MAX_PHIS}")
    for phi in phis:
        if abs(phi) > MAX_PHI:
            raise ValueError(f"{what}: {exact_text(phi)} is beyond +-{MAX_PHI}")
    return phis


def factor(step: Fraction, phi: Fraction) -> Fraction:
    """step^phi rounded to `FACTOR_DIGITS` decimals, halves up; exact at a whole phi."""
    scale = 10**FACTOR_DIGITS
    if phi.denominator == 1:
        value = step ** int(phi)
        return Fraction(
            (2 * value.numerator * scale + value.denominator) // (2 * value.denominator), scale
        )
    with decimal.localcontext() as context:
        context.prec = 50
        power = decimal.Decimal(step.numerator) / step.denominator
        power **= decimal.Decimal(phi.numerator) / phi.denominator
        rounded = power.quantize(decimal.Decimal(1).scaleb(-FACTOR_DIGITS), decimal.ROUND_HALF_UP)
    return Fraction(rounded)


def within_budget(row: ScaledRow, budget: Budget) -> bool:
    """Whether a row's mult-adds, params and latency are within the budgets given."""
    limits = ((budget.mult_adds, row.mult_adds), (budget.params, row.params))
    if any(limit is not None and value > limit for limit, value in limits):
        return False
    return budget.latency is None or (row.latency is not None and row.latency <= budget.latency)


@dataclass(frozen=True, slots=True)
class Deploying:
    """How peak memory and latency are measured: number format, batch, folding, device."""

    dtype: DType | None = None
    batch: int = 1
    fold_bn: bool = False
    device: Device | None = None


def scale(
    spec: Spec,
    phis: Sequence[Fraction],
    steps: Steps = Steps(),
    deploying: Deploying = Deploying(),
    budget: Budget | None = None,
) -> Scaling:
    """`spec` at each phi of `phis`, its growth measured against phi = 0.

    A setting the spec refuses stops the whole, with its error naming the phi.
    """
    if not phis:
        raise SettingsError("give at least one value of phi")
    if budget is not None and budget.latency is not None and deploying.device is None:
        raise SettingsError("a latency budget needs a device")
    base = Request().settings(spec.defaults)
    base_resolution = base.resolution(spec.input_size)
    base_row = _row(spec, base, base_resolution, Fraction(0), steps, deploying, None)
    rows = tuple(
        base_row if phi == 0
        else _row(spec, base, base_resolution, phi, steps, deploying, base_row.mult_adds)
        for phi in phis
    )  # fmt: skip
    return Scaling(
        spec, steps, base, base_resolution, base_row.mult_adds, rows,
        number_format(deploying.dtype, deploying.device), deploying.batch, deploying.fold_bn,
        deploying.device, budget,
    )  # fmt: skip


def scaled_settings(base: Settings, base_resolution: Pair, phi: Fraction, steps: Steps) -> Settings:
    """The setting at `phi`: the base's depth and alpha times their rounded factors, each input
    side times its factor rounded to a whole pixel."""
    depth_factor, width_factor, res_factor = _factors(phi, steps)
    num, den = res_factor.numerator, res_factor.denominator
    height, width = (scaled_side(side, num, den) for side in base_resolution)
    return Settings(
        alpha=base.alpha * width_factor, res=(height, width), depth=base.depth * depth_factor
    )


def _factors(phi: Fraction, steps: Steps) -> tuple[Fraction, Fraction, Fraction]:
    return factor(steps.depth, phi), factor(steps.width, phi), factor(steps.resolution, phi)


def _row(
    spec: Spec,
    base: Settings,
    base_resolution: Pair,
    phi: Fraction,
    steps: Steps,
    deploying: Deploying,
    base_mult_adds: int | None,
) -> ScaledRow:
    """The row of `phi`; its growth against `base_mult_adds` (None: this row is the base)."""
    settings = scaled_settings(base, base_resolution, phi, steps)
    try:
        report = analyze(build_graph(spec, settings))
        deployment = deploy(
            report, deploying.dtype, deploying.batch, deploying.fold_bn, deploying.device
        )
    except MbcalcError as error:
        raise MbcalcError(f"phi {exact_text(phi)}: {error.message}", error.hint) from None
    cost = report.total.cost
    roofline = deployment.roofline
    base_count = cost.mult_adds if base_mult_adds is None else base_mult_adds
    return ScaledRow(
        phi, *_factors(phi, steps), settings.depth, settings.alpha,
        settings.resolution(spec.input_size), cost.mult_adds, cost.params, cost.bn_params,
        Fraction(cost.mult_adds, base_count or 1), deployment.memory.peak.bytes,
        deployment.memory.weight_bytes, None if roofline is None else roofline.latency,
    )  # fmt: skip
