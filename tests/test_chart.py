"""`mbcalc chart`: per-layer bars of mult-adds and params, drawn to an eighth of a character."""

from __future__ import annotations

import io
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from mbcalc.core.graph import build_graph
from mbcalc.core.report import analyze
from mbcalc.spec.zoo import load_shipped
from mbcalc.views.chart import EIGHTHS, FULL, Chart, bar
from tests.helpers.cli import invoke_mbcalc, ok

PARTS = "".join(EIGHTHS)


def cells(drawn: str) -> int:
    """The length of a bar in eighths of a cell."""
    assert drawn.rstrip(PARTS).strip(FULL) == "", drawn  # full blocks, then one part at most
    assert len(drawn) - len(drawn.rstrip(PARTS)) <= 1, drawn
    rest = drawn[len(drawn.rstrip(PARTS)) :]
    return 8 * drawn.count(FULL) + (EIGHTHS.index(rest) if rest else 0)


# --- one bar ---------------------------------------------------------------------------------


def test_the_largest_value_fills_the_width() -> None:
    assert bar(7, 7, 20) == FULL * 20


def test_nothing_draws_nothing() -> None:
    assert bar(0, 100, 20) == ""
    assert bar(0, 0, 20) == ""


def test_eighths_resolve_a_fraction_of_a_cell() -> None:
    assert bar(1, 16, 1) == "▏"  # half an eighth rounds up to one eighth
    assert bar(5, 8, 1) == "▋"  # five eighths
    assert bar(3, 4, 10) == FULL * 7 + "▌"  # 7.5 cells
    assert bar(1, 3, 3) == FULL


def test_a_tiny_cost_still_shows() -> None:
    assert bar(1, 10**12, 80) == "▏"


@given(
    st.integers(min_value=1, max_value=10**15),
    st.integers(min_value=1, max_value=10**15),
    st.integers(min_value=1, max_value=300),
)
def test_a_bar_is_the_value_to_the_nearest_eighth(value: int, largest: int, width: int) -> None:
    value = min(value, largest)
    eighths = cells(bar(value, largest, width))
    exact = Fraction(8 * value * width, largest)
    assert 1 <= eighths <= 8 * width
    if exact < Fraction(1, 2):
        assert eighths == 1  # shown, however small
    else:
        assert abs(eighths - exact) <= Fraction(1, 2)


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=10**9),
)
def test_bars_grow_with_their_value(a: int, b: int, largest: int) -> None:
    small, big = sorted((min(a, largest), min(b, largest)))
    assert len(bar(small, largest, 40)) <= len(bar(big, largest, 40))
    assert cells(bar(small, largest, 40) or "") <= cells(bar(big, largest, 40) or "")


# --- the chart of a network ------------------------------------------------------------------


def human(count: int) -> str:
    """The paper's millions, as labels show them: 54,992,896 -> 54.99M."""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if count >= size:
            return f"{count / size:.2f}{suffix}"
    return str(count)


# MobileNet's sep3 (56x56x128 -> 56x56x128) has the most mult-adds of any unit, and sep13
# (7x7x1024 -> 7x7x1024) the most params: the paper's formulas (section 3).
SEP3_MULT_ADDS = 56 * 56 * 9 * 128 + 56 * 56 * 128 * 128
SEP13_PARAMS = 9 * 1024 + 1024 * 1024
CONV1_MULT_ADDS = 112 * 112 * 3 * 3 * 3 * 32


LINE = re.compile(r"(?P<unit>\S*)\s+(?P<what>mult-adds|params)\s+(?P<bar>[█▏▎▍▌▋▊▉]*)\s*\S+")


def bars(text: str) -> dict[tuple[str, str], str]:
    """(unit, what) -> the bar drawn for it, from the plain-text chart."""
    found: dict[tuple[str, str], str] = {}
    unit = ""
    for line in text.splitlines():
        match = LINE.fullmatch(line)
        if match is None:
            continue
        unit = match["unit"] or unit  # the params line leaves the unit's name out
        found[(unit, match["what"])] = match["bar"]
    return found


def test_piped_chart_is_plain_text_100_columns_wide() -> None:
    text = ok("chart", "mobilenet_v1")
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    drawn = bars(text)
    names = ["conv1", *(f"sep{i}" for i in range(1, 14)), "pool1", "fc1"]
    assert sorted({unit for unit, _ in drawn}) == sorted(names)
    assert all((name, what) in drawn for name in names for what in ("mult-adds", "params"))
    width = len(drawn[("sep3", "mult-adds")])
    assert drawn[("sep3", "mult-adds")] == FULL * width
    assert drawn[("sep13", "params")] == FULL * width
    assert width >= 60  # most of the 100 columns go to the bars
    assert drawn[("pool1", "mult-adds")] == ""
    assert cells(drawn[("conv1", "mult-adds")]) == round(
        CONV1_MULT_ADDS * width * 8 / SEP3_MULT_ADDS
    )


def test_labels_are_human_units_from_the_formulas() -> None:
    text = ok("chart", "mobilenet_v1")
    lines = text.splitlines()
    sep3 = next(line for line in lines if line.startswith("sep3 "))
    assert sep3.endswith(human(SEP3_MULT_ADDS))
    assert human(SEP3_MULT_ADDS) == "54.99M"
    assert f"{human(SEP13_PARAMS)} params" in text  # the scale, in the legend
    assert "MobileNet v1" in lines[0]


def test_settings_apply(tmp_path: Path) -> None:
    text = ok("chart", "mobilenet_v1", "--alpha", "0.5", "--res", "160")
    assert "alpha 0.5, 160x160" in text
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1"))
    assert conv1.endswith(human(80 * 80 * 3 * 3 * 3 * 16))


def test_output_file_is_the_plain_chart(tmp_path: Path) -> None:
    target = tmp_path / "chart.txt"
    assert ok("chart", "vgg16", "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == ok("chart", "vgg16")


@pytest.mark.parametrize("width", [60, 100, 160])
def test_the_chart_fits_the_terminal_and_is_coloured_there(width: int) -> None:
    report = analyze(build_graph(load_shipped("mobilenet_v1")))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system="standard")
    console.print(Chart(report))
    text = buffer.getvalue()
    assert "\x1b[36m" in text  # cyan mult-adds bars
    assert "\x1b[35m" in text  # magenta params bars
    plain = Console(file=io.StringIO(), width=width, color_system=None)
    with plain.capture() as capture:
        plain.print(Chart(report))
    assert max(len(line) for line in capture.get().splitlines()) <= width


def test_a_bad_spec_exits_1(tmp_path: Path) -> None:
    result = invoke_mbcalc("chart", "no_such_net")
    assert result.exit_code == 1
    assert result.stderr.startswith("mbcalc: error: ")
    assert result.stdout == ""


def test_help_describes_the_chart() -> None:
    text = " ".join(ok("chart", "--help").split())
    assert "bar chart of mult-adds and params per layer" in text
    assert "--output" in text
    assert "--format" not in text  # a chart is a picture, not a data format
