"""The verification of a spec against PyTorch as a Rich view: one row per op and a summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.views.escape import for_terminal, visible
from mbcalc.views.fitted import KEEP, NAME_FIT, ColumnFit, FittedTable, Give
from mbcalc.views.formats import dims, exact
from mbcalc.views.label_grid import label_grid
from mbcalc.views.text import multipliers

if TYPE_CHECKING:  # the view draws data; PyTorch is needed only to make it
    from mbcalc.pytorch.verification import Verification


def _value(value: object) -> str:
    if isinstance(value, tuple):
        return dims(value)
    return exact(value) if isinstance(value, int) else str(value)


def verification_view(verification: Verification) -> RenderableType:
    """One row per op (its checks, or what differs) and a summary of the whole network."""
    graph = verification.report.graph
    table = Table(
        title=f"{for_terminal(graph.spec.name)} — {multipliers(graph)}, "
        f"{graph.resolution[0]}x{graph.resolution[1]}: mbcalc against PyTorch",
        header_style="bold",
    )
    for column, justify in (("op", "left"), ("kind", "left"), ("output", "right"),
                            ("mult-adds", "right"), ("params", "right"), ("BN", "right"),
                            ("check", "left")):  # fmt: skip
        table.add_column(column, justify=justify, no_wrap=column != "check")  # type: ignore[arg-type]
    for check in verification.checks:
        op, cost = check.row.op, check.row.cost
        if check.ok:
            result = Text("pass (params: runs in training)" if op.aux else "pass", style="green")
        else:
            result = Text(
                "FAIL "
                + "; ".join(
                    f"{name}: expected {_value(want)}, got {_value(got)}"
                    for name, want, got in check.mismatches
                ),
                style="bold red",
            )
        table.add_row(
            Text(visible(op.name)),
            op.kind.value,
            dims(op.output),
            exact(cost.mult_adds),
            exact(cost.params),
            exact(cost.bn_params),
            result,
        )
    fits = [NAME_FIT, *(KEEP for _ in range(5)), ColumnFit(Give.FOLD, narrowest=12)]
    return Group(FittedTable(table, fits), Text(), _summary(verification))


def _summary(verification: Verification) -> Table:
    report, got = verification.report, verification.measured()
    total = report.total.cost
    failed = verification.failed
    grid = label_grid()
    grid.add_row(
        "result",
        Text(
            ("FAIL: " if failed else "pass: ") + visible(verification.verdict),
            style="bold red" if failed else "bold green",
        ),
    )
    for label, want, measured in (
        ("mult-adds", total.mult_adds, got.mult_adds),
        ("params", total.params, got.params),
        ("BN params", total.bn_params, got.bn_params),
    ):
        grid.add_row(label, f"{exact(want)} mbcalc · {exact(measured)} PyTorch")
    if got.act_params:
        grid.add_row(
            "PReLU params", f"{exact(got.act_params)} (activations: not params by mbcalc's count)"
        )
    graph = report.graph
    grid.add_row(
        "settings",
        f"{multipliers(graph, ' · ')} · input {dims(graph.input_shape)} · "
        f"torch {verification.torch_version}",
    )
    grid.add_row(
        "measured",
        "a forward pass on zeros (batch 1); mult-adds by hooks on Conv2d "
        "(output elements x k_h x k_w x C_in/groups), Linear (in x out x rows) and "
        "attention's matrix products (output elements x inner size); "
        "activations: the activation modules in each op's submodule",
    )
    return grid
