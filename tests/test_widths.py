"""Every table fits the width it is given, no number is ever cut, and shares add up to 100%.

Each command is drawn at 40 to 200 columns (`--width`, and `COLUMNS` when piped); its
box-drawn rows are read back cell by cell. A cell that holds a number (digits and the marks that
numbers, sizes, shapes and durations are written with) must hold it whole, without `…`.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc.cli.deliver import render_plain
from mbcalc.deploy.roofline import parse_device
from mbcalc.views.latency_views import calibration_view
from tests.helpers.calibrated import chosen_coefficients, write_devices
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, markdown_table, ok

WIDTHS = (40, 60, 80, 100, 120, 200)

COMMANDS = {
    "table": ("table", "mobilenet_v2"),
    "table-v1": ("table", "mobilenet_v1", "--alpha", "0.5", "--res", "160"),
    "table-memory-device": ("table", "mobilenet_v1", "--memory", "--device", "jetson-nano"),
    "table-dtype": ("table", "efficientnet_b0", "--device", "jetson-nano", "--dtype", "int8"),
    "compare": ("compare", "mobilenet_v1_conv", "mobilenet_v1"),
    "compare-three": ("compare", "mobilenet_v1", "mobilenet_v2", "efficientnet_b0"),
    "compare-deploy": (
        "compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160", "--memory", "--device",
        "jetson-nano",
    ),
    "sweep": ("sweep", "efficientnet_b0", "--alpha", "0.25:1:0.25", "--res", "96:320:32"),
    "sweep-deploy": (
        "sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "96:320:32", "--memory",
        "--device", "jetson-nano",
    ),
    "fit": ("fit", "mobilenet_v1", "--max-mult-adds", "100M"),
    "fit-all": ("fit", "mobilenet_v1", "--max-mult-adds", "150M", "--max-params", "1.5M", "--all"),
    "breakdown": ("breakdown", "mobilenet_v2"),
    "chart": ("chart", "mobilenet_v2"),
    "roofline": ("roofline", "mobilenet_v1"),
    "devices": ("devices",),
    "list": ("list",),
    "table-summary": ("table", "mobilenet_v2", "--summary", "--profile", "fvcore"),
    "table-profile": ("table", "mobilenet_v2", "--profile", "thop", "--flops"),
    "compare-types": (
        "compare", "mobilenet_v1", "efficientnet_b0", "mobilenet_v3_small@alpha=0.75",
        "--profile", "fvcore",
    ),
    "compare-summary": ("compare", "mobilenet_v1", "mobilenet_v2", "--summary"),
    "sweep-profile": (
        "sweep", "mobilenet_v2", "--alpha", "0.35,0.5,1", "--res", "96:224:32", "-p", "ptflops",
    ),
    "fit-flops": ("fit", "mobilenet_v1", "--max-flops", "300M", "--profile", "fvcore"),
    "fit-latency": ("fit", "mobilenet_v1", "--max-latency", "20ms", "--device", "jetson-nano"),
    "breakdown-profile": ("breakdown", "mobilenet_v2", "--profile", "thop"),
    "roofline-profile": ("roofline", "mobilenet_v1", "--profile", "fvcore"),
}  # fmt: skip

NUMBER = re.compile(r"[\d.,x%()+\-/ =·→KMGTiBµmns…]*\d[\d.,x%()+\-/ =·→KMGTiBµmns…]*")
"""A cell of numbers: `10.84M`, `(3.34%)`, `3x3 s2`, `112x112x32 → 56x56x64`, `4.59 MiB`."""

ROW = "┃│"


def cells(text: str) -> list[list[str]]:
    """The cells of every box-drawn row (header, body, footer) of every table in `text`."""
    return [
        [cell.strip() for cell in re.split(f"[{ROW}]", line)[1:-1]]
        for line in text.splitlines()
        if line.startswith(tuple(ROW))
    ]


def cut_numbers(text: str) -> list[str]:
    """The cells of numbers that were cut short (hold `…`)."""
    return [cell for row in cells(text) for cell in row if "…" in cell and NUMBER.fullmatch(cell)]


def check_fits(text: str, width: int) -> None:
    """No line wider than `width`, no number cut (a chart has no box-drawn rows to read)."""
    too_long = [line for line in text.splitlines() if len(line) > width]
    assert not too_long, too_long[:3]
    assert not cut_numbers(text), cut_numbers(text)[:5]


def headings(text: str) -> list[list[str]]:
    """The heading cells of each table: the rows between a `┏` line and its `┡` line, joined."""
    tables: list[list[str]] = []
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("┏"):
            rows = []
        elif line.startswith("┃"):
            rows.append([cell.strip() for cell in line.split("┃")[1:-1]])
        elif line.startswith("┡"):
            tables.append([" ".join(parts).strip() for parts in zip(*rows, strict=True)])
    return tables


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_fits_its_width_and_keeps_its_numbers_whole(name: str, width: int) -> None:
    text = ok(*COMMANDS[name], "--width", str(width))
    check_fits(text, width)


@pytest.mark.torch
@pytest.mark.parametrize("width", WIDTHS)
def test_verify_fits_its_width(width: int) -> None:
    pytest.importorskip("torch")
    check_fits(ok("verify", "mobilenet_v1", "--width", str(width)), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_calibrated_device_fits_its_width(width: int, tmp_path: Path) -> None:
    """The table and roofline with an estimate beside the bound; the calibration's own view."""
    calibrated, _ = write_devices(tmp_path, chosen_coefficients())
    for command in ("table", "roofline"):
        check_fits(
            ok(command, "mobilenet_v3_small", "-d", str(calibrated), "--width", str(width)), width
        )
    calibration = parse_device(
        calibrated.read_text(encoding="utf-8"), "calibrated.yaml"
    ).calibration
    assert calibration is not None
    check_fits(render_plain(calibration_view(calibration, 35.6e9, 20e9), width), width)


