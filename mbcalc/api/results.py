"""What the Python API returns: the library's results with the views a notebook asks for.

Each result gives `to_dict()` (the JSON report the command line writes, as Python data),
`to_records()` (one plain dict per row, for `pandas.DataFrame`), a short `repr` and
`_repr_html_` (the table Jupyter shows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mbcalc.core.report import Report, Totals
from mbcalc.views.formats import dims, exact, multiplier
from mbcalc.views.notebook import OpLine, Record, html_table, op_lines

if TYPE_CHECKING:
    import numpy as np

    from mbcalc.core.compare import Comparison
    from mbcalc.core.graph import Graph
    from mbcalc.core.profiles import Counted
    from mbcalc.grid.fit import Fit, FitResult
    from mbcalc.grid.refusals import Refusal
    from mbcalc.grid.scaling import ScaledRow, Scaling
    from mbcalc.grid.sweep import Grid


@dataclass(frozen=True, slots=True)
class Total(Totals):
    """The network's totals: `mult_adds`, `params` and `bn_params` read directly."""

    @property
    def mult_adds(self) -> int:
        return self.cost.mult_adds

    @property
    def params(self) -> int:
        return self.cost.params

    @property
    def bn_params(self) -> int:
        return self.cost.bn_params


@dataclass(eq=False, frozen=True)
class Analysis(Report):
    """A report (`mbcalc.core.report.Report`, which every function of the library takes) named
    as the caller named its spec, with its count under a profile and a notebook's views."""

    total: Total
    label: str = ""
    counted: Counted | None = None

    @classmethod
    def of(cls, report: Report, label: str, counted: Counted | None = None) -> Analysis:
        """`report` with its label (`mobilenet_v2`, a path) and its profile's count."""
        own = report.total
        total = Total(own.cost, own.standard_mult_adds, own.activations)
        return cls(report.graph, report.rows, report.units, total, label, counted)

    @cached_property
    def ops(self) -> tuple[OpLine, ...]:
        """Every op: name, layer type (`Conv DW 3x3`), shapes, mult-adds, params, shares."""
        return op_lines(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (`mbcalc table --format json`) as Python data."""
        from mbcalc.views.export import report_record

        return report_record(self, None, self.counted)

    def to_records(self) -> list[Record]:
        """One plain record per op: what `pandas.DataFrame(report.to_records())` takes."""
        return [line.record() for line in self.ops]

    def __repr__(self) -> str:
        graph, total = self.graph, self.total
        return (
            f"<Report {self.label} alpha={multiplier(graph.alpha)}{_depth(graph)} "
            f"res={_size(graph.resolution)}: "
            f"{exact(total.mult_adds)} mult-adds, {exact(total.params)} params, "
            f"{len(self.rows)} ops>"
        )

    def _repr_html_(self) -> str:
        graph, total = self.graph, self.total
        summary = {
            "alpha": multiplier(graph.alpha),
            "input": dims(graph.input_shape),
            "mult-adds": exact(total.mult_adds),
            "params": exact(total.params),
            "BN params": exact(total.bn_params),
        }
        if self.counted is not None:
            summary[f"operations ({self.counted.profile.name})"] = exact(self.counted.operations)
        return html_table(f"{self.label} ({graph.spec.name})", summary, self.to_records())


def _depth(graph: Graph) -> str:
    """` depth=1.4` where the graph's depth is not 1."""
    return "" if graph.depth == 1 else f" depth={multiplier(graph.depth)}"


def _size(resolution: tuple[int, int]) -> str:
    """An input size as `224`, or `224x160` when it is not square."""
    height, width = resolution
    return str(height) if height == width else dims(resolution)


@dataclass(frozen=True)
class Compared:
    """Several reports side by side (`mbcalc.core.compare.Comparison`), the first the reference."""

    comparison: Comparison

    @cached_property
    def reports(self) -> tuple[Analysis, ...]:
        """Each column's report, named by its argument."""
        return tuple(
            Analysis.of(column.report, column.target.argument) for column in self.comparison.columns
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `mbcalc compare --format json` as Python data (with the layer
        types side by side when the networks' units do not correspond, as there)."""
        from mbcalc.core.compare import layout_of
        from mbcalc.views.compare_export import compare_record

        comparison = self.comparison
        layout = layout_of(comparison, summary=False, by_layer=False)
        return compare_record(comparison, None, layout)

    def to_records(self) -> list[Record]:
        """One plain record per column: setting, totals, ratios to the first column."""
        from mbcalc.views.notebook import column_records

        return column_records(self.comparison)

    def __repr__(self) -> str:
        columns = self.comparison.columns
        names = " vs ".join(column.target.argument for column in columns)
        counts = " / ".join(exact(column.report.total.cost.mult_adds) for column in columns)
        return f"<Comparison {names}: {counts} mult-adds>"

    def _repr_html_(self) -> str:
        from mbcalc.views.compare_export import compare_legend

        summary = {"rows": str(len(self.comparison.rows)), "how": "; ".join(
            compare_legend(self.comparison))}  # fmt: skip
        return html_table("comparison", summary, self.to_records())


@dataclass(frozen=True)
class Swept:
    """A spec over a grid of widths and input heights (`mbcalc.grid.sweep.Grid`)."""

    grid: Grid
    refusals: tuple[Refusal, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `mbcalc sweep --format json` as Python data."""
        from mbcalc.views.sweep_views import sweep_json

        data: dict[str, Any] = json.loads(sweep_json(self.grid, self.refusals))
        return data

    def to_records(self) -> list[Record]:
        """One plain record per setting, widths outer; counts None where it cannot be built."""
        from mbcalc.views.notebook import setting_records

        return setting_records(self.grid)

    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        """numpy arrays: `alpha`, `height` and `width` (the axes), then `mult_adds`, `params`,
        `bn_params` and `valid`, each widths x resolutions (counts 0 where not valid); under a
        counting profile other than the paper's also `operations` and `counted_params`; with
        depths other than 1, `depth` (each row's, beside `alpha`)."""
        import numpy as np

        grid = self.grid
        arrays = {
            "alpha": np.array([float(alpha) for alpha in grid.alphas]),
            "height": np.array([height for height, _ in grid.resolutions]),
            "width": np.array([width for _, width in grid.resolutions]),
            "mult_adds": grid.mult_adds,
            "params": grid.params,
            "bn_params": grid.bn_params,
            "valid": grid.valid,
        }
        if grid.has_depth:
            arrays["depth"] = np.array([float(depth) for depth in grid.depths])
        counted = grid.counted
        if counted is not None and not counted.profile.is_paper:
            arrays["operations"] = counted.operations
            arrays["counted_params"] = counted.params
        return arrays

    def __repr__(self) -> str:
        grid = self.grid
        return (
            f"<Sweep {grid.spec.name}: {len(grid.alphas)} alphas x {len(grid.resolutions)} "
            f"resolutions, {int(grid.valid.sum())} of {grid.valid.size} settings valid>"
        )

    def _repr_html_(self) -> str:
        summary = {"settings": str(self.grid.valid.size), "refused": str(len(self.refusals))}
        return html_table(f"sweep of {self.grid.spec.name}", summary, self.to_records())


@dataclass(frozen=True)
class Fitted:
    """The settings of a spec that fit a budget (`mbcalc.grid.fit.FitResult`)."""

    result: FitResult

    @property
    def best(self) -> Fit | None:
        """The fitting setting with the most mult-adds (then params), None when none fits."""
        best = self.result.best
        return None if best is None else self.result.frontier[best]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `mbcalc fit --format json` as Python data."""
        from mbcalc.views.fit_views import fit_json

        data: dict[str, Any] = json.loads(fit_json(self.result))
        return data

    def to_records(self) -> list[Record]:
        """One plain record per setting listed (the frontier, or every fit with `list_all`)."""
        from mbcalc.views.notebook import fit_records

        return fit_records(self.result)

    def __repr__(self) -> str:
        result, best = self.result, self.best
        found = "nothing fits" if best is None else (
            f"best alpha={multiplier(best.alpha)} res={_size(best.resolution)}, "
            f"{exact(best.mult_adds)} mult-adds, {exact(best.params)} params"
        )  # fmt: skip
        budget = result.max_mult_adds
        within = "its budget" if budget is None else f"{exact(budget)} mult-adds"
        return f"<Fit {result.spec.name} within {within}: {found}>"

    def _repr_html_(self) -> str:
        result = self.result
        summary = {
            "searched": exact(result.settings_searched),
            "fitting": exact(result.settings_fitting),
        }
        return html_table(f"fit of {result.spec.name}", summary, self.to_records())


@dataclass(frozen=True)
class Scaled:
    """A spec under compound scaling, one row per phi (`mbcalc.grid.scaling.Scaling`)."""

    scaling: Scaling

    @property
    def best(self) -> ScaledRow | None:
        """The row of the largest phi within the budget; None without one or when none fits."""
        return self.scaling.best

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of `mbcalc scale --format json` as Python data."""
        from mbcalc.views.scale_views import scale_json

        data: dict[str, Any] = json.loads(scale_json(self.scaling))
        return data

    def to_records(self) -> list[Record]:
        """One plain record per phi."""
        from mbcalc.views.scale_views import scale_table_records

        return scale_table_records(self.scaling)

    def __repr__(self) -> str:
        rows = self.scaling.rows
        return f"<Scale {self.scaling.spec.name}: {len(rows)} values of phi>"

    def _repr_html_(self) -> str:
        summary = {"phi": ", ".join(multiplier(row.phi) for row in self.scaling.rows)}
        return html_table(
            f"compound scaling of {self.scaling.spec.name}", summary, self.to_records()
        )
