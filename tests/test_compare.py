"""`mbcalc compare`: the @-settings, the alignment of units, every format, the paper's Tables 4
and 5, and agreement with `mbcalc table` to the last digit.

Expected counts are derived here from the paper's layer list (Howard et al., arXiv:1704.04861,
Table 1) and its cost formulas (section 3); printed figures are the paper's own.
None is taken from mbcalc's own output.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from typer.testing import Result

from mbcalc.core.compare import (
    Alignment,
    Target,
    TargetError,
    TargetSyntaxError,
    compare_arguments,
    parse_target,
)
from mbcalc.core.settings import Settings
from mbcalc.views.render import WINNER, compare_table
from tests.helpers.cli import invoke_mbcalc, ok

# --- the paper's networks, from its formulas -------------------------------------------------

ARCHS = Path(__file__).resolve().parents[1] / "archs"
STEM, CLASSES = 32, 1000
# Table 1: the 13 separable units as (stride of the depthwise conv, output channels).
V1_UNITS = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
)  # fmt: skip
# Table 5's Shallow MobileNet: "the 5 layers of separable filters with feature size 14x14x512"
# removed.
SHALLOW_UNITS = V1_UNITS[:6] + V1_UNITS[11:]

UnitCost = tuple[str, int, int]


def mobilenet(
    units: Sequence[tuple[int, int]] = V1_UNITS,
    alpha: Fraction = Fraction(1),
    size: int = 224,
    *,
    separable: bool = True,
) -> list[UnitCost]:
    """(unit name, mult-adds, params) per unit: Dk·Dk·M·Df·Df + M·N·Df·Df for a separable unit,
    Dk·Dk·M·N·Df·Df for a full conv (Conv MobileNet, Table 4); weights only, fc with biases."""
    channels = math.floor(STEM * alpha)
    side = -(-size // 2)
    rows = [("conv1", side * side * 9 * 3 * channels, 9 * 3 * channels)]
    for i, (stride, out) in enumerate(units, start=1):
        n = math.floor(out * alpha)
        side = -(-side // stride)
        if separable:
            cost = side * side * 9 * channels + side * side * channels * n
            rows.append((f"sep{i}", cost, 9 * channels + channels * n))
        else:
            rows.append((f"conv{i + 1}", side * side * 9 * channels * n, 9 * channels * n))
        channels = n
    rows.append(("pool1", 0, 0))
    rows.append(("fc1", channels * CLASSES, channels * CLASSES + CLASSES))
    return rows


def totals(rows: list[UnitCost]) -> tuple[int, int]:
    return sum(m for _, m, _ in rows), sum(p for _, _, p in rows)


def as_printed(count: int, printed: str) -> str:
    """`count` in millions at the precision of `printed` ("4.2M": one decimal), halves up."""
    decimals = len(printed.removesuffix("M").partition(".")[2])
    rounded = math.floor(Fraction(count, 10**6) * 10**decimals + Fraction(1, 2))
    whole, part = divmod(rounded, 10**decimals)
    return f"{whole}.{part:0{decimals}d}M" if decimals else f"{whole}M"


# --- running the command ---------------------------------------------------------------------


def compare_json(*args: str) -> dict[str, Any]:
    data = json.loads(ok("compare", *args, "--format", "json"))
    assert isinstance(data, dict)
    return data


def table_json(spec: str, *options: str) -> dict[str, Any]:
    data = json.loads(ok("table", spec, *options, "--format", "json"))
    assert isinstance(data, dict)
    return data


def column_units(data: dict[str, Any], k: int) -> list[UnitCost]:
    """Column k's units, in row order, as (name, mult-adds, params)."""
    return [
        (unit["name"], unit["mult_adds"], unit["params"])
        for row in data["rows"]
        if (unit := row["units"][k]) is not None
    ]


def alignments(data: dict[str, Any]) -> list[str]:
    return [row["aligned"] for row in data["rows"]]


def names(data: dict[str, Any]) -> list[tuple[str | None, ...]]:
    return [tuple(u and u["name"] for u in row["units"]) for row in data["rows"]]