@pytest.mark.torch
@pytest.mark.parametrize("width", [40, 80, 120])
def test_bench_fits_its_width(width: int) -> None:
    pytest.importorskip("torch")
    args = (
        "bench",
        "mobilenet_v3_small",
        "--alpha",
        "0.25",
        "--res",
        "64",
        "--estimate",
        "jetson-nano",
    )
    result = invoke_mbcalc(*args, "--width", str(width))  # its progress goes to stderr
    assert result.exit_code == 0, result.output
    check_fits(result.stdout, width)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_no_heading_is_blank_but_a_mark_column(width: int) -> None:
    for name in ("table", "table-memory-device", "compare", "roofline", "breakdown"):
        for heading in headings(ok(*COMMANDS[name], "--width", str(width))):
            assert all(heading[1:]), (name, heading)  # the first may be a mark column (compare)


def test_columns_is_honoured_when_piped_and_without_it_the_table_is_whole() -> None:
    result = invoke_mbcalc("table", "mobilenet_v2", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    check_fits(result.stdout, 80)
    assert "hidden at 80 columns" in result.stdout
    text = invoke_mbcalc("table", "mobilenet_v1", "--memory", "--device", "jetson-nano").stdout
    tables = headings(text)
    assert len(tables) == 1
    assert {"reduction", "weights", "% time"} <= set(tables[0])
    assert "hidden" not in text


def test_width_beats_columns_and_reaches_an_output_file(tmp_path: Path) -> None:
    result = invoke_mbcalc("table", "mobilenet_v2", "--width", "120", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines())) > 100
    check_fits(result.stdout, 120)
    target = tmp_path / "table.txt"
    ok("table", "mobilenet_v2", "--width", "80", "--output", str(target))
    written = target.read_text(encoding="utf-8")
    check_fits(written, 80)
    assert "hidden at 80 columns" in written
    ok("table", "mobilenet_v2", "--output", str(target))  # without --width: whole, as before
    assert "hidden" not in target.read_text(encoding="utf-8")


def test_a_hidden_column_is_named_with_the_width_that_shows_it() -> None:
    narrow = ok("table", "mobilenet_v1", "--width", "80")
    note = re.search(r"(.+) hidden at 80 columns; use --width (\d+)", " ".join(narrow.split()))
    assert note, narrow
    assert "reduction" in note[1]
    wide = ok("table", "mobilenet_v1", "--width", note[2])
    assert "hidden" not in wide
    assert "0.1267 = 1/64 + 1/9" in wide  # sep1's reduction: 1/64 + 1/9 = 73/576 = 0.12673...
    assert f"{float(Fraction(1, 64) + Fraction(1, 9)):.4f}" == "0.1267"


