"""Report -> JSON (schema mbcalc.report/1), CSV and Markdown text."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii as json_string
from typing import TYPE_CHECKING, Any

from mbcalc.core.report import OpRow, Report, UnitRow
from mbcalc.views import deploy_views
from mbcalc.views.aux_text import (
    aux_fields,
    aux_summary,
    aux_total_fields,
    mult_adds_text,
)
from mbcalc.views.convention import ACTIVATIONS_MEANING, CONVENTION, markdown_convention
from mbcalc.views.escape import for_markdown
from mbcalc.views.formats import decimal, dims, exact, op_window, percent, unit_share
from mbcalc.views.text import (
    csv_text,
    multipliers,
    reduction_text,
    setting_record,
    twin_text,
    unit_counts,
)

if TYPE_CHECKING:
    from rich.text import Text

    from mbcalc.core.profiles import Counted
    from mbcalc.deploy.deployment import Deployment

SCHEMA = "mbcalc.report/1"

LAYER_FIELDS = (
    "name", "unit", "op", "kernel", "stride", "groups", "input", "output",
    "mult_adds", "params", "bn_params", "activations",
)  # fmt: skip


def layer_record(row: OpRow, names: tuple[str, ...]) -> dict[str, Any]:
    """One op as the report's `layers` entry; `names` maps op indices to names, and its last
    entry, index -1, is the network's input."""
    op, cost = row.op, row.cost
    kernel, stride = op.kernel, op.stride
    return {
        "name": op.name,
        "unit": op.unit,
        "op": op.kind,  # a str enum: written as its value
        "kernel": None if kernel is None else [*kernel],
        "stride": None if stride is None else [*stride],
        "groups": op.groups,
        "input": [*op.input],
        "output": [*op.output],
        "mult_adds": cost.mult_adds,
        "params": cost.params,
        "bn_params": cost.bn_params,
        "activations": row.activations,
        **aux_fields(cost, op.aux),
        "sources": [names[i] for i in op.sources],
        "act": op.act,
    }


def source_names(report: Report) -> tuple[str, ...]:
    """The names `layer_record` gives sources: each op's, then (index -1) the input's."""
    return (*(row.op.name for row in report.rows), "input")


def unit_record(unit: UnitRow) -> dict[str, Any]:
    """One unit as the report's `units` entry: its counts, and its standard twin's if any."""
    record = unit_counts(unit) | aux_fields(unit.cost, unit.rows[0].op.aux)
    reduction = unit.reduction  # computed on each access: once here
    if unit.standard_mult_adds is not None and reduction is not None:
        record["standard_mult_adds"] = unit.standard_mult_adds
        record["reduction"] = decimal(reduction)
    return record


