"""How reports show an auxiliary head: its rows' mult-adds, which run in training only, in
parentheses (they are not in the total), and one line saying what the totals hold of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mbcalc.core.costs import Cost
from mbcalc.core.report import Report
from mbcalc.views.formats import exact

AUX_LABEL = "aux head"


def mult_adds_text(cost: Cost, aux: bool, number: Callable[[int], str]) -> str:
    """A row's mult-adds written by `number`; an auxiliary head's (`aux`), in parentheses."""
    return f"({number(cost.aux_mult_adds)})" if aux else number(cost.mult_adds)


def aux_summary(report: Report) -> str | None:
    """What the totals hold of the auxiliary heads, or None for a network without one."""
    cost = report.aux_cost()
    if cost is None:
        return None
    return (
        f"{exact(cost.aux_mult_adds)} mult-adds in training only (in parentheses): not in the "
        f"total · {exact(cost.params)} params · {exact(cost.bn_params)} BN params: in the total"
    )


def aux_fields(cost: Cost, aux: bool) -> dict[str, Any]:
    """The JSON fields of a layer or unit in an auxiliary head (none elsewhere)."""
    return {"aux": True, "aux_mult_adds": cost.aux_mult_adds} if aux else {}


def aux_total_fields(report: Report) -> dict[str, Any]:
    """The JSON total's fields for the auxiliary heads (none for a network without one)."""
    cost = report.aux_cost()
    if cost is None:
        return {}
    return {
        "aux_mult_adds": cost.aux_mult_adds,
        "aux_params": cost.params,
        "aux_bn_params": cost.bn_params,
    }