# --- the @ settings --------------------------------------------------------------------------


def test_a_plain_argument_is_a_spec_without_settings() -> None:
    assert parse_target("mobilenet_v1") == Target("mobilenet_v1", "mobilenet_v1")


def test_settings_after_the_at_sign_are_exact() -> None:
    target = parse_target("mobilenet_v1@alpha=0.75, res=160")
    assert target == Target(
        "mobilenet_v1@alpha=0.75, res=160", "mobilenet_v1", alpha=Fraction(3, 4), res=160
    )
    assert parse_target("net.yaml@rho=5/7").rho == Fraction(5, 7)
    assert parse_target("a@b.yaml@alpha=0.5").spec == "a@b.yaml"  # the last @ separates


def test_an_existing_path_with_an_at_sign_is_taken_whole(tmp_path: Path) -> None:
    path = tmp_path / "net@alpha=2.yaml"
    path.write_text("", encoding="utf-8")
    assert parse_target(str(path)) == Target(str(path), str(path))


def test_own_settings_win_and_the_options_fill_in_the_rest() -> None:
    defaults = Settings(alpha=Fraction(1, 2), res=192)
    assert parse_target("net").settings(defaults) == defaults
    assert parse_target("net@alpha=0.25").settings(defaults) == Settings(Fraction(1, 4), 192)
    # res and rho are one setting, the resolution: an argument's rho replaces --res.
    assert parse_target("net@rho=0.5").settings(defaults) == Settings(
        Fraction(1, 2), rho=Fraction(1, 2)
    )


SYNTAX_ERRORS = [
    ("mobilenet_v1@beta=2", "unknown setting 'beta'"),
    ("mobilenet_v1@alpa=0.5", "did you mean 'alpha'"),
    ("mobilenet_v1@alpha", "not key=value"),
    ("mobilenet_v1@", "no settings after '@'"),
    ("@alpha=0.5", "no spec before '@'"),
    ("mobilenet_v1@alpha=0.5,alpha=1", "alpha given twice"),
    ("mobilenet_v1@res=160,rho=0.5", "give res or rho, not both"),
]
VALUE_ERRORS = [
    ("mobilenet_v1@alpha=abc", "'abc' is not a number"),
    ("mobilenet_v1@alpha=", "is not a number"),
    ("mobilenet_v1@alpha=0", "alpha must be greater than 0"),
    ("mobilenet_v1@rho=-1", "rho must be greater than 0"),
    ("mobilenet_v1@res=1.5", "not a whole number of pixels"),
    ("mobilenet_v1@res=0", "res must be a positive number"),
    ("mobilenet_v1@res=" + "9" * 40, "too large"),
]


@pytest.mark.parametrize(("argument", "message"), SYNTAX_ERRORS)
def test_malformed_settings_are_syntax_errors(argument: str, message: str) -> None:
    with pytest.raises(TargetSyntaxError, match=re.escape(message)) as caught:
        parse_target(argument)
    assert str(caught.value).startswith(f"{argument}: ")


@pytest.mark.parametrize(("argument", "message"), VALUE_ERRORS)
def test_unusable_values_are_errors_naming_the_argument(argument: str, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)) as caught:
        parse_target(argument)
    assert not isinstance(caught.value, TargetSyntaxError)
    assert str(caught.value).startswith(f"{argument}: ")


def assert_one_line_failure(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mbcalc: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize(("argument", "message"), SYNTAX_ERRORS)
def test_cli_refuses_malformed_settings_as_wrong_usage(argument: str, message: str) -> None:
    assert_one_line_failure(
        invoke_mbcalc("compare", "mobilenet_v1", argument), 2, argument, message
    )


@pytest.mark.parametrize(("argument", "message"), VALUE_ERRORS)
def test_cli_refuses_unusable_values_with_status_1(argument: str, message: str) -> None:
    assert_one_line_failure(
        invoke_mbcalc("compare", "mobilenet_v1", argument), 1, argument, message
    )


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("mobilenet_v1@rho=0.001", "no pixels"),  # 224 x 0.001 rounds to nothing
        ("mobilenet_v1@alpha=0.01", "leaves no channels"),  # 32 x 0.01 floors to 0
    ],
)
def test_settings_no_network_can_be_built_with_name_the_argument(
    argument: str, message: str
) -> None:
    assert_one_line_failure(
        invoke_mbcalc("compare", "mobilenet_v1", argument), 1, argument, message
    )


