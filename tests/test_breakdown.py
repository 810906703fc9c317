"""`mbcalc breakdown`: mult-adds and params by layer type, the paper's Table 2 for any network.

Expected counts come from the paper's formulas (Howard et al., arXiv:1704.04861, section 3)
over its Table 1, and the printed shares from Table 2 as the paper prints them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import invoke_mbcalc, ok

# Table 1: the 13 separable units as (stride of the depthwise conv, output channels).
V1_UNITS = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
)  # fmt: skip

# Table 2, as printed (mult-adds %, params %). "Conv 3x3" prints 1.19% for what the formula
# gives as 1.91% (10,838,016 / 568,740,352): two digits swapped (docs/counting.md, the paper
# against mbcalc). The printed param shares leave out the FC layer's 1,000 biases.
TABLE_2 = {
    "Conv 1x1": ("94.86", "74.59"),
    "Conv DW 3x3": ("3.06", "1.06"),
    "Conv 3x3": ("1.19", "0.02"),
    "Fully connected": ("0.18", "24.33"),
}


def v1_by_type(alpha: Fraction = Fraction(1), size: int = 224) -> dict[str, tuple[int, int, int]]:
    """(ops, mult-adds, params) per Table 2 type of MobileNet, from the paper's formulas."""
    channels = math.floor(32 * alpha)
    side = -(-size // 2)
    sums = {
        "Conv 3x3": (1, side * side * 9 * 3 * channels, 9 * 3 * channels),
        "Conv DW 3x3": (0, 0, 0),
        "Conv 1x1": (0, 0, 0),
    }
    for stride, out in V1_UNITS:
        n = math.floor(out * alpha)
        side = -(-side // stride)
        ops, m, p = sums["Conv DW 3x3"]
        sums["Conv DW 3x3"] = (ops + 1, m + side * side * 9 * channels, p + 9 * channels)
        ops, m, p = sums["Conv 1x1"]
        sums["Conv 1x1"] = (ops + 1, m + side * side * channels * n, p + channels * n)
        channels = n
    sums["Fully connected"] = (1, channels * 1000, channels * 1000 + 1000)
    return sums


def two_decimals(part: int, whole: int) -> str:
    """A share in percent, halves up, with the two decimals Table 2 prints."""
    hundredths = math.floor(Fraction(10_000 * part, whole) + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def breakdown_json(*args: str) -> dict[str, Any]:
    data = json.loads(ok("breakdown", *args, "--format", "json"))
    assert isinstance(data, dict)
    return data


def by_type(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["type"]: entry for entry in data["types"]}


# --- the paper's Table 2 ------------------------------------------------------------------------


def test_table_2_counts_follow_the_formulas() -> None:
    data = breakdown_json("mobilenet_v1")
    types = by_type(data)
    for label, (ops, mult_adds, params) in v1_by_type().items():
        entry = types[label]
        assert (entry["ops"], entry["mult_adds"], entry["params"]) == (ops, mult_adds, params)
    assert data["total"]["mult_adds"] == 568_740_352
    assert data["total"]["params"] == 4_210_088
    # The average pool is the only cost-free op, and has a category of its own.
    assert types["Pool"]["mult_adds"] == types["Pool"]["params"] == 0


@pytest.mark.parametrize("label", ["Conv 1x1", "Conv DW 3x3", "Fully connected"])
def test_table_2_mult_add_shares_as_printed(label: str) -> None:
    types = by_type(breakdown_json("mobilenet_v1"))
    _, mult_adds, _ = v1_by_type()[label]
    assert two_decimals(mult_adds, 568_740_352) == TABLE_2[label][0]
    assert types[label]["mult_adds_share"] == round(mult_adds / 568_740_352, 6)


def test_table_2_conv_3x3_share_is_the_printed_digits_swapped() -> None:
    types = by_type(breakdown_json("mobilenet_v1"))
    mult_adds = 112 * 112 * 3 * 3 * 3 * 32
    assert types["Conv 3x3"]["mult_adds"] == mult_adds == 10_838_016
    assert two_decimals(mult_adds, 568_740_352) == "1.91"
    assert sorted("1.91") == sorted(TABLE_2["Conv 3x3"][0])


@pytest.mark.parametrize("label", ["Conv DW 3x3", "Conv 3x3"])
def test_table_2_param_shares_as_printed(label: str) -> None:
    _, _, params = v1_by_type()[label]
    assert two_decimals(params, 4_210_088) == TABLE_2[label][1]


def test_table_2_param_shares_without_the_fc_biases() -> None:
    """The printed 74.59% and 24.33% are exact when the FC's 1,000 biases are left out."""
    sums = v1_by_type()
    weights = 4_210_088 - 1000
    assert two_decimals(sums["Conv 1x1"][2], weights) == TABLE_2["Conv 1x1"][1]
    assert two_decimals(sums["Fully connected"][2] - 1000, weights) == "24.33"


def test_table_shows_table_2_percentages() -> None:
    text = ok("breakdown", "mobilenet_v1")
    assert "\x1b[" not in text
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    for label in TABLE_2:
        share = two_decimals(v1_by_type()[label][1], 568_740_352)
        assert f"{share}%" in lines[label], label
    assert "100.00%" in lines["total"]
    assert f"{568_740_352:,} mult-adds" in text


def test_settings_change_the_shares_as_the_formulas_say() -> None:
    data = breakdown_json("mobilenet_v1", "--alpha", "0.5", "--res", "160")
    expected = v1_by_type(Fraction(1, 2), 160)
    types = by_type(data)
    for label, (ops, mult_adds, params) in expected.items():
        assert (types[label]["ops"], types[label]["mult_adds"]) == (ops, mult_adds)
        assert types[label]["params"] == params
    assert data["alpha"] == 0.5
    assert data["resolution"] == [160, 160]


# --- other layer types --------------------------------------------------------------------------


def test_every_kind_of_layer_has_its_own_type(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.yaml"
    spec.write_text(
        "input: {size: 32, channels: 3}\n"
        "layers:\n"
        "  - conv: {out: 16, kernel: 5, stride: 2}\n"  # 16x16x16
        "  - depthwise: {kernel: 5}\n"
        "  - pointwise: {out: 32}\n"
        "  - se: {squeeze: 8}\n"
        "  - conv: {out: 32, groups: 4}\n"
        "  - pool: {global: true}\n"
        "  - fc: {out: 10}\n",
        encoding="utf-8",
    )
    types = by_type(breakdown_json(str(spec)))
    assert types["Conv 5x5"]["mult_adds"] == 16 * 16 * 5 * 5 * 3 * 16
    assert types["Conv DW 5x5"]["mult_adds"] == 16 * 16 * 5 * 5 * 16
    assert types["Conv 1x1"]["mult_adds"] == 16 * 16 * 16 * 32
    assert types["Squeeze-excite"]["mult_adds"] == 32 * 8 + 8 * 32
    assert types["Squeeze-excite"]["params"] == (32 * 8 + 8) + (8 * 32 + 32)
    assert types["Conv 3x3"]["mult_adds"] == 16 * 16 * 3 * 3 * (32 // 4) * 32
    assert types["Fully connected"]["mult_adds"] == 32 * 10
    assert types["Conv 5x5"]["family"] == "conv"
    assert types["Conv 5x5"]["kernel"] == [5, 5]
    assert types["Squeeze-excite"]["kernel"] is None


FREE_OPS_SPEC = (
    "input: {size: 8, channels: 4}\n"
    "layers:\n"
    "  - block: {residual: true, layers: [{pointwise: {out: 4}}]}\n"  # one add
    "  - parallel: {branches: [[{pointwise: {out: 2}}], [{pointwise: {out: 2}}]]}\n"  # one concat
    "  - se: {squeeze: 2}\n"  # a pool and a channel scaling
    "  - pool: {global: true}\n"
    "  - softmax: {}\n"
)
FREE_OPS = {"Pool": 2, "Add": 1, "Concat": 1, "Scale": 1, "Softmax": 1}


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_cost_free_ops_have_named_types(fmt: str, tmp_path: Path) -> None:
    spec = tmp_path / "free.yaml"
    spec.write_text(FREE_OPS_SPEC, encoding="utf-8")
    text = ok("breakdown", str(spec), "--format", fmt)
    assert "Other" not in text
    for label, ops in FREE_OPS.items():
        if fmt == "json":
            entry = by_type(json.loads(text))[label]
            assert (entry["ops"], entry["mult_adds"], entry["params"]) == (ops, 0, 0)
            assert entry["family"] == label.lower()
        elif fmt == "csv":
            assert f"\n{label},{label.lower()},,{ops},0," in text
        elif fmt == "markdown":
            assert f"| {label} | {ops} | 0 |" in text
        else:
            assert re.search(rf"\u2502 {label} +\u2502 +{ops} \u2502 +0 \u2502", text)
    # The squeeze-excite's two fcs keep their own type.
    if fmt == "json":
        assert by_type(json.loads(text))["Squeeze-excite"]["ops"] == 2


# --- every format -------------------------------------------------------------------------------


BREAKDOWN_KEYS = {
    "schema", "spec", "alpha", "depth", "resolution", "rho", "rounding", "input", "convention",
    "types", "total",
}  # fmt: skip
TYPE_KEYS = {
    "type", "family", "kernel", "ops", "mult_adds", "mult_adds_share", "params", "params_share",
    "bn_params",
}  # fmt: skip


@pytest.mark.parametrize("spec", ["mobilenet_v1", "mobilenet_v1_conv", "vgg16"])
def test_json_follows_the_breakdown_schema_and_adds_up(spec: str) -> None:
    data = breakdown_json(spec)
    report = json.loads(ok("table", spec, "--format", "json"))
    assert data["schema"] == "mbcalc.breakdown/1"
    assert data.keys() == BREAKDOWN_KEYS
    for key in ("spec", "alpha", "depth", "resolution", "rho", "rounding", "input"):
        assert data[key] == report[key]
    for entry in data["types"]:
        assert entry.keys() == TYPE_KEYS
        assert all(type(entry[key]) is int for key in ("ops", "mult_adds", "params", "bn_params"))
    for key in ("mult_adds", "params", "bn_params"):
        assert (
            sum(entry[key] for entry in data["types"]) == data["total"][key] == report["total"][key]
        )
    mult_adds = [entry["mult_adds"] for entry in data["types"]]
    assert mult_adds == sorted(mult_adds, reverse=True)


def test_csv_rows_sum_to_the_totals() -> None:
    data = breakdown_json("mobilenet_v1")
    rows = list(csv.DictReader(io.StringIO(ok("breakdown", "mobilenet_v1", "--format", "csv"))))
    assert [row["type"] for row in rows] == [entry["type"] for entry in data["types"]]
    for key in ("mult_adds", "params", "bn_params"):
        assert sum(int(row[key]) for row in rows) == data["total"][key]
    assert rows[0]["kernel"] == "1x1"


def test_markdown_is_a_table_with_a_totals_row() -> None:
    text = ok("breakdown", "mobilenet_v1", "--format", "markdown")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0] == "| type | ops | mult-adds | % | params | % | BN params |"
    assert rows[2].startswith("| Conv 1x1 | 13 | 539,492,352 | 94.86% |")
    assert rows[-1].startswith("| **total** |")
    assert "**568,740,352**" in rows[-1]


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_output_file_holds_what_stdout_would(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / "breakdown.out"
    args = ("breakdown", "mobilenet_v1", "--format", fmt)
    assert ok(*args, "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == ok(*args)


# --- errors and help ----------------------------------------------------------------------------


def test_a_bad_spec_exits_1_with_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: {size: 32}\nlayers:\n  - frobnicate: {}\n", encoding="utf-8")
    target = tmp_path / "out.json"
    result = invoke_mbcalc("breakdown", str(spec), "--output", str(target))
    assert result.exit_code == 1
    assert result.stderr.startswith("mbcalc: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "frobnicate" in result.stderr
    assert not target.exists()


def test_res_and_rho_together_are_wrong_usage() -> None:
    assert invoke_mbcalc("breakdown", "mobilenet_v1", "--res", "160", "--rho", "0.5").exit_code == 2


def test_help_names_table_2() -> None:
    text = " ".join(ok("breakdown", "--help").split())
    assert "by layer type" in text
    assert "Table 2" in text
