"""Several networks side by side: `SPEC@key=value,…` arguments, units aligned across columns.

Data only, with exact ints and fractions; `mbcalc.views.render` and `mbcalc.views.export` format it.

Alignment. The first column is the reference; each further column is laid against the rows
built so far:

- by **name** when its unit names are exactly the first column's (one spec under two settings);
- otherwise by **structure**: `difflib.SequenceMatcher` over unit signatures (unit type, kernel,
  stride; never channels, which alpha changes), so that units which correspond share a row.
  Where a stretch of one network has no counterpart of the same structure in the other (Conv
  MobileNet's full convolutions against MobileNet's separable units), the units are paired by
  **position** within the stretch; what is left over, and units the other network lacks (the five
  units Shallow MobileNet removes), stand in rows of their own, empty in the other columns.

Networks of different designs have few units that correspond (`correspondence`); their rows
would pair unrelated layers, so they are shown by layer type instead (`Layout`).
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from mbcalc.core.by_type import Category, breakdown
from mbcalc.core.costs import Cost
from mbcalc.core.graph import OpKind, build_graph
from mbcalc.core.profiles import Counted, Profile, count
from mbcalc.core.report import Report, UnitRow, analyze
from mbcalc.core.settings import Request, Res, Settings, parse_res, res_sides, to_fraction
from mbcalc.errors import MbcalcError
from mbcalc.kinds import Alignment as Alignment  # noqa: PLC0414 (re-exported: its users name it here)
from mbcalc.spec.defaults import NO_DEFAULTS
from mbcalc.spec.zoo import exists, resolve_spec

SETTING_KEYS = ("alpha", "res", "rho", "depth")
"""What may follow `@` in a compare argument."""

EXAMPLE = "write SPEC@alpha=0.5,res=160"
"""The hint beside a malformed argument."""


class TargetError(MbcalcError):
    """A compare argument whose settings cannot be used (exit status 1); names the argument."""

    exit_status: ClassVar[int] = 1


class TargetSyntaxError(TargetError):
    """A compare argument written wrongly: an unknown key, no `=`, a key twice (exit status 2)."""

    exit_status: ClassVar[int] = 2


@dataclass(frozen=True, slots=True)
class Target:
    """One compare argument: the spec it names and the settings written after its `@`.

    A setting left out (None) is taken from the command's `--alpha`, `--depth`, `--res` and
    `--rho`, else from the spec's `defaults:`; `res` and `rho` count as one setting.
    """

    argument: str
    spec: str
    alpha: Fraction | None = None
    res: Res | None = None
    rho: Fraction | None = None
    depth: Fraction | None = None

    def request(self, command: Request) -> Request:
        """What this argument asks for, completed by the command's options."""
        return Request(self.alpha, self.depth, self.res, self.rho).over(command)

    def settings(self, command: Settings) -> Settings:
        """The settings of this argument where the command's are `command`."""
        return self.request(Request.of(command)).settings(NO_DEFAULTS)


def parse_target(argument: str) -> Target:
    """`mobilenet_v1@alpha=0.5,res=160` -> the spec `mobilenet_v1` at alpha 0.5, 160 pixels.

    A path that exists is taken whole, even with an `@` in it; otherwise the text after the last
    `@` holds comma-separated `key=value` settings with keys alpha, res and rho.
    """
    spec, at, text = argument.rpartition("@")
    if not at or exists(Path(argument)):
        return Target(argument, argument)
    if not spec:
        raise TargetSyntaxError(f"{argument}: no spec before '@'", EXAMPLE)
    if not text.strip():
        raise TargetSyntaxError(f"{argument}: no settings after '@'", EXAMPLE)
    values: dict[str, str] = {}
    for item in text.split(","):
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not key:
            raise TargetSyntaxError(f"{argument}: {item.strip()!r} is not key=value", EXAMPLE)
        if key not in SETTING_KEYS:
            close = difflib.get_close_matches(key, SETTING_KEYS, n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else "the keys are alpha, depth, res and rho"
            )
            raise TargetSyntaxError(f"{argument}: unknown setting {key!r}", hint)
        if key in values:
            raise TargetSyntaxError(f"{argument}: {key} given twice")
        values[key] = value
    if "res" in values and "rho" in values:
        raise TargetSyntaxError(f"{argument}: give res or rho, not both")
    return Target(
        argument,
        spec,
        alpha=_multiplier(argument, "alpha", values.get("alpha")),
        res=_pixels(argument, values.get("res")),
        rho=_multiplier(argument, "rho", values.get("rho")),
        depth=_multiplier(argument, "depth", values.get("depth")),
    )


