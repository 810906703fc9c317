"""The per-op table written line by line equals Rich's own table, character for character.

The op table is written by `FixedTable` itself: one string a line without colour (files,
pipes), a segment a cell with colour. Both must give the same output as Rich's `Table`, escape
sequences and all: on the shipped specs (the golden files' networks), with the deployment
columns, on random networks, and with names that need escaping or take two columns a character.
"""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
from hypothesis import given, settings
from rich.console import Console, RenderableType

from mbcalc import Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.roofline import resolve_device
from mbcalc.spec.zoo import load_shipped
from mbcalc.views.fixed_table import FixedColumn, FixedTable, Styled
from mbcalc.views.render import op_table
from tests.helpers.strategies import networks
from tests.helpers.zoo_cost import checked_in_full

WIDTH = 200


def plain(renderable: RenderableType, width: int = WIDTH) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def coloured(renderable: RenderableType, width: int = WIDTH) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, force_terminal=True, color_system="truecolor").print(
        renderable
    )
    return buffer.getvalue()


def both(table: FixedTable, width: int = WIDTH) -> tuple[str, str]:
    """The table as `FixedTable` writes it, and as Rich's `Table` does, without colour and with
    (escape sequences and all)."""
    fast = plain(table, width) + coloured(table, width)
    return fast, plain(table.rich_table(), width) + coloured(table.rich_table(), width)


def written_itself(table: FixedTable, monkeypatch: pytest.MonkeyPatch, width: int = WIDTH) -> str:
    """The table rendered with and without colour while Rich's `Table` cannot be built."""

    def refused(self: FixedTable) -> None:
        raise AssertionError("the table was left to Rich")

    with monkeypatch.context() as patch:
        patch.setattr(FixedTable, "rich_table", refused)
        return plain(table, width) + coloured(table, width)


def measured(renderable: RenderableType) -> int:
    console = Console(file=io.StringIO(), width=2000, color_system=None)
    return console.measure(renderable).maximum


@pytest.mark.parametrize("name", checked_in_full())
def test_shipped_specs_are_written_as_rich_writes_them(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = op_table(analyze(build_graph(load_shipped(name))))
    fast, rich = both(table)
    assert fast == rich
    assert written_itself(table, monkeypatch) == fast
    assert measured(table) == measured(table.rich_table())


@pytest.mark.parametrize("settings", [Settings(), Settings(alpha=Fraction(1, 2), res=160)])
def test_deployment_columns_are_written_as_rich_writes_them(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = analyze(build_graph(load_shipped("mobilenet_v2"), settings))
    deployment = deploy(report, None, 2, True, resolve_device("jetson-nano"), show_memory=True)
    table = op_table(report, deployment)
    fast, rich = both(table, width=400)  # wider than 200 columns, as `render_plain` lets it be
    assert fast == rich
    assert written_itself(table, monkeypatch, width=400) == fast


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


@pytest.mark.parametrize("footer", [True, False])
@pytest.mark.parametrize("sections", [frozenset(), frozenset({0, 2}), frozenset({1, 3})])
def test_sections_and_no_footer_are_written_as_rich_writes_them(
    footer: bool, sections: frozenset[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = [FixedColumn("name", "total"), FixedColumn("count", "10", "right")]
    table = FixedTable("rows", columns, show_footer=footer, sections=sections)
    for number in range(4):
        table.add_row(f"row {number}", Styled(str(number), "dim"))
    fast, rich = both(table)
    assert fast == rich
    assert written_itself(table, monkeypatch) == fast
    assert ("total" in fast) == footer
