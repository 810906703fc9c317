"""compare of networks whose units do not correspond: totals and layer types side by side
instead of unrelated units paired; --by-layer pairs them anyway; --summary shows totals alone."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from mbcalc import analyze, build_graph
from mbcalc.core.compare import MIN_CORRESPONDENCE, correspondence
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import ok

TINY = """\
name: tiny
input: {size: 64}
layers:
  - conv: {out: 16, stride: 2}
  - block:
      layers:
        - separable: {out: 32}
        - se: {ratio: 0.25}
  - conv: {out: 64, kernel: 1}
  - pool: {global: true}
  - fc: {out: 10}
"""

# The squeeze-and-excite on 32 channels at ratio 0.25 squeezes to 8: fc 32 -> 8 and 8 -> 32,
# each with a bias.
SE_MULT_ADDS = 32 * 8 + 8 * 32
SE_PARAMS = (32 * 8 + 8) + (8 * 32 + 32)


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return str(path)


def report_of(name: str) -> Any:
    return analyze(build_graph(load_shipped(name)))


def test_the_variants_of_mobilenet_correspond() -> None:
    mobilenet = report_of("mobilenet_v1")
    assert correspondence(mobilenet, report_of("mobilenet_v1_conv")) == 1
    # Shallow MobileNet drops 5 of the 16 units; its 11 all have their counterpart.
    assert correspondence(mobilenet, report_of("mobilenet_v1_shallow")) == Fraction(11, 16)


@pytest.mark.parametrize("other", ["vgg16", "resnet18", "squeezenet1_1", "googlenet"])
def test_networks_of_other_designs_do_not(other: str) -> None:
    assert correspondence(report_of("mobilenet_v1"), report_of(other)) < MIN_CORRESPONDENCE


def test_unrelated_networks_are_shown_by_layer_type(tiny: str) -> None:
    text = ok("compare", tiny, "mobilenet_v2")
    assert "block1.se1" not in text  # no unit of tiny is paired with one of MobileNet v2
    assert "by layer type" in text
    assert "--by-layer" in " ".join(text.split())
    forced = ok("compare", tiny, "mobilenet_v2", "--by-layer")
    assert "block1.se1" in forced
    assert "by layer type" not in forced


def test_the_layer_types_in_json_add_up_to_the_totals(tiny: str) -> None:
    data = json.loads(ok("compare", tiny, "mobilenet_v2", "--format", "json"))
    types = {entry["type"]: entry["costs"] for entry in data["by_type"]}
    assert types["Squeeze-excite"][0]["mult_adds"] == SE_MULT_ADDS
    assert types["Squeeze-excite"][0]["params"] == SE_PARAMS
    assert types["Squeeze-excite"][1] is None  # MobileNet v2 has none
    for k, column in enumerate(data["columns"]):
        for key in ("mult_adds", "params", "bn_params"):
            summed = sum(costs[k][key] for costs in types.values() if costs[k] is not None)
            assert summed == column["total"][key], (k, key)


def test_the_layer_types_in_markdown(tiny: str) -> None:
    text = ok("compare", tiny, "mobilenet_v2", "--format", "markdown")
    assert "--by-layer" in text
    (squeeze,) = [line for line in text.splitlines() if line.startswith("| Squeeze-excite |")]
    cells = [cell.strip() for cell in squeeze.strip("|").split("|")]
    assert cells == ["Squeeze-excite", f"{SE_MULT_ADDS:,}", f"{SE_PARAMS:,}", "—", ""]


@pytest.mark.parametrize(
    "args",
    [
        ("mobilenet_v1", "mobilenet_v1@alpha=0.5"),
        ("mobilenet_v1_conv", "mobilenet_v1"),
        ("mobilenet_v1", "mobilenet_v1_shallow"),
    ],
)
def test_variants_of_one_network_keep_the_unit_rows(args: tuple[str, ...]) -> None:
    data = json.loads(ok("compare", *args, "--format", "json"))
    assert "by_type" not in data
    assert "by layer type" not in ok("compare", *args)
    assert "sep1" in ok("compare", *args)


SUMMARY = ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5", "--summary")


def test_summary_shows_one_line_per_spec_with_ratios() -> None:
    text = ok(*SUMMARY)
    assert "sep1" not in text
    full, half = (json.loads(ok("table", *arg, "--format", "json"))["total"] for arg in (
        ("mobilenet_v1",), ("mobilenet_v1", "--alpha", "0.5"),
    ))  # fmt: skip
    ratio = Fraction(half["mult_adds"], full["mult_adds"])
    assert f"{half['mult_adds']:,} mult-adds" in text
    assert f"{float(ratio):.4f}x" in text


def test_summary_json_has_the_keys_but_the_rows() -> None:
    full = json.loads(ok(*SUMMARY[:-1], "--format", "json"))
    summary = json.loads(ok(*SUMMARY, "--format", "json"))
    assert summary.keys() == full.keys() - {"rows"}
    assert summary["columns"] == full["columns"]


def test_summary_csv_and_markdown_have_the_totals_alone() -> None:
    rows = list(csv.DictReader(io.StringIO(ok(*SUMMARY, "--format", "csv"))))
    assert [row["row"] for row in rows] == ["total", "total"]
    markdown = ok(*SUMMARY, "--format", "markdown")
    assert "sep1" not in markdown
    half = json.loads(ok("table", "mobilenet_v1", "--alpha", "0.5", "--format", "json"))
    (line,) = [line for line in markdown.splitlines() if line.startswith("| mobilenet_v1@")]
    assert f"| {half['total']['mult_adds']:,} |" in line