def test_an_unknown_spec_exits_1() -> None:
    assert_one_line_failure(
        invoke_mbcalc("compare", "mobilenet_v1", "no_such_net"), 1, "no_such_net"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("mobilenet_v1",),
        ("mobilenet_v1", "mobilenet_v1", "--res", "160", "--rho", "0.5"),
        ("mobilenet_v1", "mobilenet_v1", "--bogus"),
        (),
    ],
)
def test_wrong_usage_exits_2(args: tuple[str, ...]) -> None:
    result = invoke_mbcalc("compare", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_help_describes_the_command_and_the_at_syntax() -> None:
    text = " ".join(ok("compare", "--help").split())
    assert "side by side" in text
    assert "mobilenet_v1@alpha=0.5,res=160" in text
    for option in ("--alpha", "--res", "--rho", "--format", "--output"):
        assert option in text


# --- alignment -------------------------------------------------------------------------------


def test_one_spec_under_two_settings_is_aligned_by_name() -> None:
    data = compare_json("mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    expected = [name for name, _, _ in mobilenet()]
    assert set(alignments(data)) == {"name"}
    assert names(data) == [(name, name) for name in expected]
    assert column_units(data, 1) == mobilenet(alpha=Fraction(1, 2), size=160)


def test_shallow_against_mobilenet_lines_up_the_last_units_and_leaves_five_alone() -> None:
    data = compare_json("mobilenet_v1", "mobilenet_v1_shallow")
    pairs = names(data)
    assert alignments(data).count("only") == 5
    only = [pair for pair, how in zip(pairs, alignments(data), strict=True) if how == "only"]
    assert only == [(f"sep{i}", None) for i in range(7, 12)]  # Table 5: the 14x14x512 units
    assert ("sep12", "sep7") in pairs
    assert ("sep13", "sep8") in pairs
    assert all(how == "structure" for pair, how in zip(pairs, alignments(data), strict=True)
               if None not in pair)  # fmt: skip
    assert [pair[0] for pair in pairs] == [name for name, _, _ in mobilenet()]
    assert [p[1] for p in pairs if p[1]] == [name for name, _, _ in mobilenet(SHALLOW_UNITS)]


def test_conv_mobilenet_against_mobilenet_pairs_the_replaced_units_by_position() -> None:
    data = compare_json("mobilenet_v1_conv", "mobilenet_v1")
    pairs, hows = names(data), alignments(data)
    assert pairs == [
        ("conv1", "conv1"),
        *((f"conv{i + 1}", f"sep{i}") for i in range(1, 14)),
        ("pool1", "pool1"),
        ("fc1", "fc1"),
    ]
    assert hows == ["structure", *["position"] * 13, "structure", "structure"]


def test_alignment_does_not_depend_on_channels_or_resolution() -> None:
    """Signatures hold type, kernel and stride: alpha and the input size change nothing."""
    data = compare_json("mobilenet_v1@alpha=0.25,res=128", "mobilenet_v1_shallow@rho=1.5")
    assert alignments(data).count("only") == 5
    assert ("sep12", "sep7") in names(data)
    assert ("pool1", "pool1") in names(data)  # a global pool over 4x4 and over 11x11


def test_three_columns_share_rows_where_the_later_ones_correspond() -> None:
    data = compare_json("mobilenet_v1_shallow", "mobilenet_v1", "mobilenet_v1@alpha=0.5")
    pairs = names(data)
    assert len(pairs) == len(mobilenet())
    assert [(None, f"sep{i}", f"sep{i}") for i in range(7, 12)] == [p for p in pairs if not p[0]]
    assert ("sep7", "sep12", "sep12") in pairs
    assert alignments(data).count("only") == 5


def test_different_structures_of_different_lengths(tmp_path: Path) -> None:
    """Where a stretch differs and has more units on one side, the rest stand alone."""
    short = tmp_path / "short.yaml"
    short.write_text(
        "input: {size: 32}\nlayers:\n  - conv: {out: 8}\n  - separable: {out: 16}\n"
        "  - pool: {global: true}\n  - fc: {out: 10}\n",
        encoding="utf-8",
    )
    long = tmp_path / "long.yaml"
    long.write_text(
        "input: {size: 32}\nlayers:\n  - conv: {out: 8}\n  - conv: {out: 16, kernel: 5}\n"
        "  - conv: {out: 16, kernel: 5}\n  - pool: {global: true}\n  - fc: {out: 10}\n",
        encoding="utf-8",
    )
    data = compare_json(str(short), str(long))
    assert names(data) == [
        ("conv1", "conv1"),
        ("sep1", "conv2"),
        (None, "conv3"),
        ("pool1", "pool1"),
        ("fc1", "fc1"),
    ]
    assert alignments(data) == ["structure", "position", "only", "structure", "structure"]


# --- the paper's Tables 4 and 5 --------------------------------------------------------------


def test_table_4_conv_mobilenet_against_mobilenet() -> None:
    data = compare_json("mobilenet_v1_conv", "mobilenet_v1")
    conv, mobile = mobilenet(separable=False), mobilenet()
    assert totals(conv) == (4_867_293_184, 29_282_120)
    assert totals(mobile) == (568_740_352, 4_210_088)
    first, second = data["columns"]
    assert (first["total"]["mult_adds"], first["total"]["params"]) == totals(conv)
    assert (second["total"]["mult_adds"], second["total"]["params"]) == totals(mobile)
    # As printed: 4866M is Conv MobileNet without its FC layer (docs/counting.md); 29.3M; 569M;
    # 4.2M.
    fc = conv[-1][1]
    assert as_printed(first["total"]["mult_adds"] - fc, "4866M") == "4866M"
    assert as_printed(first["total"]["params"], "29.3M") == "29.3M"
    assert as_printed(second["total"]["mult_adds"], "569M") == "569M"
    assert as_printed(second["total"]["params"], "4.2M") == "4.2M"
    against = second["vs_first"]
    assert against["mult_adds_delta"] == 568_740_352 - 4_867_293_184
    assert against["mult_adds_ratio"] == round(568_740_352 / 4_867_293_184, 6)
    assert against["params_ratio"] == round(4_210_088 / 29_282_120, 6)
    assert data["winner"]["mult_adds"] == {"column": 1, "argument": "mobilenet_v1"}
    assert data["winner"]["params"] == {"column": 1, "argument": "mobilenet_v1"}


def test_table_4_unit_by_unit_is_the_separable_reduction() -> None:
    """Each position-aligned row is a full conv against its separable unit: 1/N + 1/9."""
    data = compare_json("mobilenet_v1_conv", "mobilenet_v1")
    rows = [row for row in data["rows"] if row["aligned"] == "position"]
    for row, (stride, n) in zip(rows, V1_UNITS, strict=True):
        conv, separable = row["units"]
        assert Fraction(separable["mult_adds"], conv["mult_adds"]) == Fraction(1, n) + Fraction(
            1, 9
        ), (stride, n)
        assert row["vs_first"][1]["mult_adds_delta"] == separable["mult_adds"] - conv["mult_adds"]


def test_table_5_narrow_against_shallow() -> None:
    data = compare_json("mobilenet_v1@alpha=0.75", "mobilenet_v1_shallow")
    narrow, shallow = mobilenet(alpha=Fraction(3, 4)), mobilenet(SHALLOW_UNITS)
    first, second = data["columns"]
    assert (first["total"]["mult_adds"], first["total"]["params"]) == totals(narrow)
    assert (second["total"]["mult_adds"], second["total"]["params"]) == totals(shallow)
    assert totals(narrow) == (325_400_448, 2_569_144)  # docs/counting.md: the paper against mbcalc
    assert totals(shallow) == (307_323_392, 2_876_328)
    assert as_printed(totals(narrow)[0], "325M") == "325M"
    assert as_printed(totals(narrow)[1], "2.6M") == "2.6M"
    assert as_printed(totals(shallow)[0], "307M") == "307M"
    assert as_printed(totals(shallow)[1], "2.9M") == "2.9M"
    # The shallow net has fewer mult-adds, the thin one fewer params: one winner each.
    assert data["winner"]["mult_adds"]["argument"] == "mobilenet_v1_shallow"
    assert data["winner"]["params"]["argument"] == "mobilenet_v1@alpha=0.75"
    assert [c["fewest_mult_adds"] for c in data["columns"]] == [False, True]
    assert [c["fewest_params"] for c in data["columns"]] == [True, False]
    assert first["alpha"] == 0.75
    assert second["alpha"] == 1.0


# --- every number is the one `mbcalc table` gives --------------------------------------------


EQUALITY_CASES = [
    (("mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160"), ((), ("--alpha", "0.5", "--res", "160"))),
    (("mobilenet_v1_conv", "mobilenet_v1"), ((), ())),
    (("mobilenet_v1@alpha=0.75", "mobilenet_v1_shallow"), (("--alpha", "0.75"), ())),
    (
        ("vgg16", "mobilenet_v1@rho=0.5", "mobilenet_v1_shallow", "--alpha", "0.25", "--res", "96"),
        (
            ("--alpha", "0.25", "--res", "96"),
            ("--alpha", "0.25", "--rho", "0.5"),
            ("--alpha", "0.25", "--res", "96"),
        ),
    ),
]


@pytest.mark.parametrize(("args", "options"), EQUALITY_CASES)
def test_every_count_equals_the_table_report(
    args: tuple[str, ...], options: tuple[tuple[str, ...], ...]
) -> None:
    data = compare_json(*args)
    specs = [arg.partition("@")[0] for arg in args if not arg.startswith("-")][: len(options)]
    assert len(data["columns"]) == len(options)
    for k, (spec, option) in enumerate(zip(specs, options, strict=True)):
        report = table_json(spec, *option)
        column = data["columns"][k]
        for key in ("spec", "alpha", "depth", "resolution", "rho", "rounding", "input"):
            assert column[key] == report[key], key
        assert column["total"] == {key: report["total"][key] for key in column["total"]}
        units = [
            {key: unit[key] for key in ("name", "type", "mult_adds", "params", "bn_params")}
            for unit in report["units"]
        ]
        assert [row["units"][k] for row in data["rows"] if row["units"][k]] == units
        first = data["columns"][0]["total"]
        if k:
            against = column["vs_first"]
            for key in ("mult_adds", "params", "bn_params"):
                assert against[f"{key}_delta"] == column["total"][key] - first[key]


# --- every format ----------------------------------------------------------------------------


COMPARE_KEYS = {"schema", "convention", "columns", "rows", "winner"}
COLUMN_KEYS = {
    "argument", "spec", "alpha", "depth", "resolution", "rho", "rounding", "input", "total",
    "vs_first", "fewest_mult_adds", "fewest_params",
}  # fmt: skip
VERSUS_KEYS = {
    f"{key}_{what}" for key in ("mult_adds", "params", "bn_params") for what in ("delta", "ratio")
}
ALIGNED = {"name", "structure", "position", "only"}


def test_json_follows_the_compare_schema() -> None:
    data = compare_json("mobilenet_v1_conv", "mobilenet_v1", "mobilenet_v1_shallow@alpha=0.5")
    assert data["schema"] == "mbcalc.compare/1"
    assert data.keys() == COMPARE_KEYS
    for k, column in enumerate(data["columns"]):
        assert column.keys() == COLUMN_KEYS
        assert all(type(value) is int for value in column["total"].values())
        assert (column["vs_first"] is None) == (k == 0)
        if k:
            assert column["vs_first"].keys() == VERSUS_KEYS
    for row in data["rows"]:
        assert row["aligned"] in ALIGNED
        assert len(row["units"]) == len(row["vs_first"]) == 3
        assert row["vs_first"][0] is None
        assert (row["aligned"] == "only") == (None in row["units"])
        for unit in row["units"]:
            if unit is not None:
                assert all(type(unit[key]) is int for key in ("mult_adds", "params", "bn_params"))
    for k in range(3):
        total = data["columns"][k]["total"]
        units = [row["units"][k] for row in data["rows"] if row["units"][k]]
        assert sum(u["mult_adds"] for u in units) == total["mult_adds"]
        assert sum(u["params"] for u in units) == total["params"]
    assert data["winner"].keys() == {"mult_adds", "params"}
    assert data["winner"]["mult_adds"]["argument"] == "mobilenet_v1_shallow@alpha=0.5"


def test_json_ratios_are_null_against_nothing() -> None:
    data = compare_json("mobilenet_v1", "mobilenet_v1@alpha=0.5")
    pool = next(row for row in data["rows"] if row["units"][0]["name"] == "pool1")
    assert pool["vs_first"][1]["mult_adds_ratio"] is None  # 0 against 0
    assert pool["vs_first"][1]["mult_adds_delta"] == 0


def test_csv_is_one_line_per_row_and_column_then_the_totals() -> None:
    data = compare_json("mobilenet_v1", "mobilenet_v1_shallow")
    text = ok("compare", "mobilenet_v1", "mobilenet_v1_shallow", "--format", "csv")
    lines = list(csv.DictReader(io.StringIO(text)))
    body = [line for line in lines if line["row"] != "total"]
    tail = [line for line in lines if line["row"] == "total"]
    assert len(body) == 2 * len(data["rows"])
    assert [line["aligned"] for line in body[::2]] == alignments(data)
    for k, column in enumerate(data["columns"]):
        mine = [line for line in body if line["column"] == str(k + 1)]
        assert {line["argument"] for line in mine} == {column["argument"]}
        assert sum(int(line["mult_adds"] or 0) for line in mine) == column["total"]["mult_adds"]
        assert sum(int(line["params"] or 0) for line in mine) == column["total"]["params"]
        assert int(tail[k]["mult_adds"]) == column["total"]["mult_adds"]
        assert int(tail[k]["bn_params"]) == column["total"]["bn_params"]
    assert tail[0]["mult_adds_delta"] == ""
    assert int(tail[1]["mult_adds_delta"]) == data["columns"][1]["vs_first"]["mult_adds_delta"]
    missing = [line for line in body if line["aligned"] == "only" and line["column"] == "2"]
    assert len(missing) == 5
    assert all(line["unit"] == line["mult_adds"] == "" for line in missing)


def markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line[1:-1].split(" | ")] for line in lines]


