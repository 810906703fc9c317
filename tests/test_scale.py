"""`mbcalc scale`: EfficientNet's compound scaling (Tan & Le 2019, section 3.3, equation 3).

At a compound coefficient phi the paper scales depth by alpha^phi, width by beta^phi and the
resolution by gamma^phi, with alpha = 1.2, beta = 1.1, gamma = 1.15 under the constraint
alpha x beta^2 x gamma^2 ~ 2. mbcalc rounds each factor to 4 decimals (halves up) and each input
side to a whole pixel (halves up); every expected figure below is recomputed from that rule and
from `mbcalc table` (through the API) at the setting the rule gives.
"""

from __future__ import annotations

import csv
import io
import json
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import mbcalc
from mbcalc import analyze
from tests.helpers.cli import (
    assert_clean_failure,
    invoke_mbcalc,
    markdown_table,
    ok,
    one_line_error,
)
from tests.helpers.docs import ROOT, read_page

PAPER = {"depth": Fraction("1.2"), "width": Fraction("1.1"), "resolution": Fraction("1.15")}


def rounded_factor(step: Fraction, phi: Fraction) -> Fraction:
    """step^phi to 4 decimals, halves up: exact at a whole phi, else by float (no value here
    lies near a tie)."""
    if phi.denominator == 1:
        value = step ** int(phi)
        return Fraction(math.floor(value * 10**4 + Fraction(1, 2)), 10**4)
    text = Decimal(repr(float(step) ** float(phi))).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return Fraction(text)


def expected_setting(phi: Fraction, size: int = 224) -> tuple[Fraction, Fraction, int]:
    """(depth, alpha, input side) at phi from a square base of `size` at alpha 1, depth 1."""
    res = rounded_factor(PAPER["resolution"], phi)
    side = math.floor(size * res + Fraction(1, 2))
    return rounded_factor(PAPER["depth"], phi), rounded_factor(PAPER["width"], phi), side


