"""The counting options (--profile, --flops, --count, --params) on every command that reports
counts: declared once, the same help and the same checks, and the same totals as
`mbcalc table` gives under them at each setting."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import typer

from mbcalc.cli.app import app
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok

COMMANDS = [
    ("table", "mobilenet_v1"),
    ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5"),
    ("sweep", "mobilenet_v1"),
    ("fit", "mobilenet_v1", "--max-mult-adds", "100M"),
    ("breakdown", "mobilenet_v1"),
    ("chart", "mobilenet_v1"),
    ("roofline", "mobilenet_v1"),
]

COUNTINGS = [
    ("--profile", "fvcore"),
    ("-p", "thop"),
    ("--profile", "ptflops"),
    ("--flops",),
    ("-p", "torch", "--count", "bn=2,act.relu", "--params", "keras"),
]
"""Shipped profiles and a customized one: each prices other operations."""

SPECS = ("mobilenet_v1", "mobilenet_v3_small")


def table_counted(spec: str, alpha: str, res: int, *counting: str) -> dict[str, Any]:
    """`mbcalc table` at one setting: its profile and its total under it."""
    data = json.loads(
        ok("table", spec, "--alpha", alpha, "--res", str(res), *counting, "--format", "json")
    )
    counted: dict[str, Any] = data["total"]["counted"]
    return {"profile": data["profile"], "counted": counted}


def counting_params(command: str) -> dict[str, tuple[Any, ...]]:
    """The counting options of a command as declared: flags, metavar, help, default."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    params = group.commands[command].params
    return {
        param.name: (tuple(param.opts), param.metavar, getattr(param, "help", None), param.default)
        for param in params
        if param.name in ("profile", "flops", "count", "params")
    }


@pytest.mark.parametrize("command", [c[0] for c in COMMANDS if c[0] != "table"])
def test_every_counting_command_has_the_same_counting_options(command: str) -> None:
    expected = counting_params("table")
    assert len(expected) == 4
    assert counting_params(command) == expected
    assert "--profile" in ok(command, "--help")


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize(
    ("counting", "words"),
    [
        (("--profile", "nope"), ("--profile", "unknown profile 'nope'", "fvcore")),
        (("--count", "bogus=2"), ("--count", "unknown operation 'bogus'")),
        (("--count", "bn=x"), ("--count", "must be a whole number")),
        (("--params", "nope"), ("--params",)),
    ],
)
def test_every_command_refuses_a_bad_counting_option_alike(
    command: tuple[str, ...], counting: tuple[str, ...], words: tuple[str, ...]
) -> None:
    assert_clean_failure(invoke_mbcalc(*command, *counting), 2, *words)


@pytest.mark.parametrize("counting", COUNTINGS, ids=" ".join)
@pytest.mark.parametrize("spec", SPECS)
def test_sweep_json_equals_table_under_the_profile_at_each_setting(
    spec: str, counting: tuple[str, ...]
) -> None:
    args = ("sweep", spec, "--alpha", "1,0.5", "--res", "224,160", *counting)
    data = json.loads(ok(*args, "--format", "json"))
    for record in data["settings"]:
        expected = table_counted(spec, str(record["alpha"]), record["resolution"][0], *counting)
        assert record["counted"] == expected["counted"], record
        assert data["profile"] == expected["profile"]


