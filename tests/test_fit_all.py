"""`mbcalc fit --all`: every setting within the budget, the most mult-adds first, in every format.

Expected settings and counts come from MobileNet v1's formulas (`tests.helpers.mobilenet_v1`),
never from `mbcalc fit` itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from typing import Any

import pytest

from tests.helpers.cli import ok
from tests.helpers.mobilenet_v1 import v1_reference

# The paper's grid (Tables 6 and 7) under a budget of 100M mult-adds.
PAPER_GRID = ("--alpha", "1,0.75,0.5,0.25", "--res", "224,192,160,128", "--max-mult-adds", "100M")
ALPHAS = (Fraction(1), Fraction(3, 4), Fraction(1, 2), Fraction(1, 4))
HEIGHTS = (224, 192, 160, 128)
BUDGET = 100_000_000

Setting = tuple[int, int, Fraction, int]  # mult-adds, params, alpha, height


def within_budget() -> list[Setting]:
    """Every setting of the paper's grid within the budget, the most mult-adds first (then
    params, alpha and height), by the formulas."""
    settings = []
    for alpha in ALPHAS:
        for height in HEIGHTS:
            cost = v1_reference(alpha, height, height)
            if cost["mult_adds"] <= BUDGET:
                settings.append((cost["mult_adds"], cost["params"], alpha, height))
    return sorted(settings, reverse=True)


EXPECTED = within_budget()


def fit_output(*args: str) -> str:
    return ok("fit", "mobilenet_v1", *PAPER_GRID, *args)


def test_six_settings_of_the_papers_grid_fit_100m() -> None:
    assert len(EXPECTED) == 6
    assert (EXPECTED[0][2], EXPECTED[0][3]) == (Fraction(1, 2), 160)


def test_json_lists_every_fitting_setting_largest_first() -> None:
    data: dict[str, Any] = json.loads(fit_output("--all", "--format", "json"))
    rows = data["within_budget"]
    listed = [
        (row["mult_adds"], row["params"], Fraction(str(row["alpha"])), row["resolution"][0])
        for row in rows
    ]
    assert listed == EXPECTED
    assert [row["best"] for row in rows] == [True] + [False] * (len(EXPECTED) - 1)
    assert data["fitting"] == len(EXPECTED)
    assert [row["mult_adds"] for row in data["frontier"]] == [EXPECTED[0][0]]
    for row in rows:
        assert row["mult_adds_share"] == round(row["mult_adds"] / BUDGET, 6)


def test_json_without_all_keeps_its_keys() -> None:
    data = json.loads(fit_output("--format", "json"))
    assert "within_budget" not in data
    assert len(data["frontier"]) == 1


def test_csv_has_one_row_per_fitting_setting_largest_first() -> None:
    rows = list(csv.DictReader(io.StringIO(fit_output("--all", "--format", "csv"))))
    listed = [
        (int(row["mult_adds"]), int(row["params"]), Fraction(row["alpha"]), int(row["height"]))
        for row in rows
    ]
    assert listed == EXPECTED
    assert [row["best"] for row in rows] == ["true"] + ["false"] * (len(EXPECTED) - 1)


def test_markdown_lists_every_fitting_setting_largest_first() -> None:
    text = fit_output("--all", "--format", "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "x" in line]
    assert len(rows) == len(EXPECTED)
    for row, (mult_adds, params, _, height) in zip(rows, EXPECTED, strict=True):
        assert f"| {height}x{height} | {mult_adds:,} |" in row
        assert f"| {params:,} |" in row
    assert "**uses most of the budget**" in rows[0]
    assert f"16 settings searched, {len(EXPECTED)} fit, all listed." in text


def test_table_lists_every_fitting_setting_largest_first() -> None:
    text = fit_output("--all")
    inputs = re.findall(r"│ +([\d.]+) │ +(\d+)x\d+ │", text)
    assert [(Fraction(a), int(h)) for a, h in inputs] == [(a, h) for _, _, a, h in EXPECTED]
    assert f"16 settings searched, {len(EXPECTED)} fit, all listed" in text
    assert "use --all" not in text


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_without_all_the_table_says_how_many_fit(fmt: str) -> None:
    text = fit_output("--format", fmt)
    expected = f"{len(EXPECTED)} settings fit: use --all to list them"
    assert (expected in text) == (fmt == "table")