def scale_json(*args: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(ok("scale", *args, "--format", "json"))
    assert report["schema"] == "mbcalc.scale/1"
    return report


def table_json(*args: str) -> dict[str, Any]:
    total: dict[str, Any] = json.loads(ok("table", *args, "--summary", "--format", "json"))["total"]
    return total


def test_phi_zero_is_the_spec_own_setting_exactly() -> None:
    # B3 stores torchvision's width 1.2, depth 1.4 and 300x300 as its defaults: phi 0 is B3.
    for name in ("efficientnet_b0", "efficientnet_b3", "mobilenet_v2"):
        row = scale_json(name, "--phi", "0")["settings"][0]
        own = analyze(name)
        assert (row["mult_adds"], row["params"], row["bn_params"]) == (
            own.total.mult_adds, own.total.params, own.total.bn_params,
        )  # fmt: skip
        assert row["growth"] == 1.0
        assert row["target"] == 1.0


def test_every_row_is_table_at_the_rounded_setting() -> None:
    report = scale_json("efficientnet_b0", "--phi", "0:7")
    phis = [row["phi"] for row in report["settings"]]
    assert phis == [float(phi) for phi in range(8)]
    base = analyze("efficientnet_b0").total.mult_adds
    for row in report["settings"]:
        phi = Fraction(row["phi"])
        depth, alpha, side = expected_setting(phi)
        assert (Fraction(str(row["depth"])), Fraction(str(row["alpha"]))) == (depth, alpha)
        assert row["resolution"] == [side, side]
        table = analyze("efficientnet_b0", alpha=alpha, depth=depth, res=side).total
        assert (row["mult_adds"], row["params"], row["bn_params"]) == (
            table.mult_adds, table.params, table.bn_params,
        )  # fmt: skip
        assert row["growth"] == round(row["mult_adds"] / base, 6)
        assert row["target"] == 2.0 ** row["phi"]
    # phi 7: 1.2^7 = 3.5831808, 1.1^7 = 1.9487171, 1.15^7 = 2.66002... x 224 = 595.84
    assert report["settings"][-1]["depth"] == 3.5832
    assert report["settings"][-1]["alpha"] == 1.9487
    assert report["settings"][-1]["resolution"] == [596, 596]


def test_fractional_phi_and_the_constraint() -> None:
    report = scale_json("efficientnet_b0", "--phi", "0:1:0.5")
    half = report["settings"][1]
    # 1.2^0.5 = 1.09545, 1.1^0.5 = 1.04881, 1.15^0.5 = 1.07238 -> 224 x 1.0724 = 240.2
    assert (half["depth_factor"], half["width_factor"], half["resolution_factor"]) == (
        1.0954, 1.0488, 1.0724,
    )  # fmt: skip
    assert half["resolution"] == [240, 240]
    assert half["target"] == math.sqrt(2)
    product = PAPER["depth"] * PAPER["width"] ** 2 * PAPER["resolution"] ** 2
    assert report["steps"] == {
        "depth": 1.2, "width": 1.1, "resolution": 1.15, "constraint": float(product),
    }  # fmt: skip
    assert float(product) == 1.92027
    assert "1.2 · 1.1² · 1.15² = 1.92027" in ok("scale", "efficientnet_b0", "--phi", "0")


def test_other_steps_and_a_spec_with_defaults() -> None:
    report = scale_json(
        "efficientnet_b3", "--phi", "2", "--depth-step", "1.1", "--width-step", "1.05",
        "--res-step", "1.2",
    )  # fmt: skip
    row = report["settings"][0]
    # B3's own setting: width 1.2, depth 1.4, 300x300 (its defaults); phi 2 multiplies them
    assert report["base"]["resolution"] == [300, 300]
    assert Fraction(str(row["alpha"])) == Fraction("1.2") * Fraction("1.1025")
    assert Fraction(str(row["depth"])) == Fraction("1.4") * Fraction("1.21")
    assert row["resolution"] == [432, 432]  # 300 x 1.44
    table = analyze("efficientnet_b3", alpha="1.323", depth="1.694", res=432).total
    assert row["mult_adds"] == table.mult_adds
    assert row["growth"] == round(table.mult_adds / analyze("efficientnet_b3").total.mult_adds, 6)


def test_peak_memory_and_latency_are_table_s() -> None:
    report = scale_json("efficientnet_b0", "--phi", "0,2", "--device", "jetson-nano")
    assert report["deployment"]["device"] == "Jetson Nano"
    for row in report["settings"]:
        depth, alpha, side = expected_setting(Fraction(row["phi"]))
        total = table_json(
            "efficientnet_b0", "--alpha", str(alpha), "--depth", str(depth), "--res", str(side),
            "--device", "jetson-nano",
        )  # fmt: skip
        assert row["peak_bytes"] == total["memory"]["peak_bytes"]
        assert row["weight_bytes"] == total["memory"]["weight_bytes"]
        assert row["latency_seconds"] == total["roofline"]["seconds"]


def test_csv_markdown_and_table_hold_the_same_rows() -> None:
    rows = scale_json("efficientnet_b0", "--phi", "0:2")["settings"]
    parsed = list(
        csv.DictReader(io.StringIO(ok("scale", "efficientnet_b0", "--phi", "0:2", "-f", "csv")))
    )
    assert [int(line["mult_adds"]) for line in parsed] == [row["mult_adds"] for row in rows]
    assert [int(line["height"]) for line in parsed] == [row["resolution"][0] for row in rows]
    assert list(parsed[0])[:3] == ["phi", "depth", "alpha"]
    cells = markdown_table(ok("scale", "efficientnet_b0", "--phi", "0:2", "-f", "markdown"))
    assert [cell[4] for cell in cells[1:]] == [f"{row['mult_adds']:,}" for row in rows]
    text = ok("scale", "efficientnet_b0", "--phi", "0:2", "--width", "80")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "992.63M" in text  # phi 1's mult-adds, as the table writes them


def test_largest_phi_within_a_budget() -> None:
    rows = scale_json("efficientnet_b0", "--phi", "0:4")["settings"]
    third = rows[3]["mult_adds"]
    for budget, phi in ((third, 3.0), (third - 1, 2.0), (rows[0]["mult_adds"] - 1, None)):
        report = scale_json("efficientnet_b0", "--phi", "0:4", "--max-mult-adds", str(budget))
        assert report["fit"] == {
            "budget": {"mult_adds": budget, "params": None, "latency_seconds": None},
            "phi": phi,
        }
    params = scale_json("efficientnet_b0", "--phi", "0:4", "--max-params", str(rows[2]["params"]))
    assert params["fit"]["phi"] == 2.0
    lines = ok("scale", "efficientnet_b0", "--phi", "0:4", "--max-mult-adds", str(third))
    assert "◀ the largest φ within" in lines
    marked = [line for line in lines.splitlines() if line.startswith("│") and "◀" in line]
    assert len(marked) == 1
    assert marked[0].split("│")[1].strip() == "3"
    slow = scale_json("efficientnet_b0", "--phi", "0:4", "--device", "jetson-nano")["settings"]
    latency = f"{slow[1]['latency_seconds'] * 1000 * 1.0001}ms"
    fast = scale_json(
        "efficientnet_b0", "--phi", "0:4", "--device", "jetson-nano", "--max-latency", latency
    )
    assert fast["fit"]["phi"] == 1.0
    within = ok(
        "scale", "efficientnet_b0", "--phi", "0:4", "-f", "csv", "--max-mult-adds", str(third)
    )
    assert [line["within_budget"] for line in csv.DictReader(io.StringIO(within))] == [
        "false", "false", "false", "true", "false",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--phi", "1:x"], ["--phi", "'x' is not a number"]),
        (["--phi", "3:1"], ["--phi", "'3:1' stops before it starts"]),
        (["--phi", "21"], ["--phi", "beyond"]),
        (["--phi", "0:20:0.001"], ["--phi", "more than 200 values"]),
        (["--depth-step", "1"], ["depth step must be greater than 1"]),
        (["--res-step", "0.9"], ["resolution step must be greater than 1"]),
        (["--max-latency", "2ms"], ["--max-latency needs --device"]),
        (["--max-mult-adds", "lots"], ["--max-mult-adds", "not a count"]),
    ],
)
def test_usage_errors(args: list[str], words: list[str]) -> None:
    assert_clean_failure(invoke_mbcalc("scale", "efficientnet_b0", *args), 2, *words)


