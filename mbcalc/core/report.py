"""Graph -> report data: per-op and per-unit costs, totals, the standard-convolution twin.

Pure data with exact integers and fractions: rendering and export live elsewhere.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from mbcalc.core.activations import op_activations
from mbcalc.core.costs import ZERO, Cost, op_costs
from mbcalc.core.graph import Graph, Op, Unit
from mbcalc.spec import LayerType


@functools.lru_cache(maxsize=4096)
def quotient(numerator: int, denominator: int) -> Fraction:
    """numerator / denominator, made once for the many rows that share it (repeated units)."""
    return Fraction(numerator, denominator)


@dataclass(eq=False, slots=True)
class OpRow:
    """One primitive op, its cost and its output activations (`mbcalc.core.activations`);
    never changed once made (not frozen: a frozen record takes five times as long to make)."""

    op: Op
    cost: Cost
    activations: int


@dataclass(eq=False, slots=True)
class UnitRow:
    """One leaf spec layer (after repeat) with the sums of its ops.

    For a separable unit, `standard_mult_adds` is the cost of one full k x k conv with the same
    input, output channels and stride, and `reduction` = mult_adds / standard_mult_adds, which
    equals `expected_reduction` = 1/N + 1/k^2 exactly. For an mbconv unit it is the unit's cost
    with a full k x k conv (expanded to expanded channels) in place of its depthwise conv.
    Never changed once made.
    """

    unit: Unit
    rows: tuple[OpRow, ...]
    cost: Cost
    standard_mult_adds: int | None = None

    @property
    def activations(self) -> int:
        """The output activations of the unit's ops."""
        return sum([row.activations for row in self.rows])

    @property
    def reduction(self) -> Fraction | None:
        if self.standard_mult_adds is None:
            return None
        return quotient(self.cost.mult_adds, self.standard_mult_adds)

    @property
    def reduction_terms(self) -> tuple[int, int] | None:
        """(N, k^2) of a separable unit: its output channels and its kernel's taps."""
        standard = self.unit.standard
        if self.unit.type is not LayerType.SEPARABLE or standard is None or not standard.kernel:
            return None
        kernel_h, kernel_w = standard.kernel
        return standard.output[2], kernel_h * kernel_w

    @property
    def expected_reduction(self) -> Fraction | None:
        """The paper's 1/N + 1/k^2 for a separable unit (N output channels, k x k kernel)."""
        terms = self.reduction_terms
        return None if terms is None else Fraction(1, terms[0]) + Fraction(1, terms[1])


@dataclass(eq=False, slots=True)
class Section:
    """Consecutive ops shown together: a unit of several ops, or one op on its own.

    `unit` is set when the ops form a unit of more than one op (separable, se): renderers show
    a header row with the unit's sums above them. Never changed once made.
    """

    unit: UnitRow | None
    rows: tuple[OpRow, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over every op, and the network with each separable unit made a standard conv."""

    cost: Cost
    standard_mult_adds: int
    activations: int  # output activations of every op (`mbcalc.core.activations`)

    @property
    def reduction(self) -> Fraction:
        if self.standard_mult_adds == 0:
            return Fraction(1)
        return Fraction(self.cost.mult_adds, self.standard_mult_adds)


@dataclass(eq=False, frozen=True)
class Report:
    """Everything a renderer or exporter needs about one network at one setting."""

    graph: Graph
    rows: tuple[OpRow, ...]
    units: tuple[UnitRow, ...]
    total: Totals

    def sections(self) -> tuple[Section, ...]:
        """The ops in execution order, grouped under their unit where it has several."""
        sections: list[Section] = []
        done = 0  # ops before this index are placed
        for unit in self.units:
            first = unit.rows[0].op.index
            sections.extend(Section(None, (row,)) for row in self.rows[done:first])
            sections.append(Section(unit if len(unit.rows) > 1 else None, unit.rows))
            done = unit.rows[-1].op.index + 1
        sections.extend(Section(None, (row,)) for row in self.rows[done:])
        return tuple(sections)

    def aux_cost(self) -> Cost | None:
        """The auxiliary heads' ops summed (their `aux_mult_adds` run in training only), or
        None for a network without one."""
        rows = [row.cost for row in self.rows if row.op.aux]
        return sum_costs(rows) if rows else None

    def share(self, mult_adds: int) -> Fraction:
        """A part's share of the network's mult-adds (0 for a network with none)."""
        total = self.total.cost.mult_adds
        return quotient(mult_adds, total) if total else Fraction(0)

    def param_share(self, params: int) -> Fraction:
        """A part's share of the network's params (0 for a network with none)."""
        total = self.total.cost.params
        return quotient(params, total) if total else Fraction(0)


def sum_costs(costs: Iterable[Cost]) -> Cost:
    total = ZERO
    for cost in costs:
        total += cost
    return total


def analyze(graph: Graph) -> Report:
    """Cost every op of `graph` and sum by unit and over the network."""
    costs = op_costs(graph.ops)
    rows = tuple(map(OpRow, graph.ops, costs, _activations(graph.ops, costs)))
    twins = iter(op_costs(unit.standard for unit in graph.units if unit.standard is not None))
    units = []
    sums: dict[tuple[int, ...], Cost] = {}  # units alike (a layer's repeats) summed once
    twinned_mult_adds = standard_mult_adds = 0
    for unit in graph.units:
        ops = unit.ops  # consecutive
        first = ops[0]
        if len(ops) == 1:
            unit_rows: tuple[OpRow, ...] = (rows[first],)
            cost = costs[first]
        else:
            end = ops[-1] + 1
            unit_rows = rows[first:end]
            parts = costs[first:end]
            key = tuple(map(id, parts))  # ops alike share a cost
            cost = sums.get(key) or sums.setdefault(key, sum_costs(parts))
        standard = None
        if unit.standard is not None:
            if unit.replaced is ops or unit.replaced == ops:
                replaced = cost.mult_adds
            else:
                replaced = sum([costs[i].mult_adds for i in unit.replaced])
            standard = cost.mult_adds - replaced + next(twins).mult_adds
            twinned_mult_adds += cost.mult_adds
            standard_mult_adds += standard
        units.append(UnitRow(unit, unit_rows, cost, standard))
    total = _total(costs)
    standard_total = total.mult_adds - twinned_mult_adds + standard_mult_adds
    activations = sum([row.activations for row in rows])
    return Report(graph, rows, tuple(units), Totals(total, standard_total, activations))


def _activations(ops: Iterable[Op], costs: list[Cost]) -> list[int]:
    """Each op's output activations, counted once for the ops alike (those sharing a cost:
    alike in every shape and property the count reads)."""
    known: dict[int, int] = {}
    counts = []
    for op, cost in zip(ops, costs, strict=True):
        count = known.get(id(cost))
        if count is None:
            count = known[id(cost)] = op_activations(op)
        counts.append(count)
    return counts


def _total(costs: list[Cost]) -> Cost:
    return Cost(
        sum([cost.mult_adds for cost in costs]),
        sum([cost.params for cost in costs]),
        sum([cost.bn_params for cost in costs]),
        sum([cost.aux_mult_adds for cost in costs]),
    )
