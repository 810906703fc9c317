"""The per-op table written line by line equals Rich's own table, character for character.

Rendered without colour (files, pipes) the op table is written by `FixedTable` itself; with
colour it is Rich's `Table`. Both must give the same text: on the shipped specs (the golden
files' networks), with the deployment columns, on random networks, and with names that need
escaping or take two columns a character.
"""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
from hypothesis import given, settings
from rich.console import Console, RenderableType
from strategies import networks

from mbcalc import Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.roofline import resolve_device
from mbcalc.spec.zoo import load_shipped, shipped_names
from mbcalc.views.fixed_table import FixedColumn, FixedTable, Styled
from mbcalc.views.render import op_table

WIDTH = 200


def plain(renderable: RenderableType, width: int = WIDTH) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def both(table: FixedTable, width: int = WIDTH) -> tuple[str, str]:
    """The table as `FixedTable` writes it, and as Rich's `Table` does."""
    return plain(table, width), plain(table.rich_table(), width)


def measured(renderable: RenderableType) -> int:
    console = Console(file=io.StringIO(), width=2000, color_system=None)
    return console.measure(renderable).maximum


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_specs_are_written_as_rich_writes_them(name: str) -> None:
    table = op_table(analyze(build_graph(load_shipped(name))))
    fast, rich = both(table)
    assert fast == rich
    assert measured(table) == measured(table.rich_table())


@pytest.mark.parametrize("settings", [Settings(), Settings(alpha=Fraction(1, 2), res=160)])
def test_deployment_columns_are_written_as_rich_writes_them(settings: Settings) -> None:
    report = analyze(build_graph(load_shipped("mobilenet_v2"), settings))
    deployment = deploy(report, None, 2, True, resolve_device("jetson-nano"), show_memory=True)
    fast, rich = both(op_table(report, deployment))
    assert fast == rich


@settings(max_examples=40, deadline=None)
@given(networks())
def test_random_networks_are_written_as_rich_writes_them(spec: Spec) -> None:
    fast, rich = both(op_table(analyze(build_graph(spec))))
    assert fast == rich


def test_names_that_need_escaping_or_two_columns_are_written_as_rich_writes_them() -> None:
    text = (
        "name: '[bold]wide 网络 :smile: \\x1b'\ninput: {size: 32, channels: 3}\nlayers:\n"
        "  - conv: {name: '[red]卷积', out: 8, kernel: 3, stride: 2}\n"
        "  - separable: {name: 'sep:one:', out: 16}\n"
        "  - fc: {name: '\uff46\uff43', out: 10}\n"
    )
    table = op_table(analyze(build_graph(parse_spec(text, source="<test>"))))
    fast, rich = both(table)
    assert fast == rich
    assert "卷积" in fast


def test_cells_with_markup_and_styles_are_written_as_rich_writes_them() -> None:
    table = FixedTable(
        "a [bold]title[/bold] much longer than the table is wide",
        [FixedColumn("left", "[i]total[/i]"), FixedColumn("right", Styled("9", "bold"), "right")],
    )
    table.add_row("[bold]x[/bold] :smile:", Styled("12", "dim"))
    table.add_row(Styled("y", ""), "3")
    fast, rich = both(table)
    assert fast == rich


def test_a_table_wider_than_the_page_is_left_to_rich() -> None:
    table = FixedTable("narrow", [FixedColumn("a" * 30), FixedColumn("b" * 30)])
    table.add_row("x", "y")
    fast, rich = both(table, width=40)
    assert fast == rich