def test_a_refused_setting_stops_with_its_phi(tmp_path: Path) -> None:
    spec = tmp_path / "narrow.yaml"
    spec.write_text("input: {size: 32}\nlayers:\n  - conv: {out: 4}\n  - fc: {out: 10}\n")
    output = tmp_path / "out.json"
    # 1.1^-20 rounds to 0.1486: int(4 x 0.1486) = 0 channels
    result = invoke_mbcalc("scale", str(spec), "--phi", "0,-20", "-o", str(output), "-f", "json")
    assert_clean_failure(result, 1)
    assert one_line_error(result).startswith("phi -20: ")
    assert "leaves no channels" in result.stderr
    assert not output.exists()
    missing = invoke_mbcalc("scale", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 1
    assert one_line_error(missing)


def test_output_file(tmp_path: Path) -> None:
    output = tmp_path / "scale.json"
    assert ok("scale", "efficientnet_b0", "--phi", "0:1", "-o", str(output)) == ""
    assert json.loads(output.read_text())["settings"][1]["resolution"] == [258, 258]


def test_help_names_the_steps_by_what_they_scale() -> None:
    text = " ".join(ok("scale", "--help").split())
    for words in ("--depth-step", "--width-step", "--res-step", "the paper's alpha is the depth"):
        assert words in text


def test_readme_json_example_is_the_report() -> None:
    page = read_page(ROOT / "docs" / "reports.md")
    block = page.blocks_in("The scale report (`mbcalc.scale/1`)", "json")[0]
    example = json.loads(block.text)
    report = scale_json("efficientnet_b0", "--phi", "1", "--max-mult-adds", "2G")
    assert example == report


def test_python_api_is_the_command() -> None:
    scaled = mbcalc.scale("efficientnet_b0", phi="0:2", max_mult_adds="1G")
    assert scaled.to_dict() == scale_json(
        "efficientnet_b0", "--phi", "0:2", "--max-mult-adds", "1G"
    )
    assert scaled.best is not None
    assert scaled.best.phi == 1  # phi 1: 992,629,472 mult-adds; phi 2 is above 1G
    listed = mbcalc.scale("efficientnet_b0", phi=[Fraction(1, 2)]).to_records()
    assert (listed[0]["height"], listed[0]["width"]) == (240, 240)
    with pytest.raises(mbcalc.ArgumentError, match="phi: 25 is beyond"):
        mbcalc.scale("efficientnet_b0", phi=[25])
    with pytest.raises(mbcalc.MbcalcError, match="width step must be greater than 1"):
        mbcalc.scale("efficientnet_b0", width_step=1)