def test_the_deployment_view_moves_to_a_second_table_below_160_columns() -> None:
    args = COMMANDS["table-memory-device"]
    assert len(headings(ok(*args, "--width", "200"))) == 1
    narrow = headings(ok(*args, "--width", "150"))
    assert len(narrow) == 2
    assert "mult-adds" in narrow[0]
    assert "weights" not in narrow[0]
    assert {"in", "out", "weights", "MAC/B", "time", "% time"} <= set(narrow[1])
    assert narrow[1][0] == "layer"


def test_the_sweep_splits_by_resolution_keeping_alpha() -> None:
    tables = headings(ok(*COMMANDS["sweep"], "--width", "100"))
    assert len(tables) > 1
    assert all(table[0] == "alpha" for table in tables)
    shown = [heading for table in tables for heading in table[1:]]
    assert shown == [f"{h}x{h}" for h in range(96, 321, 32)]


@pytest.mark.parametrize("width", ["39", "0", "-5"])
def test_a_width_below_40_is_a_usage_error(width: str) -> None:
    result = invoke_mbcalc("table", "mobilenet_v1", "--width", width)
    assert_clean_failure(result, 2, "--width", "x>=40")


# --- shares add up to 100% over the ops ---------------------------------------------------------


def percents(cells_of_rows: list[list[str]], column: int) -> list[Fraction]:
    """The column's plain percentages (a unit's, in parentheses, left out)."""
    found = []
    for row in cells_of_rows:
        match = re.fullmatch(r"\**(\d+\.\d\d)%\**", row[column])
        if match:
            found.append(Fraction(match[1]))
    return found


def test_the_share_of_the_op_rows_adds_up_to_100_percent() -> None:
    record = json.loads(ok("table", "mobilenet_v2", "--format", "json"))
    total = record["total"]["mult_adds"]
    shares = [Fraction(layer["mult_adds"], total) for layer in record["layers"]]
    assert sum(shares) == 1  # exact, from the JSON's integers
    rows = [row for row in cells(ok("table", "mobilenet_v2")) if row[0] not in ("layer", "total")]
    shown = percents(rows, 5)
    assert len(shown) == len(record["layers"])  # one plain share per op, none per unit
    assert abs(sum(shown, Fraction(0)) - 100) <= Fraction(1, 10)
    units = [row[5] for row in rows if re.fullmatch(r"\(\d+\.\d\d%\)", row[5])]
    assert len(units) == len([unit for unit in record["units"] if unit["type"] == "mbconv"])
    deployed = cells(ok("table", "mobilenet_v1", "--device", "jetson-nano", "--width", "200"))
    heading, *body, _ = deployed
    time = heading.index("% time")
    assert abs(sum(percents(body, time), Fraction(0)) - 100) <= Fraction(1, 10)
    assert len(percents(body, time)) == 1 + 13 * 2 + 2  # conv1, 13 separable units' ops, pool, fc


def test_the_markdown_and_breakdown_share_columns_add_up_to_100_percent() -> None:
    table = markdown_table(ok("table", "mobilenet_v2", "--format", "markdown"))
    share = table[0].index("%")
    body = [row for row in table[1:] if row[0] != "**total**"]
    assert abs(sum(percents(body, share), Fraction(0)) - 100) <= Fraction(1, 10)
    # features.1, the first mbconv: a 3x3 depthwise on 112x112x32, then a 1x1 conv 32 -> 16.
    first_unit = 112 * 112 * 3 * 3 * 32 + 112 * 112 * 32 * 16
    total = json.loads(ok("table", "mobilenet_v2", "--format", "json"))["total"]["mult_adds"]
    (row,) = [row for row in body if row[0] == "**features.1**"]
    assert row[share] == f"**({100 * first_unit / total:.2f}%)**"
    rows = json.loads(ok("breakdown", "mobilenet_v2", "--format", "json"))["types"]
    for key in ("mult_adds_share", "params_share"):
        assert abs(sum(row[key] for row in rows) - 1) <= len(rows) * 5e-7
    shown = cells(ok("breakdown", "mobilenet_v2"))[1:-1]
    for column in (3, 5):
        assert abs(sum(percents(shown, column), Fraction(0)) - 100) <= Fraction(1, 10)
