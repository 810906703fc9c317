"""The labelled lines under a report's per-op table, for every medium that shows them."""

from __future__ import annotations

from mbcalc.core.report import Report
from mbcalc.views.aux_text import AUX_LABEL, aux_summary
from mbcalc.views.convention import ACTIVATIONS_MEANING
from mbcalc.views.formats import dims, exact, multiplier, ratio
from mbcalc.views.text import multipliers, twin_text


def total_lines(report: Report) -> list[tuple[str, str]]:
    """(label, text): the exact totals, the activations, an auxiliary head's share, the
    standard-convolution twin, the reduction against it and the settings. No user text."""
    graph = report.graph
    total = report.total
    lines = [
        (
            "total",
            f"{exact(total.cost.mult_adds)} mult-adds · {exact(total.cost.params)} params · "
            f"{exact(total.cost.bn_params)} BN params",
        ),
        ("activations", f"{exact(total.activations)} ({ACTIVATIONS_MEANING})"),
    ]
    aux = aux_summary(report)
    if aux is not None:
        lines.append((AUX_LABEL, aux))
    lines.append(
        (
            "standard conv",
            f"{exact(total.standard_mult_adds)} mult-adds with {twin_text(report)}",
        )
    )
    speedup = f" ({float(1 / total.reduction):.2f}x fewer mult-adds)" if total.reduction else ""
    lines += [
        ("reduction", f"{ratio(total.reduction)}{speedup}"),
        (
            "settings",
            f"{multipliers(graph, ' · ')} · rho {multiplier(graph.rho)} · input "
            f"{dims(graph.input_shape)} · rounding {graph.spec.rounding}",
        ),
    ]
    return lines