def test_markdown_has_the_columns_side_by_side_with_totals_and_winners() -> None:
    text = ok("compare", "mobilenet_v1_conv", "mobilenet_v1", "--format", "markdown")
    rows = markdown_rows(text)
    header = rows[0]
    assert "mobilenet_v1_conv (Conv MobileNet, alpha 1, 224x224)" in header
    assert "mobilenet_v1 (MobileNet v1, alpha 1, 224x224)" in header
    body = rows[2 : 2 + 16]
    assert [row[0] for row in body].count("≈") == 13
    totals_row = rows[2 + 16]
    assert totals_row[1] == "**total**"
    assert "**4,867,293,184**" in totals_row
    assert "**568,740,352**" in totals_row
    assert "≈ aligned by position" in text
    assert "Fewest mult-adds: `mobilenet_v1`" in text
    assert all(len(row) == len(header) for row in rows[:19])


def plain(text: str) -> str:
    return " ".join(text.split())


def test_table_names_each_argument_with_its_setting_and_marks_the_legend() -> None:
    text = ok("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    assert "\x1b[" not in text
    assert "mobilenet_v1@alpha=0.5,res=160" in text
    assert "alpha 0.5 · 160x160" in text
    assert "alpha 1 · 224x224" in text
    assert "rows aligned by unit name" in text
    assert f"{568_740_352:,} mult-adds" in plain(text)
    total_05 = totals(mobilenet(alpha=Fraction(1, 2), size=160))
    assert f"{total_05[0]:,} mult-adds" in plain(text)
    assert f"{total_05[0] - 568_740_352:+,}" in plain(text)
    assert "fewest mult-adds: mobilenet_v1@alpha=0.5,res=160" in plain(text)


def test_arguments_and_names_are_shown_as_typed_not_as_markup(tmp_path: Path) -> None:
    folder = tmp_path / "[red]nets"
    folder.mkdir()
    spec = folder / "v1[2].yaml"
    text = (ARCHS / "mobilenet_v1.yaml").read_text(encoding="utf-8")
    spec.write_text(text.replace("name: MobileNet v1", 'name: "[bold]Mine[/bold]"'), "utf-8")
    shown = ok("compare", f"{spec}@alpha=0.5", "mobilenet_v1")
    assert f"{spec}@alpha=0.5" in shown
    assert "[bold]Mine[/bold] vs MobileNet v1" in shown


def test_table_marks_rows_aligned_by_position() -> None:
    text = ok("compare", "mobilenet_v1_conv", "mobilenet_v1")
    assert sum(line.startswith("│ ≈ │") for line in text.splitlines()) == 13
    assert "≈ aligned by position" in text
    shallow = ok("compare", "mobilenet_v1", "mobilenet_v1_shallow")
    assert sum("│ —" in line for line in shallow.splitlines()) == 5
    assert "— not in that network" in shallow


def test_the_winner_is_bold_green_in_the_rich_table() -> None:
    comparison = compare_arguments(["mobilenet_v1@alpha=0.75", "mobilenet_v1_shallow"], Settings())
    table = compare_table(comparison)

    def footer_styles(header: str) -> list[str]:
        footers = [column.footer for column in table.columns if column.header == header]
        assert all(isinstance(footer, Text) for footer in footers)
        return [str(footer.style) for footer in footers if isinstance(footer, Text)]

    # Table 5: the shallow net has the fewest mult-adds, the thin one the fewest params.
    assert footer_styles("mult-adds") == ["", WINNER]
    assert footer_styles("params") == [WINNER, ""]
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="standard", width=120).print(table)
    assert "\x1b[1;32m" in buffer.getvalue()  # bold green


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_output_file_holds_what_stdout_would(fmt: str, tmp_path: Path) -> None:
    args = ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.75", "--format", fmt)
    target = tmp_path / f"compare.{fmt}"
    assert ok(*args, "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == ok(*args)


def test_output_into_a_missing_folder_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "compare.json"
    result = invoke_mbcalc(
        "compare", "mobilenet_v1", "vgg16", "--format", "json", "--output", str(target)
    )
    assert_one_line_failure(result, 1, "does not exist")
    assert not target.parent.exists()


def test_a_bad_argument_writes_no_output_file(tmp_path: Path) -> None:
    target = tmp_path / "compare.json"
    result = invoke_mbcalc("compare", "mobilenet_v1", "mobilenet_v1@alpha=0", "-o", str(target))
    assert result.exit_code == 1
    assert list(tmp_path.iterdir()) == []


def test_library_comparison_matches_the_command() -> None:
    comparison = compare_arguments(["mobilenet_v1_conv", "mobilenet_v1"], Settings())
    assert [row.aligned for row in comparison.rows].count(Alignment.POSITION) == 13
    first, second = comparison.columns
    assert second.versus is not None
    assert second.versus.mult_adds.ratio == Fraction(568_740_352, 4_867_293_184)
    assert comparison.fewest_mult_adds() == comparison.fewest_params() == (1,)
    assert first.report.total.cost.mult_adds == 4_867_293_184