def _multiplier(argument: str, key: str, text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        value = to_fraction(text)
    except ValueError as error:
        raise TargetError(f"{argument}: {key}: {error}") from None
    if value <= 0:
        raise TargetError(f"{argument}: {key} must be greater than 0, got {text}")
    return value


def _pixels(argument: str, text: str | None) -> Res | None:
    if text is None:
        return None
    try:
        res = parse_res(text, f"{argument}: res")
    except ValueError as error:
        raise TargetError(str(error)) from None
    if min(res_sides(res)) == 0:
        raise TargetError(f"{argument}: res must be a positive number of pixels, got {text}")
    return res


@dataclass(frozen=True, slots=True)
class Change:
    """A count against the first column's: the difference, and the ratio (None against 0)."""

    delta: int
    ratio: Fraction | None


def change(value: int, first: int) -> Change:
    return Change(value - first, Fraction(value, first) if first else None)


@dataclass(frozen=True, slots=True)
class Versus:
    """Mult-adds, params and BN params against the first column's."""

    mult_adds: Change
    params: Change
    bn_params: Change


def versus(cost: Cost, first: Cost) -> Versus:
    """A unit's (or a whole network's) cost against its counterpart's in the first column."""
    return Versus(
        change(cost.mult_adds, first.mult_adds),
        change(cost.params, first.params),
        change(cost.bn_params, first.bn_params),
    )


@dataclass(frozen=True, slots=True)
class Column:
    """One argument and its report; `versus` holds its totals against the first column's,
    `activations_versus` its output activations."""

    target: Target
    report: Report
    versus: Versus | None = None
    counted: Counted | None = None  # the totals under a counting profile, when asked for
    activations_versus: Change | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One aligned row: each column's unit (None where it has none) and how they were paired.

    `versus[k]` is column k's unit against the first column's, where both have one.
    """

    aligned: Alignment
    units: tuple[UnitRow | None, ...]
    versus: tuple[Versus | None, ...]


@dataclass(frozen=True, slots=True)
class TypeRow:
    """One layer type (the paper's Table 2 category) in every column: its cost there, or None
    where that network has no op of the type."""

    category: Category
    costs: tuple[Cost | None, ...]


@dataclass(frozen=True)
class Comparison:
    """The columns and their aligned rows; `corresponds` says whether every column's units
    correspond to the first's (`MIN_CORRESPONDENCE`), so that rows pairing them mean something."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    corresponds: bool = True

    def fewest_mult_adds(self) -> tuple[int, ...]:
        """Indices of the columns with the fewest mult-adds (several on a tie)."""
        counts = [column.report.total.cost.mult_adds for column in self.columns]
        return tuple(i for i, count in enumerate(counts) if count == min(counts))

    def fewest_params(self) -> tuple[int, ...]:
        """Indices of the columns with the fewest params (several on a tie)."""
        counts = [column.report.total.cost.params for column in self.columns]
        return tuple(i for i, count in enumerate(counts) if count == min(counts))

    def by_type(self) -> tuple[TypeRow, ...]:
        """Every column's cost by layer type, side by side: the first column's types in its
        order (largest mult-adds first), then the types only later columns have."""
        sums = [{row.category: row.cost for row in breakdown(c.report)} for c in self.columns]
        order = list(dict.fromkeys(category for costs in sums for category in costs))
        return tuple(TypeRow(cat, tuple(costs.get(cat) for costs in sums)) for cat in order)

    @property
    def by_name(self) -> bool:
        """Whether every column was aligned by unit name."""
        return all(row.aligned is Alignment.NAME for row in self.rows)


Signature = tuple[Hashable, ...]


def signature(unit: UnitRow) -> Signature:
    """What makes units correspond across networks: type, kernel, stride (never channels).

    The window is that of the unit's first op with one (a separable unit's depthwise conv); a
    global pool's window is the whole input, whatever the resolution, and reads `global`.
    """
    for row in unit.rows:
        op = row.op
        if op.kernel is None:
            continue
        is_global = op.kind is OpKind.POOL and op.output[:2] == (1, 1) and op.kernel == op.input[:2]
        return (unit.unit.type, "global" if is_global else (op.kernel, op.stride))
    return (unit.unit.type,)


_Cells = dict[int, tuple[UnitRow, Alignment]]
"""A row being built: column index -> (unit, how it joined the row)."""


def _lay(slots: list[_Cells], column: int, units: Sequence[UnitRow]) -> list[_Cells]:
    """Lay `units` (column `column`) against the rows built so far; returns the new rows.

    By name against the first earlier column with the same unit names, else by structure.
    """
    names = [unit.unit.name for unit in units]
    for earlier in range(column):
        if [slot[earlier][0].unit.name for slot in slots if earlier in slot] == names:
            rows = [dict(slot) for slot in slots]
            where = {
                slot[earlier][0].unit.name: i for i, slot in enumerate(rows) if earlier in slot
            }
            for unit in units:
                rows[where[unit.unit.name]][column] = (unit, Alignment.NAME)
            return rows
    keys = [signature(slot[min(slot)][0]) for slot in slots]
    matcher = difflib.SequenceMatcher(None, keys, [signature(u) for u in units], autojunk=False)
    rows = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = [dict(slot) for slot in slots[i1:i2]], units[j1:j2]
        how = Alignment.STRUCTURE if tag == "equal" else Alignment.POSITION
        for slot, unit in zip(old, new, strict=False):
            slot[column] = (unit, how)
        rows += old
        rows += [{column: (unit, Alignment.ONLY)} for unit in new[len(old) :]]
    return rows


def _row(cells: _Cells, width: int) -> Row:
    units = tuple(cells[k][0] if k in cells else None for k in range(width))
    hows = {how for k, (_, how) in cells.items() if k > 0}
    if len(cells) < width:
        aligned = Alignment.ONLY
    elif Alignment.POSITION in hows:
        aligned = Alignment.POSITION
    elif Alignment.STRUCTURE in hows:
        aligned = Alignment.STRUCTURE
    else:
        aligned = Alignment.NAME
    first = units[0]
    against = tuple(
        None if k == 0 or unit is None or first is None else versus(unit.cost, first.cost)
        for k, unit in enumerate(units)
    )
    return Row(aligned, units, against)


MIN_CORRESPONDENCE = Fraction(1, 2)
"""The share of units that must correspond for a layer-by-layer comparison to mean something:
at or above it for the MobileNet family against itself and EfficientNet (variants of one design,
Conv and Shallow MobileNet included), below it for networks of other designs."""


def correspondence(first: Report, other: Report) -> Fraction:
    """The share of the longer network's units with a counterpart in the other: the same name,
    the same structure, or, where a stretch of units differs, the same window (kernel, stride)
    in the unit paired by position (Conv MobileNet's full convolutions against separable units)."""
    if [u.unit.name for u in first.units] == [u.unit.name for u in other.units]:
        return Fraction(1)
    keys, others = [signature(u) for u in first.units], [signature(u) for u in other.units]
    matcher = difflib.SequenceMatcher(None, keys, others, autojunk=False)
    paired = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            paired += i2 - i1
        elif tag == "replace":
            pairs = zip(keys[i1:i2], others[j1:j2], strict=False)
            paired += sum(mine[1:] == theirs[1:] for mine, theirs in pairs)
    return Fraction(paired, max(len(keys), len(others), 1))


class Layout(StrEnum):
    """How a comparison is shown: unit by unit, by layer type, or its totals alone."""

    LAYERS = "layers"
    TYPES = "types"  # networks whose units do not correspond
    TOTALS = "totals"  # --summary


def layout_of(comparison: Comparison, *, summary: bool, by_layer: bool) -> Layout:
    """Totals alone when asked for; unit by unit when the units correspond or when asked for;
    else by layer type."""
    if summary:
        return Layout.TOTALS
    return Layout.LAYERS if comparison.corresponds or by_layer else Layout.TYPES


def compare(
    targets: Sequence[Target], reports: Sequence[Report], profile: Profile | None = None
) -> Comparison:
    """Align the units of `reports` (one per target); the first is the reference.

    With a counting `profile`, each column also holds its totals under it.
    """
    if not reports:
        return Comparison((), ())
    slots: list[_Cells] = [{0: (unit, Alignment.NAME)} for unit in reports[0].units]
    for k, report in enumerate(reports[1:], start=1):
        slots = _lay(slots, k, report.units)
    columns = tuple(
        Column(
            target,
            report,
            None if k == 0 else versus(report.total.cost, reports[0].total.cost),
            None if profile is None else count(report, profile),
            None if k == 0 else change(report.total.activations, reports[0].total.activations),
        )
        for k, (target, report) in enumerate(zip(targets, reports, strict=True))
    )
    corresponds = all(
        correspondence(reports[0], report) >= MIN_CORRESPONDENCE for report in reports[1:]
    )
    rows = tuple(_row(cells, len(reports)) for cells in slots)
    return Comparison(columns, rows, corresponds)


def load(target: Target, command: Request | Settings) -> Report:
    """The report of one argument; an error at its settings names the argument."""
    spec = resolve_spec(target.spec)
    if isinstance(command, Settings):
        command = Request.of(command)
    try:
        return analyze(build_graph(spec, target.request(command).settings(spec.defaults)))
    except MbcalcError as error:
        raise TargetError(f"{target.argument}: {error}") from None


def compare_arguments(
    arguments: Sequence[str], command: Request | Settings, profile: Profile | None = None
) -> Comparison:
    """Parse, load and align compare arguments as typed on the command line."""
    targets = [parse_target(argument) for argument in arguments]
    return compare(targets, [load(target, command) for target in targets], profile)
