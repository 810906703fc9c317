"""Rendered reports frozen as golden files (rewrite with `pytest --update-golden`).

The table goldens are what `mbcalc table --output FILE` writes: Rich rendered 200 columns wide,
without colour, trailing spaces stripped.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mbcalc.cli.app import app
from mbcalc.core.graph import build_graph
from mbcalc.core.profiles import PROFILES, count
from mbcalc.core.report import analyze
from mbcalc.core.settings import Settings
from mbcalc.spec.zoo import load_shipped
from mbcalc.views.render import report_view

WIDTH = 200
BOX = set("┏┃┡│├└")


class Golden(Protocol):
    def __call__(self, name: str, text: str) -> None: ...


SETTINGS = {
    "mobilenet_v1-1.0-224": ((), Settings()),
    "mobilenet_v1-0.5-160": (("--alpha", "0.5", "--res", "160"), Settings(Fraction(1, 2), 160)),
}


def cli_output(tmp_path: Path, *args: str) -> str:
    target = tmp_path / "out.txt"
    result = CliRunner().invoke(app, ["table", "mobilenet_v1", *args, "--output", str(target)])
    assert result.exit_code == 0, result.output
    return target.read_text(encoding="utf-8")


def rich_text(settings: Settings) -> str:
    """The library's renderable, rendered the way the CLI writes files."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None)
    report = analyze(build_graph(load_shipped("mobilenet_v1"), settings))
    # The command line always states the counting profile in force: the paper's by default.
    console.print(report_view(report, counted=count(report, PROFILES["paper"])))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


@pytest.mark.parametrize("name", SETTINGS)
def test_table(name: str, golden: Golden, tmp_path: Path) -> None:
    options, settings = SETTINGS[name]
    text = cli_output(tmp_path, *options)
    assert text == rich_text(settings)
    lines = text.splitlines()
    box = [line for line in lines if line[:1] in BOX]
    assert len({len(line) for line in box}) == 1, "table rows of different widths"
    assert max(len(line) for line in lines) <= WIDTH
    assert any(line.startswith("│ total") for line in box), "no totals footer"
    golden(f"{name}.table.txt", text)


@pytest.mark.parametrize("name", SETTINGS)
def test_markdown(name: str, golden: Golden, tmp_path: Path) -> None:
    options, _ = SETTINGS[name]
    golden(f"{name}.md", cli_output(tmp_path, *options, "--format", "markdown"))


@pytest.mark.parametrize("name", SETTINGS)
def test_csv(name: str, golden: Golden, tmp_path: Path) -> None:
    options, _ = SETTINGS[name]
    golden(f"{name}.csv", cli_output(tmp_path, *options, "--format", "csv"))
