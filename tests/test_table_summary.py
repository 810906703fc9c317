"""`mbcalc table --summary`: one line of totals with the setting, in every format; the counts
from the paper's formulas (tests/helpers/mobilenet_v1.py)."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from tests.helpers.cli import ok
from tests.helpers.mobilenet_v1 import v1_activations_by_op, v1_reference

ARGS = ("table", "mobilenet_v1", "--alpha", "0.5", "--res", "160")
EXPECTED = v1_reference(Fraction(1, 2), 160, 160) | {
    "activations": sum(v1_activations_by_op(Fraction(1, 2), 160, 160))
}


def test_the_terminal_shows_one_line_of_totals_with_the_setting() -> None:
    text = ok(*ARGS, "--summary")
    assert text.splitlines() == [
        f"MobileNet v1 · alpha 0.5 · 160x160 · {EXPECTED['mult_adds']:,} mult-adds · "
        f"{EXPECTED['params']:,} params · {EXPECTED['bn_params']:,} BN params · "
        f"{EXPECTED['activations']:,} activations"
    ]


def test_json_has_the_reports_keys_but_its_rows() -> None:
    full = json.loads(ok(*ARGS, "--format", "json"))
    summary = json.loads(ok(*ARGS, "--summary", "--format", "json"))
    assert summary.keys() == full.keys() - {"layers", "units"}
    assert summary["total"]["mult_adds"] == EXPECTED["mult_adds"]
    assert summary["total"]["standard_mult_adds"] == EXPECTED["standard_mult_adds"]
    assert summary["alpha"] == 0.5
    assert summary["resolution"] == [160, 160]


def test_csv_is_a_header_and_one_row() -> None:
    (row,) = csv.DictReader(io.StringIO(ok(*ARGS, "--summary", "--format", "csv")))
    assert (row["alpha"], row["height"], row["width"]) == ("0.5", "160", "160")
    for key in ("mult_adds", "params", "bn_params", "activations", "standard_mult_adds"):
        assert int(row[key]) == EXPECTED[key], key


def test_markdown_is_the_totals_line_and_the_convention() -> None:
    lines = [line for line in ok(*ARGS, "--summary", "--format", "markdown").splitlines() if line]
    assert len(lines) == 2
    assert f"{EXPECTED['mult_adds']:,} mult-adds" in lines[0]
    assert lines[1].startswith("_Convention")


def test_under_a_profile_the_summary_adds_its_totals() -> None:
    """fvcore adds 2 per batch-norm output and the global pool's inputs."""
    layers = json.loads(ok(*ARGS, "--format", "json"))["layers"]
    bn_outputs = sum(
        layer["output"][0] * layer["output"][1] * layer["output"][2]
        for layer in layers
        if layer["bn_params"]
    )
    (pool,) = [layer for layer in layers if layer["op"] == "pool"]
    pool_inputs = pool["input"][0] * pool["input"][1] * pool["input"][2]
    operations = EXPECTED["mult_adds"] + 2 * bn_outputs + pool_inputs
    (row,) = csv.DictReader(io.StringIO(ok(*ARGS, "--summary", "-p", "fvcore", "-f", "csv")))
    assert (row["profile"], int(row["operations"])) == ("fvcore", operations)
    text = " ".join(ok(*ARGS, "--summary", "-p", "fvcore").split())
    assert f"counted {operations:,} operations" in text
    data = json.loads(ok(*ARGS, "--summary", "-p", "fvcore", "--format", "json"))
    assert data["total"]["counted"]["operations"] == operations