def report_record(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> dict[str, Any]:
    """The whole report as JSON-ready data; counts stay exact integers.

    A deployment adds `memory` and `roofline` objects to each layer and to the total.
    """
    record = _report_fields(report, deployment, counted)
    record["layers"] = list(record["layers"])
    return record


def _report_fields(
    report: Report, deployment: Deployment | None, counted: Counted | None
) -> dict[str, Any]:
    """`report_record` with its layers still to be made, one by one, as they are written."""
    names = source_names(report)
    return _document_fields(
        report,
        (
            (
                layer_record(row, names)
                if deployment is None
                else {
                    **layer_record(row, names),
                    **deploy_views.layer_fields(deployment, row.op.index),
                }
            )
            for row in report.rows
        ),
        [unit_record(unit) for unit in report.units],
        deployment,
        counted,
    )


def _document_fields(
    report: Report,
    layers: object,
    units: object,
    deployment: Deployment | None,
    counted: Counted | None,
) -> dict[str, Any]:
    """The report's fields in the document's order, with `layers` and `units` as given."""
    total = report.total
    return {
        "schema": SCHEMA,
        **setting_record(report),
        "convention": CONVENTION,
        **({} if counted is None else {"profile": deploy_views.profile_record(counted)}),
        "layers": layers,
        "units": units,
        "total": {
            "mult_adds": total.cost.mult_adds,
            "params": total.cost.params,
            "bn_params": total.cost.bn_params,
            "activations": total.activations,
            "standard_mult_adds": total.standard_mult_adds,
            "reduction": decimal(total.reduction),
            **aux_total_fields(report),
            **deploy_views.total_fields(deployment),
            **({} if counted is None else {"counted": deploy_views.counted_record(counted)}),
        },
    }


def to_json(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    layers = EncodedObjects(_layer_texts(report, deployment))
    units = EncodedObjects(_unit_texts(report))
    return json_document(_document_fields(report, layers, units, deployment, counted))


class EncodedObjects:
    """A list of objects already written as JSON text, one text each, for `json_document`."""

    __slots__ = ("texts",)

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = texts


def _layer_texts(report: Report, deployment: Deployment | None) -> Iterator[str]:
    """Each `layers` entry as `json.dumps` writes its `layer_record` and deployment fields, but
    written directly: each name encoded once, the fields after an op's unit (but its sources)
    once for all the ops alike."""
    names = [json_string(name) for name in source_names(report)]
    middles: dict[object, tuple[str, str]] = {}
    unit, unit_text = "", '""'
    extras = None if deployment is None else deploy_views.layer_field_texts(deployment)
    closing = "}"
    for row in report.rows:
        op, cost = row.op, row.cost
        # (the kind's id: an enum member hashes by a call in Python, its id does not)
        key = (id(op.kind), op.kernel, op.stride, op.groups, op.input, op.output, id(cost), op.act)
        middle = middles.get(key)
        if middle is None:
            middle = middles[key] = _layer_middle(row)
        if op.unit is not unit:
            unit, unit_text = op.unit, json_string(op.unit)
        sources = op.sources
        listed = names[sources[0]] if len(sources) == 1 else ", ".join([names[i] for i in sources])
        if extras is not None:
            extra = extras(op.index)
            closing = f", {extra[1:]}" if len(extra) > 2 else "}"
        head, tail = middle
        yield f'{{"name": {names[op.index]}, "unit": {unit_text}, {head}{listed}{tail}{closing}'


def _layer_middle(row: OpRow) -> tuple[str, str]:
    """A `layers` entry's text from its op kind to its sources' list, and after that list (its
    activation), as `json.dumps` writes them."""
    op, cost = row.op, row.cost
    fields = {
        "op": op.kind,
        "kernel": op.kernel,
        "stride": op.stride,
        "groups": op.groups,
        "input": op.input,
        "output": op.output,
        "mult_adds": cost.mult_adds,
        "params": cost.params,
        "bn_params": cost.bn_params,
        "activations": row.activations,
        **aux_fields(cost, op.aux),
    }
    return f'{json.dumps(fields)[1:-1]}, "sources": [', f'], "act": {json_string(op.act)}'


def _unit_texts(report: Report) -> Iterator[str]:
    """Each `units` entry as `json.dumps` writes its `unit_record`; the fields after the name
    written once for all the units alike."""
    tails: dict[object, str] = {}
    for unit in report.units:
        # alike share a cost; the type's id: an enum member hashes by a call in Python
        key = (id(unit.unit.type), id(unit.cost), unit.standard_mult_adds)
        tail = tails.get(key)
        if tail is None:
            record = unit_record(unit)
            del record["name"]
            tail = tails[key] = json.dumps(record)[1:]
        yield f'{{"name": {json_string(unit.unit.name)}, {tail}'


def json_document(record: dict[str, Any]) -> str:
    """`record` as JSON indented by two spaces, except that each object in a list of objects
    (a layer, a unit) is one line: as readable, and written by the fast C encoder.

    A list may also be an iterator of objects: each is written, then dropped; or
    `EncodedObjects`, written as they are.
    """
    parts = ["{"]
    separator = "\n"
    for key, value in record.items():
        parts.append(f"{separator}  {json.dumps(key)}: ")
        separator = ",\n"
        if isinstance(value, EncodedObjects):
            texts = list(value.texts)
            parts.extend(["[\n    ", ",\n    ".join(texts), "\n  ]"] if texts else ["[]"])
            del texts  # one copy of a long list's text at a time
        elif isinstance(value, Iterator) or (
            isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
        ):
            lines = list(_object_lines(iter(value)))
            parts.extend(["[", *lines, "\n  ]"] if lines else ["[]"])
        else:
            parts.append(json.dumps(value, indent=2).replace("\n", "\n  "))
    parts.append("\n}\n")
    return "".join(parts)


_CHUNK = 2000
"""Objects encoded by one call of the C encoder."""


def _object_lines(objects: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Each object as one line, indented by four spaces, the lines separated by commas."""
    first = True
    while chunk := list(itertools.islice(objects, _CHUNK)):
        yield ("\n    " if first else ",\n    ") + ",\n    ".join(_encoded(chunk))
        first = False


def _encoded(objects: list[dict[str, Any]]) -> list[str]:
    """Each object as `json.dumps` writes it, all by one call of the C encoder where it can.

    The encoder separates the items of a list by `}, {` plus the first key. That text cannot
    stand inside a string (its quote would be escaped), so where it occurs once per boundary it
    is the boundary; otherwise (an object holding a list of objects with the same first key, an
    empty object) each object is encoded on its own.
    """
    key = next(iter(objects[0]), None) if objects else None
    if isinstance(key, str) and all(next(iter(item), None) == key for item in objects):
        opening = "{" + json.dumps(key) + ": "
        parts = json.dumps(objects)[1 + len(opening) : -2].split("}, " + opening)
        if len(parts) == len(objects):
            return [f"{opening}{part}}}" for part in parts]
    return list(map(json.dumps, objects))


def to_csv(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """One row per op; the numeric columns sum to the report's totals. With an auxiliary head,
    an `aux_mult_adds` column holds its ops' (training only) mult-adds."""
    fields = LAYER_FIELDS + (() if report.aux_cost() is None else ("aux_mult_adds",))
    lines: list[list[Any]] = [list(fields + deploy_views.csv_header(deployment))]
    names = source_names(report)
    for row in report.rows:
        record = layer_record(row, names) | {"aux_mult_adds": row.cost.aux_mult_adds}
        cells = [
            dims(record[key]) if isinstance(record[key], list) else record[key] for key in fields
        ]
        lines.append(cells + deploy_views.csv_cells(deployment, row.op.index))
    return csv_text(lines)


def to_markdown(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """A paste-ready Markdown table with exact counts, unit subtotals, totals and settings."""
    graph = report.graph
    extra = deploy_views.columns(deployment)
    lines = [
        f"**{for_markdown(graph.spec.name)}** — {multipliers(graph)}, "
        f"input {dims(graph.input_shape)}, rounding {graph.spec.rounding}",
        "",
        "| layer | op | kernel | input → output | mult-adds | % | params | BN params | reduction |"
        + "".join(f" {heading} |" for heading in extra),
        "|---|---|---|---|--:|--:|--:|--:|---|" + "--:|" * len(extra),
    ]
    for section in report.sections():
        if section.unit is not None:
            cells = deploy_views.unit_cells(deployment, section.unit)
            lines.append(_markdown_unit_row(report, section.unit) + _md_cells(cells))
        lines.extend(
            _markdown_op_row(report, row)
            + _md_cells(deploy_views.op_cells(deployment, row.op.index))
            for row in section.rows
        )
    total = report.total
    lines += [
        f"| **total** | | | | **{exact(total.cost.mult_adds)}** | **100.00%** | "
        f"**{exact(total.cost.params)}** | **{exact(total.cost.bn_params)}** | |"
        + _md_cells(list(deploy_views.footers(deployment))),
        "",
        f"With {twin_text(report)}: "
        f"{exact(total.standard_mult_adds)} mult-adds; reduction "
        f"{decimal(total.reduction, 4)}.",
        "",
        f"Activations: {exact(total.activations)} ({ACTIVATIONS_MEANING}).",
        "",
    ]
    aux = aux_summary(report)
    if aux is not None:
        lines += [f"Auxiliary head: {aux}.", ""]
    deployment_lines = [
        f"- {label}: {text}" if label else f"  - {text}"
        for label, text in deploy_views.profile_rows(counted)
        + deploy_views.summary_rows(deployment, for_markdown)
    ]
    if deployment_lines:
        lines += [*deployment_lines, ""]
    lines += [markdown_convention(), ""]
    return "\n".join(lines)


def _md_cells(cells: list[str | Text]) -> str:
    return "".join(f" {for_markdown(str(cell))} |" for cell in cells)


def _markdown_op_row(report: Report, row: OpRow) -> str:
    op = row.op
    geometry = op_window(op)
    return (
        f"| {for_markdown(op.name)} | {op.kind.value} | {geometry} | "
        f"{dims(op.input)} → {dims(op.output)} | {mult_adds_text(row.cost, op.aux, exact)} | "
        f"{'' if op.aux else percent(report.share(row.cost.mult_adds))} | "
        f"{exact(row.cost.params)} | "
        f"{exact(row.cost.bn_params)} | |"
    )


def _markdown_unit_row(report: Report, unit: UnitRow) -> str:
    first, last = unit.rows[0].op, unit.rows[-1].op
    reduction = reduction_text(unit)
    cost = unit.cost
    return (
        f"| **{for_markdown(unit.unit.name)}** | {unit.unit.type.value} | | "
        f"{dims(first.input)} → {dims(last.output)} | "
        f"**{mult_adds_text(cost, first.aux, exact)}** | "
        f"{'' if first.aux else f'**{unit_share(report.share(cost.mult_adds))}**'} | "
        f"**{exact(cost.params)}** | "
        f"**{exact(cost.bn_params)}** | {reduction} |"
    )