@pytest.mark.parametrize("counting", COUNTINGS[:2], ids=" ".join)
def test_sweep_csv_has_the_profile_and_its_totals(counting: tuple[str, ...]) -> None:
    args = ("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "160", *counting)
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert len(rows) == 2
    for row in rows:
        expected = table_counted("mobilenet_v1", row["alpha"], int(row["height"]), *counting)
        assert row["profile"] == expected["profile"]["name"]
        assert int(row["operations"]) == expected["counted"]["operations"]
        assert int(row["counted_params"]) == expected["counted"]["params"]


def test_sweep_table_and_markdown_show_the_profile_grid() -> None:
    args = ("sweep", "mobilenet_v1", "--alpha", "1", "--res", "224", "-p", "fvcore")
    expected = table_counted("mobilenet_v1", "1", 224, "-p", "fvcore")["counted"]
    markdown = ok(*args, "--format", "markdown")
    assert "counted by profile fvcore" in markdown
    assert f"| 1 | {expected['operations']:,} · {expected['params']:,} |" in markdown
    terminal = ok(*args)
    assert "counted by profile fvcore" in terminal
    assert "profile fvcore: fvcore 0.1.5" in " ".join(terminal.split())


def test_sweep_under_the_paper_profile_adds_nothing() -> None:
    args = ("sweep", "mobilenet_v1", "--alpha", "1,0.5")
    for fmt in ("table", "json", "csv", "markdown"):
        assert ok(*args, "--format", fmt) == ok(*args, "-p", "paper", "--format", fmt)


COMPARED = (("mobilenet_v1", "1", 224), ("mobilenet_v3_small", "0.5", 160))


@pytest.mark.parametrize("counting", COUNTINGS, ids=" ".join)
def test_compare_json_and_csv_equal_table_under_the_profile(counting: tuple[str, ...]) -> None:
    args = ("compare", "mobilenet_v1", "mobilenet_v3_small@alpha=0.5,res=160", *counting)
    data = json.loads(ok(*args, "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    totals = [row for row in rows if row["row"] == "total"]
    for column, total, (spec, alpha, res) in zip(data["columns"], totals, COMPARED, strict=True):
        expected = table_counted(spec, alpha, res, *counting)
        assert data["profile"] == expected["profile"]
        assert column["counted"] == expected["counted"]
        assert total["profile"] == expected["profile"]["name"]
        assert int(total["operations"]) == expected["counted"]["operations"]
        assert int(total["counted_params"]) == expected["counted"]["params"]


def test_compare_table_and_markdown_show_the_counted_totals() -> None:
    args = ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5", "-p", "thop")
    full = table_counted("mobilenet_v1", "1", 224, "-p", "thop")["counted"]
    half = table_counted("mobilenet_v1", "0.5", 224, "-p", "thop")["counted"]
    ratio = f"{half['operations'] / full['operations']:.4f}x"
    for fmt in ("table", "markdown"):
        text = " ".join(ok(*args, "--format", fmt).split())
        assert f"{full['operations']:,} operations · {full['params']:,} params counted" in text
        assert f"{half['operations']:,} operations ({ratio})" in text
        assert "thop: thop 0.1.1" in text


def layers_of(spec: str, *options: str) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = json.loads(ok("table", spec, *options, "--format", "json"))[
        "layers"
    ]
    return layers


def outputs(layer: dict[str, Any]) -> int:
    height, width, channels = layer["output"]
    return int(height * width * channels)


def test_breakdown_under_fvcore_counts_each_type_by_its_formula() -> None:
    """fvcore adds 2 per batch-norm output: every conv of MobileNet v1 has its BN."""
    data = json.loads(ok("breakdown", "mobilenet_v1", "-p", "fvcore", "--format", "json"))
    types = {entry["type"]: entry for entry in data["types"]}
    depthwise = [layer for layer in layers_of("mobilenet_v1") if layer["op"] == "depthwise"]
    expected = sum(layer["mult_adds"] + 2 * outputs(layer) for layer in depthwise)
    assert types["Conv DW 3x3"]["counted"]["operations"] == expected
    total = table_counted("mobilenet_v1", "1", 224, "-p", "fvcore")
    assert data["total"]["counted"] == total["counted"]
    assert data["profile"] == total["profile"]
    summed = sum(entry["counted"]["operations"] for entry in data["types"])
    assert summed == total["counted"]["operations"]


def test_breakdown_csv_and_markdown_under_a_profile() -> None:
    args = ("breakdown", "mobilenet_v1", "-p", "fvcore")
    data = json.loads(ok(*args, "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert [int(row["operations"]) for row in rows] == [
        entry["counted"]["operations"] for entry in data["types"]
    ]
    assert {row["profile"] for row in rows} == {"fvcore"}
    markdown = ok(*args, "--format", "markdown")
    total = data["total"]["counted"]["operations"]
    assert f"**{total:,}** |" in markdown
    assert "fvcore 0.1.5" in markdown


def test_breakdown_under_the_paper_profile_is_unchanged() -> None:
    for fmt in ("table", "json", "csv", "markdown"):
        plain = ok("breakdown", "mobilenet_v1", "--format", fmt)
        assert ok("breakdown", "mobilenet_v1", "-p", "paper", "--format", fmt) == plain


def test_chart_under_thop_draws_each_layers_operations() -> None:
    """thop adds 4 per batch-norm output: sep1's depthwise and pointwise convs have one each."""
    from mbcalc.views.formats import human

    sep1 = [layer for layer in layers_of("mobilenet_v1") if layer["unit"] == "sep1"]
    expected = sum(layer["mult_adds"] + 4 * outputs(layer) for layer in sep1)
    text = ok("chart", "mobilenet_v1", "-p", "thop")
    assert "counted by profile thop" in text
    (line,) = [line for line in text.splitlines() if line.startswith("sep1 ")]
    assert line.split()[1] == "operations"
    assert line.split()[-1] == human(expected)


def test_roofline_reports_carry_the_profile() -> None:
    expected = table_counted("mobilenet_v1", "1", 224, "-p", "thop")
    data = json.loads(ok("roofline", "mobilenet_v1", "-p", "thop", "--format", "json"))
    assert data["profile"] == expected["profile"]
    assert data["total"]["counted"] == expected["counted"]
    assert "thop 0.1.1" in " ".join(ok("roofline", "mobilenet_v1", "-p", "thop").split())
